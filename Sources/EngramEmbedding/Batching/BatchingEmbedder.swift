import Foundation

/// An embedder whose work can run on the caller's thread (a local model).
public protocol SynchronousEmbedder: Embedder {
    /// One embedding per text, in order, computed on the calling thread.
    func embedSync(_ texts: [String]) -> [[Float]]
}

/// Runs a local embedder on its own thread and embeds concurrent requests together.
///
/// Embedding is CPU-bound: run inline, it would hold a thread of Swift's cooperative pool (two on
/// a two-core machine) for milliseconds and stall every other task. Here callers only enqueue and
/// suspend; one worker thread takes everything pending (up to ``maxBatch`` texts) and embeds it in
/// one call, so fifty concurrent queries cost a few batched passes instead of fifty single ones.
public final class BatchingEmbedder: Embedder, Sendable {
    /// The embedder that does the work, one batch at a time on the worker thread.
    public let base: any SynchronousEmbedder
    /// The base embedder's dimension.
    public var dimension: Int { base.dimension }
    /// The base embedder's model name.
    public var modelName: String { base.modelName }
    private let queue: WorkQueue

    /// - Parameter maxBatch: most texts embedded in one pass.
    public init(_ base: any SynchronousEmbedder, maxBatch: Int = 64) {
        self.base = base
        queue = WorkQueue(maxBatch: max(1, maxBatch))
        let (queue, base) = (queue, base)
        let thread = Thread { queue.serve(base) }
        thread.name = "engram.embedder"
        thread.start()
    }

    deinit { queue.close() }

    /// What the worker has done and has waiting, for monitoring.
    public struct Statistics: Sendable, Equatable {
        /// Texts waiting for the worker now.
        public var queuedTexts: Int
        /// Passes the worker has run.
        public var batches: Int
        /// Texts it has embedded in them.
        public var texts: Int
    }

    /// The worker's figures now.
    public var statistics: Statistics { queue.statistics }

    /// Embeds `texts` in the next batch the worker runs, with the texts of concurrent callers.
    /// - Throws: the base embedder's errors.
    public func embed(_ texts: [String]) async throws -> [[Float]] {
        guard !texts.isEmpty else { return [] }
        return await withCheckedContinuation { queue.submit(texts, $0) }
    }
}

/// The requests waiting for the worker thread.
private final class WorkQueue: @unchecked Sendable {  // `pending` and `closed` are guarded by `condition`
    struct Request {
        let texts: [String]
        let continuation: CheckedContinuation<[[Float]], Never>
    }

    let maxBatch: Int
    private let condition = NSCondition()
    private var pending: [Request] = []
    private var closed = false
    private var done = (batches: 0, texts: 0)

    init(maxBatch: Int) { self.maxBatch = maxBatch }

    func submit(_ texts: [String], _ continuation: CheckedContinuation<[[Float]], Never>) {
        condition.lock()
        pending.append(Request(texts: texts, continuation: continuation))
        condition.signal()
        condition.unlock()
    }

    var statistics: BatchingEmbedder.Statistics {
        condition.lock()
        defer { condition.unlock() }
        return .init(queuedTexts: pending.reduce(0) { $0 + $1.texts.count }, batches: done.batches, texts: done.texts)
    }

    func close() {
        condition.lock()
        closed = true
        condition.signal()
        condition.unlock()
    }

    /// The worker's loop: takes what is pending (up to `maxBatch` texts), embeds it in one pass,
    /// answers each request; returns once closed and drained.
    func serve(_ embedder: any SynchronousEmbedder) {
        while let batch = next() {
            let vectors = embedder.embedSync(batch.flatMap(\.texts))
            var offset = 0
            for request in batch {
                request.continuation.resume(returning: Array(vectors[offset..<offset + request.texts.count]))
                offset += request.texts.count
            }
        }
    }

    private func next() -> [Request]? {
        condition.lock()
        defer { condition.unlock() }
        while pending.isEmpty && !closed { condition.wait() }
        guard !pending.isEmpty else { return nil }
        var batch: [Request] = [], count = 0
        while let first = pending.first, batch.isEmpty || count + first.texts.count <= maxBatch {
            batch.append(pending.removeFirst())
            count += first.texts.count
        }
        done.batches += 1
        done.texts += count
        return batch
    }
}
