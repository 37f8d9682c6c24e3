/// What every Engram index does. ``FlatIndex`` (exact) and ``HNSWIndex`` (approximate) both
/// conform, so code written against `any VectorIndex` works with either, and
/// ``IndexFile/open(_:)`` opens a file of either kind.
///
/// Ids are the caller's `UInt64`s. Scores are in the metric's natural sense (see ``Metric``) and
/// results come best first, ties to the smaller id. Every method throws ``EngramError`` on bad
/// input; none traps. Conforming types are thread-safe: searches run concurrently with each other
/// and never wait for one another.
public protocol VectorIndex: AnyObject, Sendable {
    /// The kind written to index files.
    var kind: IndexFileHeader.Kind { get }
    /// Floats per vector.
    var dimension: Int { get }
    var metric: Metric { get }
    /// The number of live vectors.
    var count: Int { get }
    /// The ids of the live vectors, in no particular order.
    var liveIDs: [UInt64] { get }

    /// Whether a live vector has `id`.
    func contains(id: UInt64) -> Bool

    /// The stored form of the vector with `id` (unit length under cosine).
    /// - Throws: ``EngramError/unknownID(_:)``.
    func vector(id: UInt64) throws -> [Float]

    /// Adds a batch of vectors (row `i` gets `ids[i]`), replacing any vector an id already has. All
    /// rows are validated before any is stored: on error nothing is added.
    /// - Throws: ``EngramError/dimensionMismatch(expected:actual:)``,
    ///   ``EngramError/nonFiniteComponent(index:)``, ``EngramError/zeroVector`` (cosine),
    ///   ``EngramError/duplicateID(_:)``, ``EngramError/capacityExceeded(limit:)``.
    func add(_ vectors: VectorMatrix, ids: [UInt64]) throws

    /// Removes the vector with `id`.
    /// - Throws: ``EngramError/unknownID(_:)``.
    func remove(id: UInt64) throws

    /// The `k` nearest live vectors to `query` that `filter` allows, best first.
    /// - Parameters:
    ///   - query: a vector of ``dimension`` finite floats.
    ///   - k: results wanted (positive); fewer only when fewer live items pass `filter`.
    ///   - ef: the search breadth of an approximate index (nil: its default); exact indexes ignore it.
    ///   - filter: the ids a result may have (nil: any); resolved by this index under its own lock,
    ///     so it may come from anywhere and never goes stale (see ``SearchFilter``).
    /// - Throws: ``EngramError/invalidK(_:)``, ``EngramError/emptyIndex``, the vector errors of ``add(_:ids:)``.
    func search(_ query: [Float], k: Int, ef: Int?, filter: SearchFilter?) throws -> [SearchResult]

    /// ``search(_:k:ef:filter:)`` without a filter for every row of `queries`, on `threads` threads.
    func search(batch queries: VectorMatrix, k: Int, ef: Int?, threads: Int) throws -> [[SearchResult]]

    /// The scores of `query` against the stored vectors of `ids`, in the order given; ids this index
    /// does not hold are left out.
    /// - Complexity: O(ids · dimension).
    func scores(_ query: [Float], ids: [UInt64]) throws -> [SearchResult]

    /// A filter allowing `ids`, resolved to this index's slots now (searches of this index with it
    /// skip resolving it again).
    func filter(allowing ids: some Sequence<UInt64>) -> SearchFilter

    /// Saves the index to `path` atomically (temp file, fsync, rename, fsync of the directory).
    /// - Throws: ``EngramError/io(path:operation:errno:)``.
    func save(to path: String) throws
}

extension VectorIndex {
    /// ``search(_:k:ef:filter:)`` at the index's default breadth.
    public func search(_ query: [Float], k: Int, filter: SearchFilter? = nil) throws -> [SearchResult] {
        try search(query, k: k, ef: nil, filter: filter)
    }
}
