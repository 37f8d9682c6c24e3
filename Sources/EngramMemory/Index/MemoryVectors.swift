import EngramSupport
import EngramIndex

/// Every memory's vector, by row, for exact scans: the flat side of a ``MemoryIndex``.
///
/// Two flat indexes, so that a checkpoint writes what changed rather than every vector again:
/// the **base**, as last written whole to a checkpoint file (then only removed from, the removed
/// rows listed beside it), and the **tail**, the rows added since, written whole to a small file
/// of its own at each checkpoint. When the tail and the removals outgrow a quarter of the base,
/// the next checkpoint folds the tail into the base and writes the base again (see
/// ``save(to:generation:)``), so a checkpoint's flat writing stays proportional to the changes
/// while the files never hold more than 1.25 times the live vectors.
final class MemoryVectors: @unchecked Sendable {  // `parts` and `files` are locked; FlatIndex is thread-safe
    struct Parts {
        var base: FlatIndex
        var tail: FlatIndex
    }

    /// The checkpoint files that hold the vectors as they are now.
    struct Files: Equatable {
        /// The base's file, which still lists the `removed` rows.
        var base: String?
        var removed: [Int64] = []
        /// The tail's file; nil when the tail is empty or changed since it was written.
        var tail: String?
    }

    let dimension: Int
    /// Replaced only by a fold (the tail, by an empty one); searches take both under the read lock.
    let parts: RWLocked<Parts>
    let files = Locked(Files())

    init(dimension: Int, base: FlatIndex? = nil, tail: FlatIndex? = nil) throws {
        self.dimension = dimension
        parts = RWLocked(Parts(base: try base ?? FlatIndex(dimension: dimension, metric: .cosine),
                               tail: try tail ?? FlatIndex(dimension: dimension, metric: .cosine)))
    }

    var base: FlatIndex { parts.read(\.base) }
    var count: Int { parts.read { $0.base.count + $0.tail.count } }
    var liveRows: [Int64] { parts.read { ($0.base.liveIDs + $0.tail.liveIDs).map(Int64.init) } }

    func contains(_ row: Int64) -> Bool { parts.read { $0.tail.contains(id: UInt64(row)) || $0.base.contains(id: UInt64(row)) } }

    /// The vector of `row`; nil when it is not held.
    func vector(_ row: Int64) -> [Float]? {
        let parts = parts.read { $0 }
        return (try? parts.tail.vector(id: UInt64(row))) ?? (try? parts.base.vector(id: UInt64(row)))
    }

    /// Adds new rows (to the tail: the base's file stays valid).
    func add(_ rows: [Int64], vectors: VectorMatrix) throws {
        try parts.read(\.tail).add(vectors, ids: rows.map(UInt64.init))
        files.withLock { $0.tail = nil }
    }

    /// Removes `row` if held; a row of the base is listed as removed, so that the base's file stays usable.
    func remove(_ row: Int64) throws {
        let parts = parts.read { $0 }
        if parts.tail.contains(id: UInt64(row)) {
            try parts.tail.remove(id: UInt64(row))
            files.withLock { $0.tail = nil }
        } else if parts.base.contains(id: UInt64(row)) {
            try parts.base.remove(id: UInt64(row))
            files.withLock { $0.removed.append(row) }
        }
    }

    /// The cosine similarities of `query` with the vectors of `rows` (rows not held are left out).
    func scores(_ query: [Float], rows: [Int64]) throws -> [SearchResult] {
        let ids = rows.map(UInt64.init)
        let parts = parts.read { $0 }
        // A fold may briefly hold a row in both parts: the first score of an id is kept by the caller.
        return try parts.tail.scores(query, ids: ids) + parts.base.scores(query, ids: ids)
    }

    /// The `k` rows among `rows` nearest to `query`, best first (ties to the smaller row).
    func search(_ query: [Float], k: Int, rows: [Int64]) throws -> [SearchResult] {
        let ids = rows.map(UInt64.init)
        let parts = parts.read { $0 }
        var found: [SearchResult] = []
        let filter = SearchFilter(allowing: ids)
        for part in [parts.base, parts.tail] {
            do { found += try part.search(query, k: k, filter: filter) } catch EngramError.emptyIndex { continue }
        }
        // A fold moves rows from the tail to the base while a search may be reading both.
        var seen = Set<UInt64>()
        return found.sorted { $0.score > $1.score || ($0.score == $1.score && $0.id < $1.id) }
            .filter { seen.insert($0.id).inserted }
            .prefix(k).map { $0 }
    }
}
