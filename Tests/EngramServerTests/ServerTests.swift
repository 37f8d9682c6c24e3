import EngramEmbedding
import EngramMemory
import EngramServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import EngramTestSupport
import Testing

/// Words hashed into 32 dimensions: texts sharing words are similar.
struct HashedWordsEmbedder: SynchronousEmbedder {
    let dimension = 32
    let modelName = "test-hashed-words"
    func embed(_ texts: [String]) async throws -> [[Float]] { embedSync(texts) }
    func embedSync(_ texts: [String]) -> [[Float]] {
        texts.map { text in
            var v = [Float](repeating: 0, count: 32)
            // FNV-1a, not hashValue: that one is seeded per process, so collisions would differ from run to run.
            for word in text.lowercased().split(whereSeparator: { !$0.isLetter }) {
                v[Int(word.utf8.reduce(UInt64(14_695_981_039_346_656_037)) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 } % 32)] += 1
            }
            if v.allSatisfy({ $0 == 0 }) { v[0] = 1 }
            return v
        }
    }
}

/// A server on a fresh store with an unrestricted key ("admin") and one restricted to alice; its
/// record is `database` if given, else `backend`'s.
func withServer(_ backend: StoreBackend, database: String? = nil, extractor: MemoryExtractor? = nil,
                _ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
    let dir = scratchDirectory("server")
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let keysFile = dir + "/keys.json"
    try Data(#"{"admin": {}, "alice-key": {"user_id": ["alice"]}}"#.utf8).write(to: URL(fileURLWithPath: keysFile))
    let store = try await MemoryStore.open(directory: dir, embedder: HashedWordsEmbedder(),
                                           database: (database ?? backend.database(for: dir)).map { try PostgresLocation(url: $0) })
    let server = try MemoryServer(store: store, configuration: .init(keys: try APIKeys.load(environmentKey: nil, file: keysFile), extractor: extractor))
    try await server.application().test(.router, body)
}

extension TestClientProtocol {
    /// Sends `json` with `key` and returns the status and the decoded body.
    func call(_ method: HTTPRequest.Method, _ uri: String, key: String? = "admin", json: String? = nil) async throws -> (HTTPResponse.Status, Any) {
        var headers: HTTPFields = [:]
        if let key { headers[.authorization] = "Token \(key)" }
        return try await execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) }) { response in
            (response.status, try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView), options: .fragmentsAllowed))
        }
    }
}

func results(_ body: Any) -> [[String: Any]] { (body as? [String: Any])?["results"] as? [[String: Any]] ?? [] }

@Suite("Memory server")
struct ServerTests {
    @Test("ping, with and without the trailing slash; keys are required and checked", arguments: StoreBackend.available)
    func pingAndAuth(backend: StoreBackend) async throws {
        try await withServer(backend) { client in
            for path in ["/v1/ping/", "/v1/ping"] {
                let (status, body) = try await client.call(.get, path)
                #expect(status == .ok && (body as? [String: Any])?["status"] as? String == "ok")
            }
            #expect(try await client.call(.get, "/v1/ping/", key: nil).0 == .unauthorized)
            let (status, body) = try await client.call(.get, "/v1/ping/", key: "admin2")
            #expect(status == .unauthorized && (body as? [String: Any])?["detail"] is String)
        }
    }

