import EngramSupport
import CEngramKernels

/// An exact index: every search compares the query with every stored vector.
///
/// One query scans the rows with SIMD kernels into a bounded top-k heap; a batch of queries uses
/// `cblas_sgemm` on blocks of queries and rows (see ``search(batch:k:threads:)``). Exact results make
/// it the reference for the approximate indexes and the right choice for small collections or
/// very selective filters.
///
/// Thread safety: any number of searches run concurrently (they share a read lock and never block
/// each other); adds and removes take the write lock.
public final class FlatIndex: VectorIndex, @unchecked Sendable {  // all mutable state is guarded by `lock`
    /// Floats per vector.
    public let dimension: Int
    /// How vectors are compared.
    public let metric: Metric

    let lock = ReadWriteLock()
    /// The rows: in memory, or in place in a mapped file until the first add (see ``open(_:)``).
    var storage: VectorStorage
    /// External id of each slot; meaningful only where `live` is set.
    var ids: [UInt64] = []
    var live: [Bool] = []
    var slotOfID = SlotMap()
    var freeSlots: [UInt32] = []
    /// Squared norms per slot, kept for the L2 sgemm path (|q|² - 2q·x + |x|²).
    var squaredNorms: [Float] = []
    /// This index's identity for filters, and a version bumped whenever a slot is given to a
    /// different item (see ``SearchFilter``).
    var layout = IndexLayout(index: IndexLayout.newIndex(), version: 0)

    /// Creates an empty index.
    ///
    /// - Parameters:
    ///   - dimension: floats per vector (1...65,536).
    ///   - metric: the comparison; cosine vectors are normalized on the way in.
    ///   - capacity: the most vectors it will ever hold; only address space is reserved up front.
    /// - Throws: ``EngramError/invalidParameter(_:)`` for a dimension or capacity out of range.
    public convenience init(dimension: Int, metric: Metric = .cosine, capacity: Int? = nil) throws {
        guard (1...65_536).contains(dimension) else {
            throw EngramError.invalidParameter("dimension must be in 1...65536, got \(dimension)")
        }
        let capacity = capacity ?? VectorStorage.defaultCapacity(dimension: dimension)
        guard capacity > 0, capacity <= Int(UInt32.max) else {
            throw EngramError.invalidParameter("capacity must be in 1...\(UInt32.max), got \(capacity)")
        }
        self.init(dimension: dimension, metric: metric, storage: try VectorStorage(dimension: dimension, capacity: capacity))
    }

    init(dimension: Int, metric: Metric, storage: VectorStorage) {
        self.dimension = dimension
        self.metric = metric
        self.storage = storage
    }

    /// Always ``IndexFileHeader/Kind/flat``.
    public var kind: IndexFileHeader.Kind { .flat }

    /// The number of live vectors.
    public var count: Int { lock.withReadLock { slotOfID.count } }

    /// Whether a live vector has `id`.
    public func contains(id: UInt64) -> Bool { lock.withReadLock { slotOfID[id] != nil } }

    /// The ids of the live vectors, in no particular order.
    public var liveIDs: [UInt64] { lock.withReadLock { slotOfID.ids } }

    /// The stored form of the vector with `id` (unit length for cosine).
    /// - Throws: ``EngramError/unknownID(_:)``.
    public func vector(id: UInt64) throws -> [Float] {
        try lock.withReadLock {
            guard let slot = slotOfID[id] else { throw EngramError.unknownID(id) }
            return Array(UnsafeBufferPointer(start: storage.row(Int(slot)), count: dimension))
        }
    }

    /// Adds one vector, replacing any vector that already has `id`.
    ///
    /// - Throws: ``EngramError/dimensionMismatch(expected:actual:)``,
    ///   ``EngramError/nonFiniteComponent(index:)``, ``EngramError/zeroVector`` (cosine),
    ///   ``EngramError/capacityExceeded(limit:)``.
    /// - Complexity: O(dimension).
    public func add(_ vector: [Float], id: UInt64) throws {
        try add(VectorMatrix(unchecked: dimension, VectorValidation.prepared(vector, dimension: dimension, metric: metric)),
                ids: [id], prepared: true)
    }

