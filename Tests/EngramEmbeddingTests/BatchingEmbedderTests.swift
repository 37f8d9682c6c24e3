import EngramEmbedding
import Foundation
import Testing

/// Embeds a text as [its length, its first byte], recording the size of each call.
final class RecordingEmbedder: SynchronousEmbedder, @unchecked Sendable {  // `calls` is guarded by `lock`
    let dimension = 2
    let modelName = "recording"
    private let lock = NSLock()
    private var calls: [Int] = []

    var batchSizes: [Int] { lock.withLock { calls } }

    func embedSync(_ texts: [String]) -> [[Float]] {
        lock.withLock { calls.append(texts.count) }
        Thread.sleep(forTimeInterval: 0.01)  // long enough for concurrent requests to queue up
        return texts.map { [Float($0.utf8.count), Float($0.utf8.first ?? 0)] }
    }

    func embed(_ texts: [String]) async throws -> [[Float]] { embedSync(texts) }
}

@Suite("Batching embedder")
struct BatchingEmbedderTests {
    @Test("concurrent requests are embedded together, each answered with its own vectors in order")
    func batchesConcurrentRequests() async throws {
        let base = RecordingEmbedder()
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
