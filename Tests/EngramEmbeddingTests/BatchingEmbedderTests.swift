import EngramEmbedding
import Foundation
import Testing

@Suite("Batching embedder")
struct BatchingEmbedderTests {
    @Test("concurrent requests are embedded together, each answered with its own vectors in order")
    func batchesConcurrentRequests() async throws {
        let base = RecordingEmbedder(delay: 0.01)  // slow enough for concurrent requests to queue up
        let batching = BatchingEmbedder(base, maxBatch: 16)
        let requests = (0..<40).map { i in (0..<(i % 3 + 1)).map { j in String(repeating: "x", count: i + j) + "\(i)" } }
        let answers = try await withThrowingTaskGroup(of: (Int, [[Float]]).self) { group in
            for (i, texts) in requests.enumerated() { group.addTask { (i, try await batching.embed(texts)) } }
            var out: [Int: [[Float]]] = [:]
            for try await (i, vectors) in group { out[i] = vectors }
            return out
        }
        for (i, texts) in requests.enumerated() { #expect(answers[i] == base.embedSync(texts), "request \(i)") }
        let sizes = base.batchSizes.dropLast(requests.count)  // the reference calls above come last
        #expect(sizes.reduce(0, +) == requests.map(\.count).reduce(0, +))
        #expect(sizes.allSatisfy { $0 <= 16 } && sizes.count < requests.count)  // batched, never above the cap
    }
}
