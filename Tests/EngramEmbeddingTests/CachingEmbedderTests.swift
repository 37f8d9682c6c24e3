import EngramEmbedding
import EngramSupport
import Foundation
import Testing

@Suite("Caching embedder")
struct CachingEmbedderTests {
    @Test("the least recently used embedding is the one forgotten; hits never reach the model")
    func leastRecentlyUsed() async throws {
        let base = RecordingEmbedder(failingText: "fail")
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
        let base = RecordingEmbedder(failingText: "fail")
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
        let base = RecordingEmbedder(failingText: "fail")
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