    /// Adds a batch of vectors (row `i` gets `ids[i]`), replacing existing ids. All rows are validated
    /// before any is stored: on error nothing is added.
    ///
    /// - Throws: as ``add(_:id:)``, and ``EngramError/duplicateID(_:)`` when `ids` repeats one.
    public func add(_ vectors: VectorMatrix, ids: [UInt64]) throws {
        try add(vectors, ids: ids, prepared: false)
    }

    private func add(_ vectors: VectorMatrix, ids newIDs: [UInt64], prepared: Bool) throws {
        guard vectors.dimension == dimension else {
            throw EngramError.dimensionMismatch(expected: dimension, actual: vectors.dimension)
        }
        guard vectors.count == newIDs.count else {
            throw EngramError.invalidParameter("\(vectors.count) vectors but \(newIDs.count) ids")
        }
        var rows = vectors.values
        if !prepared { try VectorValidation.prepareRows(&rows, dimension: dimension, metric: metric) }
        var seen = Set<UInt64>(minimumCapacity: newIDs.count)
        for id in newIDs where !seen.insert(id).inserted { throw EngramError.duplicateID(id) }
        try lock.withWriteLock {
            let fresh = newIDs.count(where: { slotOfID[$0] == nil })
            if storage.rows.isMapped {
                storage = try storage.copiedToMemory(rows: ids.count)
                eraseRemovedRows()
            }
            try storage.reserve(rows: ids.count + max(0, fresh - freeSlots.count))
            rows.withUnsafeBufferPointer { buf in
                for (i, id) in newIDs.enumerated() {
                    let row = UnsafeBufferPointer(rebasing: buf[i * dimension..<(i + 1) * dimension])
                    store(row, id: id)
                }
            }
        }
    }

    /// Writes one validated row under the write lock: in place for an existing id (readers are
    /// excluded by the lock), else into a free or new slot.
    private func store(_ row: UnsafeBufferPointer<Float>, id: UInt64) {
        let slot: Int
        if let existing = slotOfID[id] {
            slot = Int(existing)
        } else if let reused = freeSlots.popLast() {
            slot = Int(reused)
        } else {
            slot = ids.count
            ids.append(0)
            live.append(false)
            if metric == .l2 { squaredNorms.append(0) }
        }
        if slotOfID[id] == nil { layout = IndexLayout(index: layout.index, version: layout.version &+ 1) }
        storage.write(row, to: slot)
        ids[slot] = id
        live[slot] = true
        slotOfID[id] = UInt32(slot)
        if metric == .l2 { squaredNorms[slot] = engramDot(row.baseAddress!, row.baseAddress!, dimension) }
    }

    /// Removes the vector with `id`; its slot is reused by a later add. Its values are erased
    /// (zeroed in memory at once; in a file the index is still mapped from, when it is copied to
    /// memory or saved).
    /// - Throws: ``EngramError/unknownID(_:)``.
    public func remove(id: UInt64) throws {
        try lock.withWriteLock {
            guard let slot = slotOfID.removeValue(forKey: id) else { throw EngramError.unknownID(id) }
            live[Int(slot)] = false
            freeSlots.append(slot)
            if !storage.rows.isMapped { storage.row(Int(slot)).update(repeating: 0, count: dimension) }
        }
    }

    /// A filter that allows the live items among `ids` (unknown ids are ignored), resolved to this
    /// index's slots now so that searches of this index with it do not resolve it again.
    /// - Complexity: O(ids).
    public func filter(allowing allowedIDs: some Sequence<UInt64>) -> SearchFilter {
        let ids = allowedIDs as? [UInt64] ?? Array(allowedIDs)
        return lock.withReadLock {
            let (allowed, count) = SearchFilter.resolve(ids, capacity: self.ids.count, slot: { slotOfID[$0] })
            return SearchFilter(ids: ids, resolution: .init(layout: layout, allowed: allowed, allowedCount: count))
        }
    }
}

@inline(__always)
func engramDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    DistanceKernels.active.dot(a, b, n)
}
