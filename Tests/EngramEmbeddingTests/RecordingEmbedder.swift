import EngramEmbedding
import Foundation

/// A stand-in model for the embedder wrappers' tests: records every call's texts, answers with a
/// deterministic vector per text, and can be made slow (so concurrent requests queue up) or fail
/// on a given text.
final class RecordingEmbedder: SynchronousEmbedder, @unchecked Sendable {  // `asked` is guarded by `lock`
    let dimension = 2
    let modelName = "recording"
    private let delay: TimeInterval
    private let failingText: String?
    private let lock = NSLock()
    private var asked: [[String]] = []

    /// - Parameters:
    ///   - delay: how long each call takes.
    ///   - failingText: a call containing this text throws.
    init(delay: TimeInterval = 0, failingText: String? = nil) {
        self.delay = delay
        self.failingText = failingText
    }

    /// The texts of every call so far, in order.
    var calls: [[String]] { lock.withLock { asked } }
    var batchSizes: [Int] { calls.map(\.count) }

    func embedSync(_ texts: [String]) -> [[Float]] {
        lock.withLock { asked.append(texts) }
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        return texts.map { [Float($0.utf8.count), Float($0.utf8.reduce(0) { $0 &* 31 &+ Int($1) } % 10_007)] }
    }

    func embed(_ texts: [String]) async throws -> [[Float]] {
        let vectors = embedSync(texts)
        if let failingText, texts.contains(failingText) { throw EmbeddingError.remote(status: 500, message: "down") }
        return vectors
    }
}