    @Test("add → search → list → get → update → history → delete → delete all, on the 2.x routes", arguments: StoreBackend.available)
    func lifecycle(backend: StoreBackend) async throws {
        try await withServer(backend) { client in
            let (status, added) = try await client.call(.post, "/v3/memories/add/", json: """
                {"messages": [{"role": "user", "content": "likes green tea"}, {"role": "assistant", "content": "ok"},
                              {"role": "user", "content": "works night shifts"}], "user_id": "alice", "metadata": {"topic": "life"}}
                """)
            #expect(status == .ok && results(added).map { $0["memory"] as? String } == ["likes green tea", "works night shifts"])
            #expect(results(added).allSatisfy { $0["event"] as? String == "ADD" && $0["user_id"] as? String == "alice" })
            let id = try #require(results(added).first?["id"] as? String)
            _ = try await client.call(.post, "/v3/memories/add/", json: #"{"messages": "bob likes green tea too", "user_id": "bob"}"#)

            let (_, found) = try await client.call(.post, "/v3/memories/search/", json: #"{"query": "green tea", "filters": {"user_id": "alice"}, "top_k": 5}"#)
            #expect(results(found).first?["id"] as? String == id && results(found).allSatisfy { $0["user_id"] as? String == "alice" })
            #expect(results(found).first?["score_details"] is [String: Any])

            let (_, page) = try await client.call(.post, "/v3/memories/?page=2&page_size=1", json: #"{"filters": {"AND": [{"user_id": "alice"}]}}"#)
            let object = try #require(page as? [String: Any])
            #expect(object["count"] as? Int == 2 && results(page).count == 1 && object["previous"] is String && object["next"] is NSNull)

            #expect(try await client.call(.get, "/v1/memories/\(id)/").1 is [String: Any])
            let (updatedStatus, updated) = try await client.call(.put, "/v1/memories/\(id)/", json: #"{"text": "likes black tea"}"#)
            #expect(updatedStatus == .ok && (updated as? [String: Any])?["memory"] as? String == "likes black tea")
            let (_, history) = try await client.call(.get, "/v1/memories/\(id)/history/")
            #expect((history as? [[String: Any]])?.map { $0["event"] as? String } == ["ADD", "UPDATE"])

            #expect(try await client.call(.delete, "/v1/memories/\(id)/").0 == .ok)
            #expect(try await client.call(.get, "/v1/memories/\(id)/").0 == .notFound)
            #expect(try await client.call(.delete, "/v1/memories/?user_id=alice").0 == .ok)
            let (_, left) = try await client.call(.post, "/v3/memories/", json: #"{"filters": {"user_id": "alice"}}"#)
            #expect((left as? [String: Any])?["count"] as? Int == 0)
            let (_, bobs) = try await client.call(.post, "/v3/memories/", json: #"{"filters": {"user_id": "bob"}}"#)
            #expect((bobs as? [String: Any])?["count"] as? Int == 1)
        }
    }

    @Test("the 1.x client's routes and Mem0's OSS server routes", arguments: StoreBackend.available)
    func olderRoutes(backend: StoreBackend) async throws {
        try await withServer(backend) { client in
            #expect(try await client.call(.post, "/v1/memories/", json: #"{"messages": [{"role": "user", "content": "one"}], "user_id": "u"}"#).0 == .ok)
            #expect(try await client.call(.post, "/memories", json: #"{"messages": [{"role": "user", "content": "two"}], "user_id": "u"}"#).0 == .ok)
            for path in ["/v2/memories/search/", "/search"] {
                let (status, body) = try await client.call(.post, path, json: #"{"query": "one", "filters": {"user_id": "u"}}"#)
                #expect(status == .ok && results(body).count == 2, "\(path)")
            }
            let (status, body) = try await client.call(.post, "/v2/memories/", json: #"{"filters": {"user_id": "u"}}"#)
            #expect(status == .ok && results(body).count == 2)
            #expect(try await client.call(.get, "/memories?user_id=u").0 == .ok)
            let (_, entities) = try await client.call(.get, "/v1/entities/")
            #expect(results(entities).map { $0["name"] as? String } == ["u"])
        }
    }

    @Test("a restricted key neither sees nor changes another user's memories, by any route", arguments: StoreBackend.available)
    func restrictedKey(backend: StoreBackend) async throws {
        try await withServer(backend) { client in
            let (_, bob) = try await client.call(.post, "/v3/memories/add/", json: #"{"messages": "bob's secret", "user_id": "bob"}"#)
            let bobID = try #require(results(bob).first?["id"] as? String)
            #expect(try await client.call(.post, "/v3/memories/add/", key: "alice-key", json: #"{"messages": "alice's note", "user_id": "alice"}"#).0 == .ok)
            #expect(try await client.call(.post, "/v3/memories/add/", key: "alice-key", json: #"{"messages": "forged", "user_id": "bob"}"#).0 == .forbidden)
            #expect(try await client.call(.post, "/v3/memories/add/", key: "alice-key", json: #"{"messages": "no user", "agent_id": "x"}"#).0 == .forbidden)
            for (method, path) in [(HTTPRequest.Method.get, "/v1/memories/\(bobID)/"), (.delete, "/v1/memories/\(bobID)/"),
                                   (.get, "/v1/memories/\(bobID)/history/"), (.put, "/v1/memories/\(bobID)/")] {
                #expect(try await client.call(method, path, key: "alice-key", json: #"{"text": "x"}"#).0 == .notFound, "\(method) \(path)")
            }
            #expect(try await client.call(.post, "/v3/memories/search/", key: "alice-key", json: #"{"query": "secret", "filters": {"user_id": "bob"}}"#).0 == .forbidden)
            #expect(try await client.call(.post, "/v3/memories/", key: "alice-key", json: #"{"filters": {"user_id": "bob"}}"#).0 == .forbidden)
            #expect(try await client.call(.delete, "/v1/memories/?user_id=bob", key: "alice-key").0 == .forbidden)
            // MCP: the key's own user by default; another's is refused; an unrestricted key names one.
            #expect(try await client.call(.post, "/mcp?user_id=bob", key: "alice-key", json: "{}").0 == .forbidden)
            #expect(try await client.call(.post, "/mcp", key: "admin", json: "{}").0 == .unprocessableContent)
            #expect(try await client.call(.post, "/mcp", key: nil, json: "{}").0 == .unauthorized)
            // alice's scope with a filter naming bob: allowed, and empty.
            let (_, mixed) = try await client.call(.post, "/v3/memories/search/", key: "alice-key",
                                                   json: #"{"query": "secret", "user_id": "alice", "filters": {"user_id": "bob"}}"#)
            #expect(results(mixed).isEmpty)
            let (_, entities) = try await client.call(.get, "/v1/entities/", key: "alice-key")
            #expect(results(entities).map { $0["name"] as? String } == ["alice"])
            #expect(try await client.call(.get, "/v1/memories/\(bobID)/").0 == .ok)
        }
    }

    @Test("HEAD is answered as GET without a body", arguments: StoreBackend.available)
    func head(backend: StoreBackend) async throws {
        try await withServer(backend) { client in
            for (path, status) in [("/v1/ping/", HTTPResponse.Status.ok), ("/v1/memories/\(UUID().uuidString)/", .notFound)] {
                try await client.execute(uri: path, method: .head, headers: [.authorization: "Token admin"]) { response in
                    #expect(response.status == status && response.body.readableBytes == 0, "\(path)")
                }
            }
        }
    }

    @Test("exports: create records scope, filters and schema; get by id or by scope reads the memories now (never a deleted one), within the key's reach",
          arguments: StoreBackend.available)
    func exports(backend: StoreBackend) async throws {
        try await withServer(backend) { client in
            for text in ["likes green tea", "drives a truck", "reads books at night"] {
                _ = try await client.call(.post, "/v3/memories/add/", json: #"{"messages": "\#(text)", "user_id": "alice", "metadata": {"n": \#(text.count)}}"#)
            }
            _ = try await client.call(.post, "/v3/memories/add/", json: #"{"messages": "bob's secret", "user_id": "bob"}"#)
            #expect(try await client.call(.post, "/v1/exports/", json: #"{"user_id": "alice"}"#).0 == .unprocessableContent)  // no schema
            #expect(try await client.call(.post, "/v1/exports/", key: "alice-key", json: #"{"schema": {}, "user_id": "bob"}"#).0 == .forbidden)
            let (status, created) = try await client.call(.post, "/v1/exports/", key: "alice-key",
                                                          json: #"{"schema": {"type": "object", "title": "Prefs"}, "filters": {"AND": [{"user_id": "alice"}, {"n": {"gt": 14}}]}}"#)
            let id = try #require((created as? [String: Any])?["id"] as? String)
            #expect(status == .ok && UUID(uuidString: id) != nil)
            func fetch(_ json: String, key: String = "alice-key") async throws -> (HTTPResponse.Status, [String: Any]) {
                let (status, body) = try await client.call(.post, "/v1/exports/get/", key: key, json: json)
                return (status, body as? [String: Any] ?? [:])
            }
            let (got, export) = try await fetch(#"{"memory_export_id": "\#(id)"}"#)
            #expect(got == .ok && export["id"] as? String == id && export["count"] as? Int == 2)
            #expect(Set(results(export).compactMap { $0["memory"] as? String }) == ["likes green tea", "reads books at night"])
            #expect((export["schema"] as? [String: Any])?["title"] as? String == "Prefs")
            // Read when fetched: a memory deleted since is not in it.
            let tea = try #require(results(export).first { $0["memory"] as? String == "likes green tea" }?["id"] as? String)
            #expect(try await client.call(.delete, "/v1/memories/\(tea)/").0 == .ok)
            #expect(try await fetch(#"{"memory_export_id": "\#(id)"}"#).1["count"] as? Int == 1)
            // By scope: the newest request for it; a scope without one is exported now.
            #expect(try await fetch(#"{"filters": {"user_id": "alice"}}"#).1["count"] as? Int == 2)
            let bobs = try await fetch(#"{"user_id": "bob"}"#, key: "admin")
            #expect(bobs.0 == .ok && bobs.1["count"] as? Int == 1 && bobs.1["id"] is NSNull)
            // Out of reach or unknown: not found / forbidden, never another tenant's memories.
            let (_, bobExport) = try await client.call(.post, "/v1/exports/", json: #"{"schema": "x", "user_id": "bob"}"#)
            let bobID = try #require((bobExport as? [String: Any])?["id"] as? String)
            #expect(try await fetch(#"{"memory_export_id": "\#(bobID)"}"#).0 == .notFound)
            #expect(try await fetch(#"{"memory_export_id": "\#(UUID().uuidString)"}"#).0 == .notFound)
            #expect(try await fetch(#"{"user_id": "bob"}"#).0 == .forbidden)
        }
    }

    @Test("healthz and readyz answer without a key; metrics need one, report requests by route and status and a search's parts, and move as requests arrive; every response carries X-Request-Id")
    func operations() async throws {
        try await withServer(.sqlite) { client in
            for path in ["/healthz", "/readyz"] {
                #expect(try await client.call(.get, path, key: nil).0 == .ok, "\(path)")
            }
            #expect(try await client.call(.get, "/metrics", key: nil).0 == .unauthorized)
            func scrape() async throws -> String {
                try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Token admin"]) { response in
                    #expect(response.status == .ok && response.headers[.contentType]?.hasPrefix("text/plain") == true)
                    return String(buffer: response.body)
                }
            }
            func sample(_ text: String, _ prefix: String) -> Double {
                text.split(separator: "\n").filter { $0.hasPrefix(prefix) }.compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
            }
            _ = try await client.call(.post, "/v3/memories/add/", json: #"{"messages": "likes green tea", "user_id": "alice"}"#)
            let before = try await scrape()
            for _ in 0..<3 { _ = try await client.call(.post, "/v3/memories/search/", json: #"{"query": "tea", "user_id": "alice"}"#) }
            _ = try await client.call(.post, "/v3/memories/search/", json: #"{"user_id": "alice"}"#)  // no query: 422
            let after = try await scrape()
            let ok = #"engram_http_requests_total{route="/v3/memories/search",method="POST",status="200"}"#
            let bad = #"engram_http_requests_total{route="/v3/memories/search",method="POST",status="422"}"#
            #expect(sample(after, ok) - sample(before, ok) == 3, "\(after)")
            #expect(sample(after, bad) - sample(before, bad) == 1)
            for part in ["parse", "embed", "search", "encode"] {
                #expect(sample(after, #"engram_request_part_duration_seconds_count{route="/v3/memories/search",part="\#(part)"}"#) == 3, "\(part)")
            }
            #expect(sample(after, "engram_memories") == 1)
            try await client.execute(uri: "/v1/ping/", method: .get, headers: [.authorization: "Token admin"]) { response in
                #expect((response.headers[HTTPField.Name("X-Request-Id")!]?.count ?? 0) >= 16)
            }
        }
    }

    @Test("metrics report tenants and the batching embedder's queue, passes and texts, as running totals")
    func embedderMetrics() async throws {
        let store = try await MemoryStore.open(directory: scratchDirectory("server-embed"), embedder: BatchingEmbedder(HashedWordsEmbedder()))
        let server = try MemoryServer(store: store, configuration: .init())
        try await server.application().test(.router) { client in
            func scrape() async throws -> String {
                try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            }
            func value(_ text: String, _ name: String) -> Double? {
                text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { $0.split(separator: " ").last.flatMap { Double($0) } }
            }
            for user in ["alice", "bob"] {
                _ = try await client.call(.post, "/v3/memories/add/", json: #"{"messages": "likes tea", "user_id": "\#(user)"}"#)
            }
            let first = try await scrape()
            _ = try await client.call(.post, "/v3/memories/search/", json: #"{"query": "tea", "user_id": "alice"}"#)
            let second = try await scrape()
            #expect(value(first, "engram_tenants") == 2 && value(first, "engram_embed_queue_texts") == 0)
            #expect(value(first, "engram_embed_texts_total") == 2 && value(second, "engram_embed_texts_total") == 3)
            #expect((value(second, "engram_embed_batches_total") ?? 0) >= 3)
        }
        try await store.close()
    }

    @Test("while its store opens, a server answers /healthz, and 503 on /readyz and every route that needs the store; then it serves")
    func opening() async throws {
        let dir = scratchDirectory("server-opening")
        let server = try MemoryServer(store: nil, configuration: .init())
        try await server.application().test(.router) { client in
            #expect(try await client.call(.get, "/healthz", key: nil).0 == .ok)
            let (status, body) = try await client.call(.get, "/readyz", key: nil)
            #expect(status == .serviceUnavailable && (body as? [String: Any])?["status"] as? String == "opening")
            for (method, path) in [(HTTPRequest.Method.post, "/v3/memories/add/"), (.post, "/v3/memories/search/"), (.get, "/v1/entities/"),
                                   (.post, "/mcp?user_id=alice")] {
                #expect(try await client.call(method, path, json: #"{"messages": "x", "query": "x", "user_id": "alice"}"#).0 == .serviceUnavailable, "\(path)")
            }
            server.served.opened(try await MemoryStore.open(directory: dir, embedder: HashedWordsEmbedder()))
            #expect(try await client.call(.post, "/v3/memories/add/", json: #"{"messages": "likes tea", "user_id": "alice"}"#).0 == .ok)
            var ready = false
            for _ in 0..<100 where !ready {
                ready = try await client.call(.get, "/readyz", key: nil).0 == .ok
                if !ready { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(ready)
            try await server.served.ifOpen?.close()
        }
    }

    @Test("the client's routes Engram does not offer answer 501 saying so, not 404")
    func notOffered() async throws {
        try await withServer(.sqlite) { client in
            for (method, path) in [(HTTPRequest.Method.post, "/v1/summary/"), (.get, "/v2/entities/user/alice/profile/"), (.get, "/v2/profiles/settings/"),
                                   (.post, "/v2/profiles/jobs/"), (.get, "/api/v1/orgs/organizations/engram/projects/default/"),
                                   (.delete, "/api/v1/webhooks/7/"), (.post, "/v1/feedback/")] {
                let (status, body) = try await client.call(method, path, json: "{}")
                #expect(status == .notImplemented && ((body as? [String: Any])?["detail"] as? String)?.hasPrefix("Engram does not offer") == true, "\(path)")
            }
        }
    }

    @Test("bad requests get {detail} with the right status", arguments: StoreBackend.available)
    func errors(backend: StoreBackend) async throws {
        try await withServer(backend) { client in
            #expect(try await client.call(.post, "/v3/memories/search/", json: "not json").0 == .badRequest)
            #expect(try await client.call(.post, "/v3/memories/add/", json: #"{"messages": "no scope"}"#).0 == .unprocessableContent)
            #expect(try await client.call(.post, "/v3/memories/search/", json: #"{"query": "x", "filters": {"user_id": "a", "n": {"gtt": 1}}}"#).0 == .unprocessableContent)
            #expect(try await client.call(.post, "/v3/memories/search/", json: #"{"query": " ", "filters": {"user_id": "a"}}"#).0 == .unprocessableContent)
            #expect(try await client.call(.post, "/v3/memories/", json: #"{"filters": {"user_id": "a"}, "page_size": 0}"#).0 == .unprocessableContent)
            // Booleans are not numbers; an expiry in the past would store a memory no one can see.
            for body in [#"{"query": "x", "filters": {"user_id": "a"}, "top_k": true}"#, #"{"query": "x", "filters": {"user_id": "a"}, "threshold": false}"#] {
                #expect(try await client.call(.post, "/v3/memories/search/", json: body).0 == .unprocessableContent, "\(body)")
            }
            #expect(try await client.call(.post, "/v3/memories/?page=true", json: #"{"filters": {"user_id": "a"}, "page_size": true}"#).0 == .unprocessableContent)
            #expect(try await client.call(.post, "/v3/memories/add/", json: #"{"messages": "x", "user_id": "a", "expiration_date": "2001-01-01"}"#).0 == .unprocessableContent)
            #expect(try await client.call(.get, "/v1/memories/not-a-uuid/").0 == .notFound)
            #expect(try await client.call(.get, "/v1/memories/\(UUID().uuidString)/").0 == .notFound)
            // A NUL in a scope id or a text, a blank id: refused, never stored under another tenant.
            #expect(try await client.call(.post, "/v3/memories/add/", json: #"{"messages": "x", "user_id": "victim\u0000attacker"}"#).0 == .unprocessableContent)
            #expect(try await client.call(.post, "/v3/memories/add/", json: #"{"messages": "visible\u0000hidden", "user_id": "a"}"#).0 == .unprocessableContent)
            #expect(try await client.call(.post, "/v3/memories/add/", json: #"{"messages": "x", "user_id": "  "}"#).0 == .unprocessableContent)
            // An update onto a text the scope holds: 409, naming the other memory.
            let (_, two) = try await client.call(.post, "/v3/memories/add/", json: #"{"messages": [{"role": "user", "content": "tea"}, {"role": "user", "content": "coffee"}], "user_id": "a", "dedup_threshold": 1}"#)
            let ids = results(two).compactMap { $0["id"] as? String }
            let (conflict, detail) = try await client.call(.put, "/v1/memories/\(ids[1])/", json: #"{"text": "tea"}"#)
            #expect(conflict == .conflict && ((detail as? [String: Any])?["detail"] as? String)?.contains(ids[0]) == true)
            // A delete with filters deletes what they pass, never more: none of these passes "tea" or "coffee".
            for filters in [#"{"user_id": "a", "category": "x"}"#, #"{"AND": [{"user_id": "a"}, {"user_id": "b"}]}"#] {
                let (status, answer) = try await client.call(.delete, "/v1/memories/", json: #"{"filters": \#(filters)}"#)
                #expect(status == .ok && (answer as? [String: Any])?["deleted"] as? Int == 0, "\(filters)")
            }
            #expect(try await client.call(.delete, "/v1/memories/", json: #"{"filters": {"OR": [{"user_id": "a"}]}}"#).0 == .unprocessableContent)
            let (_, kept) = try await client.call(.post, "/v3/memories/", json: #"{"filters": {"user_id": "a"}}"#)
            #expect((kept as? [String: Any])?["count"] as? Int == 2)
            _ = try await client.call(.post, "/v3/memories/add/", json: #"{"messages": "tagged", "user_id": "a", "metadata": {"category": "x"}}"#)
            let (_, one) = try await client.call(.delete, "/v1/memories/?user_id=a", json: #"{"filters": {"category": "x"}}"#)
            #expect((one as? [String: Any])?["deleted"] as? Int == 1)
            let (_, left) = try await client.call(.post, "/v3/memories/", json: #"{"filters": {"user_id": "a"}}"#)
            #expect((left as? [String: Any])?["count"] as? Int == 2)
            #expect(try await client.call(.delete, "/v1/memories/", json: #"{"filters": {"user_id": "a"}}"#).0 == .ok)
            let big = #"{"messages": ""# + String(repeating: "x", count: 2 << 20) + #"", "user_id": "a"}"#
            let (status, body) = try await client.call(.post, "/v3/memories/add/", json: big)
            #expect(status == .contentTooLarge && (body as? [String: Any])?["detail"] is String)
        }
    }

    @Test("with an extraction model, a conversation becomes its facts; a failed or malformed extraction stores nothing", arguments: StoreBackend.available)
    func extraction(backend: StoreBackend) async throws {
        // A stand-in for an OpenAI-compatible chat endpoint.
        let llm = Router()
        llm.post("v1/chat/completions") { request, _ -> Response in
            var request = request
            let text = String(buffer: try await request.collectBody(upTo: 1 << 20))
            let content: String
            if text.contains("explode") { return Response(status: .internalServerError) }
            // The decision step: held memories and new facts, numbered; decide by their words.
            if text.contains("You keep a user") {
                let body = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
                let listing = ((body?["messages"] as? [[String: Any]])?.last?["content"] as? String) ?? ""
                let parts = listing.components(separatedBy: "\n\nNew facts:\n")
                func numbered(_ block: String) -> [String] { block.split(separator: "\n").compactMap { $0.split(separator: ": ", maxSplits: 1).last.map(String.init) } }
                let held = numbered(parts[0].replacingOccurrences(of: "Held memories:\n", with: "")), facts = numbered(parts[1])
                let decisions: [[String: Any]] = facts.enumerated().map { i, fact in
                    if fact.contains("garbled") { return ["fact": 99, "event": "ADD"] }
                    if fact.contains("Porto"), let n = held.firstIndex(where: { $0.contains("Lisbon") }) { return ["fact": i, "event": "UPDATE", "id": n, "text": fact] }
                    if fact.contains("meat"), let n = held.firstIndex(where: { $0.contains("vegetarian") }) { return ["fact": i, "event": "DELETE", "id": n] }
                    if let n = held.firstIndex(of: fact) { return ["fact": i, "event": "NONE", "id": n] }
                    return ["fact": i, "event": "ADD", "text": fact]
                }
                let decided = String(decoding: try JSONSerialization.data(withJSONObject: ["memory": decisions]), as: UTF8.self)
                let answer = try JSONSerialization.data(withJSONObject: ["choices": [["message": ["role": "assistant", "content": decided]]]])
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: answer)))
            }
            if text.contains("Porto") { content = #"{"facts": ["Lives in Porto", "Eats meat now", "Likes jazz", "Is vegetarian"]}"# }
            else if text.contains("garble") { content = #"{"facts": ["garbled fact"]}"# }
            // The request's guidance reaches the instructions: answer with what they say.
            else if let range = text.range(of: "Never extract: ") {
                content = #"{"facts": ["guided: "# + String(text[range.upperBound...].prefix { $0.isLetter || $0 == " " }) + #""]}"#
            }
            else if text.contains("malformed") { content = "Sure! Here are the facts." }
            else if text.contains("hello") { content = #"{"facts": []}"# }
            else { content = "```json\n{\"facts\": [\"Is vegetarian\", \"Lives in Lisbon\"]}\n```" }
            let answer = try JSONSerialization.data(withJSONObject: ["choices": [["message": ["role": "assistant", "content": content]]]])
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: answer)))
        }
        try await Application(router: llm, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { llmClient in
            var configuration = MemoryExtractor.Configuration(baseURL: URL(string: "http://127.0.0.1:\(try #require(llmClient.port))/v1")!,
                                                              model: "stand-in", apiKey: nil)
            configuration.maxRetries = 0
            try await withServer(backend, extractor: MemoryExtractor(configuration)) { client in
                func add(_ content: String, infer: Bool? = nil) async throws -> (HTTPResponse.Status, Any) {
                    let infer = infer.map { ", \"infer\": \($0)" } ?? ""
                    return try await client.call(.post, "/v3/memories/add/",
                                                 json: #"{"messages": [{"role": "user", "content": "\#(content)"}], "user_id": "alice"\#(infer)}"#)
                }
                let (status, added) = try await add("I don't eat meat and I moved to Lisbon")
                #expect(status == .ok && results(added).map { $0["memory"] as? String } == ["Is vegetarian", "Lives in Lisbon"])
                #expect(results(try await add("hello there").1).isEmpty)
                #expect(try await add("malformed please").0 == .badGateway)
                #expect(try await add("explode").0 == .badGateway)
                #expect(results(try await add("kept as said", infer: false).1).map { $0["memory"] as? String } == ["kept as said"])
                let (guided, facts) = try await client.call(.post, "/v3/memories/add/", json: #"{"messages": "I like cats", "user_id": "alice", "excludes": "health data", "custom_instructions": "be brief"}"#)
                #expect(guided == .ok && results(facts).map { $0["memory"] as? String } == ["guided: health data"])
                let (_, all) = try await client.call(.post, "/v3/memories/", json: #"{"filters": {"user_id": "alice"}}"#)
                #expect((all as? [String: Any])?["count"] as? Int == 4)
                // Decisions against what the scope holds: UPDATE supersedes, DELETE closes, NONE keeps, ADD stores.
                let (moved, decided) = try await add("I moved to Porto, eat meat now and like jazz")
                #expect(moved == .ok && results(decided).map { "\($0["event"]!) \($0["memory"]!)" }
                        == ["UPDATE Lives in Porto", "DELETE Is vegetarian", "ADD Likes jazz", "NONE Is vegetarian"], "\(decided)")
                let (_, now) = try await client.call(.post, "/v3/memories/", json: #"{"filters": {"user_id": "alice"}}"#)
                #expect(Set(results(now).compactMap { $0["memory"] as? String }) == ["Lives in Porto", "Likes jazz", "kept as said", "guided: health data"])
                let (_, every) = try await client.call(.post, "/v3/memories/", json: #"{"filters": {"user_id": "alice"}, "include_superseded": true}"#)
                #expect((every as? [String: Any])?["count"] as? Int == 6)
                #expect(try await add("garble it").0 == .badGateway)
                let (_, after) = try await client.call(.post, "/v3/memories/", json: #"{"filters": {"user_id": "alice"}, "include_superseded": true}"#)
                #expect((after as? [String: Any])?["count"] as? Int == 6)
                // Against immutable memories the same decisions change nothing held: UPDATE adds beside, DELETE is NONE.
                for fact in ["Lives in Lisbon", "Is vegetarian"] {
                    _ = try await client.call(.post, "/v3/memories/add/", json: #"{"messages": "\#(fact)", "user_id": "ivy", "infer": false, "immutable": true}"#)
                }
                let (_, kept) = try await client.call(.post, "/v3/memories/add/",
                                                      json: #"{"messages": "I moved to Porto, eat meat now and like jazz", "user_id": "ivy"}"#)
                #expect(results(kept).map { "\($0["event"]!) \($0["memory"]!)" } == ["ADD Lives in Porto", "NONE Is vegetarian", "ADD Likes jazz", "NONE Is vegetarian"],
                        "\(kept)")
                let (_, ivy) = try await client.call(.post, "/v3/memories/", json: #"{"filters": {"user_id": "ivy"}, "include_superseded": true}"#)
                #expect(Set(results(ivy).compactMap { $0["memory"] as? String }) == ["Lives in Lisbon", "Is vegetarian", "Lives in Porto", "Likes jazz"]
                        && results(ivy).allSatisfy { $0["valid_to"] is NSNull })
            }
        }
    }

    @Test("without keys the server refuses a non-loopback address")
    func loopbackOnlyWithoutKeys() throws {
        let store = try MemoryStore(directory: scratchDirectory("server"), embedder: HashedWordsEmbedder())
        #expect(throws: ServerError.self) { try MemoryServer(store: store, configuration: .init(host: "0.0.0.0", keys: .none)) }
        #expect(throws: Never.self) { try MemoryServer(store: store, configuration: .init(host: "127.0.0.1", keys: .none)) }
    }
}

@Suite("Memory server: time and truth")
struct ServerValidityTests {
    @Test("supersedes / valid_from on add; as_of, include_superseded, recency_half_life_days on search and list; their errors", arguments: StoreBackend.available)
    func validity(backend: StoreBackend) async throws {
        try await withServer(backend) { client in
            let add = { (json: String) in try await client.call(.post, "/v1/memories/", json: json) }
            let (_, first) = try await add(#"{"messages": "lives in Lisbon", "user_id": "alice", "infer": false, "valid_from": "2025-01-01"}"#)
            let lisbon = try #require(results(first).first?["id"] as? String)
            let (status, second) = try await add(#"{"messages": "lives in Paris", "user_id": "alice", "infer": false, "valid_from": "2026-06-01T12:00:00Z", "supersedes": "\#(lisbon)"}"#)
            let paris = try #require(results(second).first)
            #expect(status == .ok && paris["valid_from"] as? String == "2026-06-01T12:00:00.000Z" && paris["valid_to"] is NSNull && paris["superseded_by"] is NSNull)
            let (_, closed) = try await client.call(.get, "/v1/memories/\(lisbon)/")
            #expect((closed as? [String: Any])?["superseded_by"] as? String == paris["id"] as? String
                    && (closed as? [String: Any])?["valid_to"] as? String == "2026-06-01T12:00:00.000Z")
            func search(_ extra: String) async throws -> (HTTPResponse.Status, [String]) {
                let (status, body) = try await client.call(.post, "/v2/memories/search/", json: #"{"query": "lives", "filters": {"user_id": "alice"}\#(extra)}"#)
                return (status, results(body).compactMap { $0["memory"] as? String })
            }
            #expect(try await search("").1 == ["lives in Paris"])
            #expect(try await search(#", "as_of": "2026-01-01""#).1 == ["lives in Lisbon"])
            #expect(try await search(#", "as_of": "2024-01-01""#).1 == [])
            #expect(Set(try await search(#", "include_superseded": true"#).1) == ["lives in Paris", "lives in Lisbon"])
            let (_, decayed) = try await client.call(.post, "/v2/memories/search/", json: #"{"query": "lives", "filters": {"user_id": "alice"}, "recency_half_life_days": 7}"#)
            #expect(((results(decayed).first?["score_details"] as? [String: Any])?["recency"] as? Double).map { $0 > 0 && $0 < 1 } == true)
            let (_, listed) = try await client.call(.post, "/v2/memories/", json: #"{"filters": {"user_id": "alice"}, "as_of": "2025-06-01"}"#)
            #expect(results(listed).compactMap { $0["memory"] as? String } == ["lives in Lisbon"])
            let (_, all) = try await client.call(.get, "/memories?user_id=alice&include_superseded=true")
            #expect(results(all).count == 2)
            // Recall: a dated context within the budget, current facts only unless as_of says otherwise.
            let (recalled, recall) = try await client.call(.post, "/v1/memories/recall/", json: #"{"query": "where does she live", "filters": {"user_id": "alice"}, "budget_tokens": 50}"#)
            let body = try #require(recall as? [String: Any])
            #expect(recalled == .ok && body["context"] as? String == "[2026-06-01] lives in Paris" && (body["tokens"] as? Int).map { $0 <= 50 } == true
                    && (body["memories"] as? [[String: Any]])?.count == 1)
            let (_, past) = try await client.call(.post, "/v1/memories/recall/", json: #"{"query": "where", "user_id": "alice", "budget_tokens": 50, "as_of": "2025-02-01"}"#)
            #expect((past as? [String: Any])?["context"] as? String == "[2025-01-01] lives in Lisbon")
            for bad in [#""budget_tokens": 0"#, #""lambda": 2, "budget_tokens": 9"#, #""user_id": "bob", "budget_tokens": 9"#] {
                let (status, _) = try await client.call(.post, "/v1/memories/recall/", key: "alice-key", json: #"{"query": "x", "user_id": "alice", \#(bad)}"#)
                #expect(status == .unprocessableContent || status == .forbidden, "\(bad)")
            }
            #expect(try await client.call(.post, "/v1/memories/recall/", json: #"{"query": "x", "user_id": "alice"}"#).0 == .unprocessableContent)
            // Several scopes at once: user_id in a list, or an OR of scopes; a restricted key only within its own.
            _ = try await add(#"{"messages": "bob lives in Oslo", "user_id": "bob", "infer": false}"#)
            let (_, both) = try await client.call(.post, "/v2/memories/search/", json: #"{"query": "lives", "filters": {"user_id": {"in": ["alice", "bob"]}}}"#)
            #expect(Set(results(both).compactMap { $0["user_id"] as? String }) == ["alice", "bob"])
            let (_, either) = try await client.call(.post, "/v2/memories/search/", json: #"{"query": "lives", "filters": {"OR": [{"user_id": "bob"}, {"user_id": "carol"}]}}"#)
            #expect(results(either).compactMap { $0["memory"] as? String } == ["bob lives in Oslo"])
            #expect(try await client.call(.post, "/v2/memories/search/", key: "alice-key",
                                          json: #"{"query": "lives", "filters": {"user_id": {"in": ["alice", "bob"]}}}"#).0 == .forbidden)
            #expect(try await client.call(.post, "/v2/memories/search/", key: "alice-key",
                                          json: #"{"query": "lives", "filters": {"OR": [{"user_id": "alice"}, {"topic": "x"}]}}"#).0 == .unprocessableContent)
            // Mem0 write fields: timestamp is valid_from; refused fields are named; custom_instructions needs a model.
            let (_, stamped) = try await add(#"{"messages": "likes jazz", "user_id": "gus", "infer": false, "timestamp": 1700000000}"#)
            #expect(results(stamped).first?["valid_from"] as? String == "2023-11-14T22:13:20.000Z")
            // immutable: kept, reported, and every change or delete by id refused with 409 (raw HTTP; mem0ai in mem0_e2e.py).
            let (_, kept) = try await add(#"{"messages": "is allergic to peanuts", "user_id": "gus", "infer": false, "immutable": true}"#)
            let fixed = try #require(results(kept).first)
            #expect(fixed["immutable"] as? Bool == true && results(stamped).first?["immutable"] as? Bool == false)
            #expect(try await client.call(.put, "/v1/memories/\(fixed["id"]!)/", json: #"{"text": "likes peanuts"}"#).0 == .conflict)
            #expect(try await client.call(.delete, "/v1/memories/\(fixed["id"]!)/").0 == .conflict)
            #expect(try await add(#"{"messages": "likes peanuts", "user_id": "gus", "infer": false, "supersedes": "\#(fixed["id"]!)"}"#).0 == .conflict)
            #expect(try await add(#"{"messages": "x", "user_id": "gus", "immutable": "yes"}"#).0 == .unprocessableContent)
            let (_, still) = try await client.call(.get, "/v1/memories/\(fixed["id"]!)/")
            #expect((still as? [String: Any])?["memory"] as? String == "is allergic to peanuts")
            // Erasing the scope still removes immutable memories: delete_all, and delete_users / reset (entities).
            for (user, erase) in [("hal", "/v1/memories/?user_id=hal"), ("ida", "/v2/entities/user/ida/")] {
                let (_, held) = try await add(#"{"messages": "is allergic to shellfish", "user_id": "\#(user)", "infer": false, "immutable": true}"#)
                let id = try #require(results(held).first?["id"] as? String)
                #expect(try await client.call(.delete, erase).0 == .ok, "\(erase)")
                #expect(try await client.call(.get, "/v1/memories/\(id)/").0 == .notFound, "\(erase)")
            }
            for field in [#""custom_categories": [{"a": "b"}]"#, #""structured_data_schema": {}"#, #""custom_instructions": "only food""#] {
                let (status, body) = try await add(#"{"messages": "x y", "user_id": "gus", \#(field)}"#)
                let name = String(field.dropFirst().prefix { $0 != "\"" })
                #expect(status == .unprocessableContent && ((body as? [String: Any])?["detail"] as? String)?.contains(name) == true, "\(field) \(body)")
            }
            let (_, jazz) = try await client.call(.get, "/v1/memories/\(results(stamped)[0]["id"]!)/")
            #expect(try await client.call(.put, "/v1/memories/\((jazz as! [String: Any])["id"]!)/", json: #"{"timestamp": 5}"#).0 == .unprocessableContent)
            // Errors: each named.
            #expect(try await search(#", "as_of": "2026-01-01", "include_superseded": true"#).0 == .unprocessableContent)
            #expect(try await search(#", "recency_half_life_days": 0"#).0 == .unprocessableContent)
            #expect(try await search(#", "as_of": "yesterday""#).0 == .unprocessableContent)
            #expect(try await add(#"{"messages": "lives in Rome", "user_id": "alice", "infer": false, "supersedes": "\#(lisbon)"}"#).0 == .conflict)
            #expect(try await add(#"{"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}], "user_id": "alice", "infer": false, "supersedes": "\#(paris["id"]!)"}"#).0 == .unprocessableContent)
            #expect(try await add(#"{"messages": "lives in Rome", "user_id": "bob", "infer": false, "supersedes": "\#(paris["id"]!)"}"#).0 == .notFound)
            #expect(try await client.call(.post, "/v1/memories/", key: "alice-key",
                                          json: #"{"messages": "x", "user_id": "alice", "infer": false, "supersedes": "not-an-id"}"#).0 == .unprocessableContent)
        }
    }
}
