import EngramIndex
import EngramSupport

/// The buffers one memory search works in, handed to the next search when it ends (through a
/// pool), so that after warm-up a search in one partition allocates only its hits.
final class MemorySearchScratch: @unchecked Sendable {  // one search at a time, handed over through the pool's mutex
    /// Posting lists being intersected (empty between searches: they hold a snapshot's lists).
    var lists: [SortedRows.List] = []
    /// The candidate rows.
    var rows: [Int64] = []
    /// The nearest candidates.
    var semantic: [SearchResult] = []
    /// The final ranking.
    var ranked: [ScoreFusion.Ranked] = []

    private static let pool = Locked<[MemorySearchScratch]>([])
    /// A buffer grown past this many elements (a search over a very large scope) is let go, not kept.
    private static let keptCapacity = 1 << 16

    /// Runs `body` with a scratch no other search is using.
    static func with<R>(_ body: (MemorySearchScratch) throws -> R) rethrows -> R {
        let scratch = pool.withLock { $0.popLast() } ?? MemorySearchScratch()
        defer {
            scratch.clear()
            pool.withLock { $0.append(scratch) }
        }
        return try body(scratch)
    }

    private func clear() {
        func empty<T>(_ buffer: inout [T]) {
            if buffer.capacity > Self.keptCapacity { buffer = [] } else { buffer.removeAll(keepingCapacity: true) }
        }
        empty(&lists)
        empty(&rows)
        empty(&semantic)
        empty(&ranked)
    }
}
