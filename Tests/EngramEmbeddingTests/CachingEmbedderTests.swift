import EngramEmbedding
import EngramSupport
import Foundation
import Testing

/// Embeds a text as [its length, a hash of it], recording every text it is asked for; fails on "fail".
final class TextRecordingEmbedder: Embedder, @unchecked Sendable {  // `asked` is guarded by `lock`
    let dimension = 2
    let modelName = "text-recording"
    private let lock = NSLock()
    private var asked: [[String]] = []

    var calls: [[String]] { lock.withLock { asked } }

    func embed(_ texts: [String]) async throws -> [[Float]] {
        lock.withLock { asked.append(texts) }
        if texts.contains("fail") { throw EmbeddingError.remote(status: 500, message: "down") }
        return texts.map { [Float($0.utf8.count), Float($0.utf8.reduce(0) { $0 &* 31 &+ Int($1) } % 10_007)] }
    }
}

@Suite("Caching embedder")
struct CachingEmbedderTests {
    @Test("the least recently used embedding is the one forgotten; hits never reach the model")
    func leastRecentlyUsed() async throws {
        let base = TextRecordingEmbedder()
        let cache = CachingEmbedder(base, capacity: 3)
        for text in ["a", "b", "c", "a", "d", "b", "a", "c"] { _ = try await cache.embed([text]) }
        // After a, b, c and a hit on a, d evicts b; b then evicts c; a hits; c is computed again.
        #expect(base.calls == [["a"], ["b"], ["c"], ["d"], ["b"], ["c"]])
        let figures = cache.statistics
        #expect(figures.hits == 2 && figures.misses == 6 && figures.entries == 3 && figures.capacity == 3)
        #expect(try await cache.embed(["a"]) == base.embed(["a"]))
    }

    @Test("agrees with a list model of LRU over random lookups")
    func randomOracle() async throws {
        let base = TextRecordingEmbedder()
        let cache = CachingEmbedder(base, capacity: 8)
        var recency: [String] = []  // the model: most recent last
        var expectedMisses: [[String]] = []
        var rng = SplitMix64(seed: 7)
        for _ in 0..<2_000 {
            let text = "t\(Int.random(in: 0..<20, using: &rng))"
            if let i = recency.firstIndex(of: text) { recency.remove(at: i) } else {
                expectedMisses.append([text])
                if recency.count == 8 { recency.removeFirst() }
            }
            recency.append(text)
            let vector = try await cache.embed([text])
            #expect(vector == [[Float(text.utf8.count), Float(text.utf8.reduce(0) { $0 &* 31 &+ Int($1) } % 10_007)]])
        }
        #expect(base.calls == expectedMisses)
        #expect(cache.statistics.hits == 2_000 - expectedMisses.count && cache.statistics.entries == 8)
    }

    @Test("a batch asks the model only for what is missing, in order, and is not stored; a failure stores nothing")
    func batchesAndFailures() async throws {
        let base = TextRecordingEmbedder()
        let cache = CachingEmbedder(base, capacity: 16)
        _ = try await cache.embed(["q"])
        let mixed = try await cache.embed(["x", "q", "y"])
        #expect(mixed == (try await base.embed(["x", "q", "y"])))
        _ = try await cache.embed(["x"])  // not stored by the batch: computed now
        await #expect(throws: EmbeddingError.self) { try await cache.embed(["fail"]) }
        await #expect(throws: EmbeddingError.self) { try await cache.embed(["fail"]) }
        #expect(base.calls == [["q"], ["x", "y"], ["x", "q", "y"], ["x"], ["fail"], ["fail"]])
        #expect(cache.statistics.entries == 2 && cache.statistics.hitRate > 0)
    }
}
