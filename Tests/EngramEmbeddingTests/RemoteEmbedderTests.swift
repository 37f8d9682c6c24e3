import Foundation
import Testing
import EngramEmbedding

/// Answers like OpenAI's /v1/embeddings: embedding i of a request is [i + 1, len(text), 0.5].
@Sendable func fakeEmbeddings(_ body: Data, dimension: Int = 3) -> Data {
    let json = try! JSONSerialization.jsonObject(with: body) as! [String: Any]
    let inputs = json["input"] as! [String]
    // Answer in reverse order: clients must use `index`.
    let items = inputs.enumerated().reversed().map { i, text in
        ["object": "embedding", "index": i, "embedding": [Double(i + 1), Double(text.count), 0.5].prefix(dimension).map { $0 }] as [String: Any]
    }
    return try! JSONSerialization.data(withJSONObject: ["object": "list", "data": items, "model": json["model"]!])
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value }
}

@Suite("Remote embedder")
struct RemoteEmbedderTests {
    func embedder(_ server: LocalHTTPServer, dimension: Int = 3, batch: Int = 2, retries: Int = 3) throws -> RemoteEmbedder {
        var c = RemoteEmbedder.Configuration(baseURL: server.baseURL, model: "test-model", dimension: dimension, apiKey: "sk-test")
        c.batchSize = batch
        c.maxRetries = retries
        c.initialBackoff = .milliseconds(10)
        c.timeout = .seconds(5)
        return try RemoteEmbedder(c)
    }

    @Test("batches, keeps input order by index, sends the model and the bearer key")
    func batching() async throws {
        let server = try LocalHTTPServer { _, _, body in (200, [:], fakeEmbeddings(body)) }
        defer { server.stop() }
        let out = try await embedder(server).embed(["a", "bb", "ccc", "dddd", "eeeee"])
        #expect(out.map { $0[1] } == [1, 2, 3, 4, 5])
        #expect(out.map { $0[0] } == [1, 2, 1, 2, 1])  // index within each batch of 2
        let requests = server.received
        #expect(requests.count == 3 && requests.allSatisfy { $0.path == "/v1/embeddings" })
        #expect(requests[0].headers["authorization"] == "Bearer sk-test")
        let first = try JSONSerialization.jsonObject(with: requests[0].body) as! [String: Any]
        #expect(first["model"] as? String == "test-model" && (first["input"] as? [String]) == ["a", "bb"])
    }

    @Test("retries 429 and 5xx with backoff, then succeeds")
    func retries() async throws {
        let calls = Counter()
        let server = try LocalHTTPServer { _, _, body in
            switch calls.next() {
            case 1: (429, ["Retry-After": "0"], Data("{\"error\": {\"message\": \"slow down\"}}".utf8))
            case 2: (503, [:], Data("{}".utf8))
            default: (200, [:], fakeEmbeddings(body))
            }
        }
        defer { server.stop() }
        let out = try await embedder(server, batch: 10).embed(["x"])
        #expect(out == [[1, 1, 0.5]])
        #expect(server.received.count == 3)
    }

    @Test("gives up after the retry budget with the endpoint's status and message")
    func exhausted() async throws {
        let server = try LocalHTTPServer { _, _, _ in (500, [:], Data("{\"error\": {\"message\": \"boom\"}}".utf8)) }
        defer { server.stop() }
        await #expect(throws: EmbeddingError.remote(status: 500, message: "boom")) {
            try await embedder(server, retries: 2).embed(["x"])
        }
        #expect(server.received.count == 3)
    }

    @Test("client errors are not retried")
    func clientError() async throws {
        let server = try LocalHTTPServer { _, _, _ in (401, [:], Data("{\"error\": {\"message\": \"bad key\"}}".utf8)) }
        defer { server.stop() }
        await #expect(throws: EmbeddingError.remote(status: 401, message: "bad key")) { try await embedder(server).embed(["x"]) }
        #expect(server.received.count == 1)
    }

    @Test("malformed answers are typed errors: wrong count, wrong dimension, not JSON")
    func malformed() async throws {
        let server = try LocalHTTPServer { path, _, body in (200, [:], fakeEmbeddings(body, dimension: 2)) }
        defer { server.stop() }
        await #expect(throws: EmbeddingError.self) { try await embedder(server).embed(["x"]) }
        let garbage = try LocalHTTPServer { _, _, _ in (200, [:], Data("not json".utf8)) }
        defer { garbage.stop() }
        await #expect(throws: EmbeddingError.invalidResponse("no data array")) { try await embedder(garbage).embed(["x"]) }
    }

    @Test("an unreachable endpoint is a transport error, after retries")
    func unreachable() async throws {
        var c = RemoteEmbedder.Configuration(baseURL: URL(string: "http://127.0.0.1:9/v1")!, model: "m", dimension: 3, apiKey: nil)
        c.maxRetries = 1
        c.initialBackoff = .milliseconds(10)
        await #expect(throws: EmbeddingError.self) { try await RemoteEmbedder(c).embed(["x"]) }
    }

    @Test("a configuration it cannot work with is a typed error, not a trap")
    func badConfiguration() {
        for (dimension, batch, retries) in [(0, 2, 1), (-3, 2, 1), (70_000, 2, 1), (3, 0, 1), (3, 2, -1)] {
            var c = RemoteEmbedder.Configuration(baseURL: URL(string: "http://127.0.0.1:9/v1")!, model: "m", dimension: dimension, apiKey: nil)
            c.batchSize = batch
            c.maxRetries = retries
            #expect(throws: EmbeddingError.self) { try RemoteEmbedder(c) }
        }
    }
}
