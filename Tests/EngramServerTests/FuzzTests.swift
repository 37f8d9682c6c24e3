import EngramMemory
import EngramServer
import EngramSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import EngramTestSupport
import Testing

/// Hostile and careless requests, generated: every field of every write and read route gets
/// values of random types, strings with NUL, control characters, lone surrogates (as JSON
/// escapes), huge and non-integral numbers, deep and wide nesting.
@Suite("REST fuzz")
struct FuzzTests {
    struct Generator {
        var rng: SplitMix64

        mutating func pick<T>(_ options: [T]) -> T { options[Int.random(in: 0..<options.count, using: &rng)] }

        /// A JSON text for one value of a random type.
        mutating func value(depth: Int = 0) -> String {
            switch Int.random(in: 0..<(depth > 2 ? 6 : 8), using: &rng) {
            case 0: return "null"
            case 1: return pick(["true", "false"])
            case 2: return pick(["0", "-1", "1e308", "-1e308", "3.5", "123456789012345678901234567890", "1e-320", "7"])
            case 3, 4: return string()
            case 5: return pick(["\"alice\"", "\"bob\"", "\"user1\""])
            case 6: return "[" + (0..<Int.random(in: 0..<4, using: &rng)).map { _ in value(depth: depth + 1) }.joined(separator: ", ") + "]"
            default:
                return "{" + (0..<Int.random(in: 0..<4, using: &rng)).map { _ in "\(string()): \(value(depth: depth + 1))" }.joined(separator: ", ") + "}"
            }
        }

        /// A JSON string literal, often hostile.
        mutating func string() -> String {
            pick(["\"\"", "\" \"", "\"a\\u0000b\"", "\"\\u0001\\u001f\"", "\"\\ud800\"", "\"\\udfff x\"", "\"ü 😀 名\"", "\"alice\"",
                  "\"AND\"", "\"OR\"", "\"eq\"", "\"in\"", "\"user_id\"", "\"metadata\"", "\"" + String(repeating: "x", count: 600) + "\"",
                  "\"tea\"", "\"likes green tea\"", "\"\\\"quoted\\\"\""])
        }

        /// A request body built from the fields the routes read, each present or not, of any type.
        mutating func body() -> String {
            let fields = ["messages", "user_id", "agent_id", "run_id", "metadata", "filters", "query", "top_k", "limit", "threshold", "page",
                          "page_size", "infer", "mode", "text", "memory", "expiration_date", "memories", "memory_id"]
            let chosen = fields.filter { _ in Bool.random(using: &rng) }
            return "{" + chosen.map { "\"\($0)\": \(value())" }.joined(separator: ", ") + "}"
        }
    }

    @Test("random bodies on every route: no 5xx, and after a reopen the record and the view agree memory for memory",
          arguments: StoreBackend.available)
    func noServerErrors(backend: StoreBackend) async throws {
        let dir = scratchDirectory("fuzz")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let database = try backend.database(for: dir).map { try PostgresLocation(url: $0) }
        let store = try await MemoryStore.open(directory: dir, embedder: HashedWordsEmbedder(), database: database)
        let server = try MemoryServer(store: store, configuration: .init(keys: try APIKeys.load(environmentKey: "admin", file: nil)))
        let added = Locked<[String]>([])
        try await server.application().test(.router) { client in
            var generator = Generator(rng: SplitMix64(seed: 2026))
            var seen: [String] = []
            defer { added.withLock { $0 = seen } }
            for i in 0..<1_500 {
                let id = seen.isEmpty || generator.pick([true, false]) ? UUID().uuidString : generator.pick(seen)
                let (method, path): (HTTPRequest.Method, String) = generator.pick([
                    (.post, "/v3/memories/add/"), (.post, "/v1/memories/"), (.post, "/v3/memories/search/"), (.post, "/v3/memories/"),
                    (.put, "/v1/memories/\(id)/"), (.delete, "/v1/memories/\(id)/"), (.get, "/v1/memories/\(id)/history/"),
                    (.delete, "/v1/memories/"), (.put, "/v1/batch/"), (.delete, "/v1/batch/"), (.get, "/v1/entities/"),
                    (.post, "/v3/memories/add/"), (.post, "/v3/memories/add/"),
                ])
                // Some adds well formed, so that there is something to update, search and delete.
                let body = i % 3 == 0 && path.hasSuffix("add/")
                    ? #"{"messages": \#(generator.string()), "user_id": \#(generator.pick(["\"alice\"", "\"bob\"", "\"ü 😀\""])), "metadata": {"k": \#(generator.value(depth: 3))}}"#
                    : generator.body()
                try await client.execute(uri: path, method: method, headers: [.authorization: "Token admin"], body: ByteBuffer(string: body)) { response in
                    #expect(response.status.code < 500, "\(method) \(path) \(body) → \(response.status) \(String(buffer: response.body))")
                    if path.hasSuffix("add/"), response.status == .ok,
                       let object = try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any],
                       let results = object["results"] as? [[String: Any]] {
                        seen += results.compactMap { $0["id"] as? String }
                    }
                }
            }
        }
        try await store.close()
        // The record (gets) and the view (lists) of a reopened store hold the same memories.
        let reopened = try await MemoryStore.open(directory: dir, embedder: HashedWordsEmbedder(), database: database)
        var listed: [UUID: Memory] = [:]
        for entity in reopened.entities() {
            let scope = switch entity.field {
            case "user_id": MemoryScope(userID: entity.id)
            case "agent_id": MemoryScope(agentID: entity.id)
            default: MemoryScope(runID: entity.id)
            }
            for memory in try reopened.list(scope: scope, limit: 100_000, includeExpired: true).memories { listed[memory.id] = memory }
        }
        for text in Set(added.withLock { $0 }) {
            let id = try #require(UUID(uuidString: text))
            let stored = try? await reopened.get(id)
            #expect(stored == listed[id], "\(text): record \(String(describing: stored)) view \(String(describing: listed[id]))")
        }
        #expect(!listed.isEmpty)
        try await reopened.close()
    }
}
