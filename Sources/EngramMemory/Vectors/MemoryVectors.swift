import EngramIndex
import EngramSupport

/// Every memory's vector, by row, for exact scans and for building graphs: one store-wide
/// collection, because thousands of tenants' vectors in one contiguous, mapped file cost one
/// open and one checkpoint file where a file per tenant would cost thousands.
///
/// Two flat indexes, so that a checkpoint writes what changed rather than every vector again
/// (see ``Segment``): the **base**, as last written whole to a checkpoint file (then only removed
/// from, the removed rows listed beside it), and the **tail**, the rows added since, written whole
/// to a small file of its own at each checkpoint. When the tail and the removals outgrow a
/// quarter of the base, the next checkpoint folds the tail into the base and writes the base again.
///
/// Thread safety: every method may run beside any other; searches read both parts under a
/// readers-writer lock that only a fold takes exclusively.
final class MemoryVectors: Sendable {
    struct Parts: Sendable {
        var base: FlatIndex
        var tail: FlatIndex
    }

    /// What the checkpoint files hold of the vectors now: the segment a checkpoint may list again.
    struct Saved: Sendable {
        /// The base's file, at the position it was written at; nil before the first checkpoint.
        var base: String?
        var basePosition: Int64 = 0
        /// Rows removed from the base since it was written.
        var removed: [Int64] = []
        /// The tail's file; nil when the tail is empty or changed since it was written.
        var tail: String?
    }

    let dimension: Int
    /// Replaced only by a fold (the tail, by an empty one).
    let parts: RWLocked<Parts>
    let saved = Locked(Saved())

    init(dimension: Int, base: FlatIndex? = nil, tail: FlatIndex? = nil) throws {
        self.dimension = dimension
        parts = RWLocked(Parts(base: try base ?? FlatIndex(dimension: dimension, metric: .cosine),
                               tail: try tail ?? FlatIndex(dimension: dimension, metric: .cosine)))
    }

    var base: FlatIndex { parts.read(\.base) }
    var count: Int { parts.read { $0.base.count + $0.tail.count } }
    var liveRows: [Int64] { parts.read { ($0.base.liveIDs + $0.tail.liveIDs).map(Int64.init) } }

    /// The vector of `row`; nil when it is not held.
    func vector(_ row: Int64) -> [Float]? {
        let parts = parts.read { $0 }
        return (try? parts.tail.vector(id: UInt64(row))) ?? (try? parts.base.vector(id: UInt64(row)))
    }

    /// Adds new rows (to the tail: the base's file stays valid).
    func add(_ rows: [Int64], vectors: VectorMatrix) throws {
        try parts.read(\.tail).add(vectors, ids: rows.map(UInt64.init))
        saved.withLock { $0.tail = nil }
    }

    /// Removes `row` if held; a row of the base is listed as removed, so that the base's file stays usable.
    func remove(_ row: Int64) throws {
        let parts = parts.read { $0 }
        if parts.tail.contains(id: UInt64(row)) {
            try parts.tail.remove(id: UInt64(row))
            saved.withLock { $0.tail = nil }
        } else if parts.base.contains(id: UInt64(row)) {
            try parts.base.remove(id: UInt64(row))
            saved.withLock { $0.removed.append(row) }
        }
    }

    /// The cosine similarities of `query` with the vectors of `rows` (rows not held are left out).
    func scores(_ query: [Float], rows: [Int64]) throws -> [SearchResult] {
        let ids = rows.map(UInt64.init)
        let parts = parts.read { $0 }
        // A fold may briefly hold a row in both parts: callers keep the first score of a row.
        return try parts.tail.scores(query, ids: ids) + parts.base.scores(query, ids: ids)
    }

    /// The `k` rows among `rows` nearest to `query`, appended to `results` best first (ties to
    /// the smaller row). A row a fold holds in both parts for a moment counts once.
    func search(_ query: [Float], k: Int, rows: [Int64], appendingTo results: inout [SearchResult]) throws {
        let parts = parts.read { $0 }
        // Rows are never negative: their bits are the ids the indexes hold.
        try rows.withUnsafeBufferPointer { rows in
            try rows.withMemoryRebound(to: UInt64.self) { ids in
                try parts.base.nearest(query, k: k, among: ids, alsoIn: parts.tail, appendingTo: &results)
            }
        }
    }
}
