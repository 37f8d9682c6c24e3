import CEngramKernels
import EngramSupport

/// An approximate nearest-neighbour index: a hierarchical navigable small-world graph
/// (Malkov & Yashunin) with the heuristic neighbour selection.
///
/// - Searches take `ef` per call (never a shared mutable setting) and run lock-free, concurrently
///   with each other and with adds.
/// - Adds run concurrently with each other (a batch add uses several threads); each node's links
///   are guarded by its own spin lock.
/// - ``remove(id:)`` leaves a tombstone: never returned, still traversed. ``compact(threads:)`` rebuilds
///   without tombstones and reclaims their space.
/// - Filtered search never comes up short: when at least `k` live items pass the filter, `k` are
///   returned (see ``search(_:k:ef:filter:)``).
public final class HNSWIndex: VectorIndex, @unchecked Sendable {  // `current` is locked; `mutation` orders adds against compaction
    /// Floats per vector.
    public let dimension: Int
    /// How vectors are compared.
    public let metric: Metric
    /// The graph parameters it was built with.
    public let parameters: HNSWParameters

    /// The graph searches use; replaced as a whole by compaction (readers keep the one they took).
    private let current: Locked<HNSWGraph>
    /// Adds hold it shared, compaction exclusive; searches never take it.
    let mutation = ReadWriteLock()

    /// Creates an empty index.
    /// - Throws: ``EngramError/invalidParameter(_:)`` for a dimension or parameter out of range.
    public init(dimension: Int, metric: Metric = .cosine, parameters: HNSWParameters = HNSWParameters()) throws {
        guard (1...65_536).contains(dimension) else {
            throw EngramError.invalidParameter("dimension must be in 1...65536, got \(dimension)")
        }
        try parameters.validate()
        self.dimension = dimension
        self.metric = metric
        self.parameters = parameters
        current = Locked(try HNSWGraph(dimension: dimension, metric: metric, parameters: parameters, generation: 0))
    }

    init(graph: HNSWGraph, parameters: HNSWParameters) throws {
        dimension = graph.dimension
        metric = graph.metric
        self.parameters = parameters
        current = Locked(graph)
    }

    var graph: HNSWGraph { current.withLock { $0 } }

    /// Always ``IndexFileHeader/Kind/hnsw``.
    public var kind: IndexFileHeader.Kind { .hnsw }

    /// The number of live (not removed) vectors.
    public var count: Int { graph.liveCount }

    /// The number of removed vectors still in the graph (reclaimed by ``compact(threads:)``).
    public var tombstoneCount: Int { graph.allocation.withLock { $0.tombstoneCount } }

    /// Whether a live vector has `id`.
    public func contains(id: UInt64) -> Bool { graph.withIDMap { $0.slotOfID[id] != nil } }

    /// Whether queries walk the graph on 8-bit codes now (``HNSWParameters/int8Traversal``, fitted,
    /// and not turned off by data the codes cannot hold).
    public var walksOnCodes: Bool { graph.codesEnabled.load(ordering: .relaxed) }

    /// The ids of the live vectors, in no particular order.
    public var liveIDs: [UInt64] { graph.withIDMap { $0.slotOfID.ids } }

    /// The stored form of the vector with `id` (unit length for cosine).
    /// - Throws: ``EngramError/unknownID(_:)``.
    public func vector(id: UInt64) throws -> [Float] {
        let graph = graph
        guard let slot = graph.withIDMap({ $0.slotOfID[id] }) else { throw EngramError.unknownID(id) }
        return Array(UnsafeBufferPointer(start: graph.vector(slot), count: dimension))
    }

    /// Adds one vector; an existing `id` is replaced (its old node becomes a tombstone).
    /// - Throws: the vector errors of ``FlatIndex/add(_:id:)``, ``EngramError/capacityExceeded(limit:)``.
    /// - Complexity: O(efConstruction · m · log n) distance computations.
    public func add(_ vector: [Float], id: UInt64) throws {
        let prepared = try VectorValidation.prepared(vector, dimension: dimension, metric: metric)
        try prepareForWrites()
        try mutation.withReadLock {
            let graph = graph
            let (slot, level) = try prepared.withUnsafeBufferPointer { try graph.allocate($0.baseAddress!, id: id) }
            graph.link(slot, level: level)
            try graph.fitCodesIfDue(pending: nil, count: 0)
        }
    }

    /// Adds a batch (row `i` gets `ids[i]`) on one thread; see ``add(_:ids:threads:progress:)``.
    public func add(_ vectors: VectorMatrix, ids: [UInt64]) throws {
        try add(vectors, ids: ids, threads: 1)
    }

    /// Adds a batch (row `i` gets `ids[i]`) on `threads` threads. Every row is validated before any
    /// is added. With `threads == 1` the graph is reproducible from ``HNSWParameters/seed``.
    ///
    /// - Parameters:
    ///   - vectors: the rows, of ``dimension`` floats each.
    ///   - ids: one per row, distinct.
    ///   - threads: worker threads (at least 1).
    ///   - progress: called with the number of rows added so far (from worker threads).
    /// - Throws: as ``add(_:id:)``, and ``EngramError/duplicateID(_:)``.
    public func add(
        _ vectors: VectorMatrix, ids: [UInt64], threads: Int, progress: (@Sendable (Int) -> Void)? = nil
    ) throws {
        guard vectors.dimension == dimension else {
            throw EngramError.dimensionMismatch(expected: dimension, actual: vectors.dimension)
        }
        guard vectors.count == ids.count else { throw EngramError.invalidParameter("\(vectors.count) vectors but \(ids.count) ids") }
        guard threads > 0 else { throw EngramError.invalidParameter("threads must be positive, got \(threads)") }
        var rows = vectors.values
        try VectorValidation.prepareRows(&rows, dimension: dimension, metric: metric)
        var seen = Set<UInt64>(minimumCapacity: ids.count)
        for id in ids where !seen.insert(id).inserted { throw EngramError.duplicateID(id) }
        try prepareForWrites()
        try mutation.withReadLock { try insert(rows, ids: ids, into: graph, threads: threads, progress: progress) }
    }

    private func insert(
        _ rows: [Float], ids: [UInt64], into graph: HNSWGraph, threads: Int, progress: (@Sendable (Int) -> Void)?
    ) throws {
        let n = ids.count, dimension = dimension
        guard graph.nodeCount + n <= graph.capacity else { throw EngramError.capacityExceeded(limit: graph.capacity) }
        let done = AtomicCounter()
        let failure = Locked<EngramError?>(nil)
        try rows.withUnsafeBufferPointer { buf in
            try graph.fitCodesIfDue(pending: buf.baseAddress!, count: n)
            let base = UnsafeSendable(buf.baseAddress!)
            let chunk = 64
            parallelFor((n + chunk - 1) / chunk, threads: threads) { c in
                for i in c * chunk..<min(n, (c + 1) * chunk) {
                    do {
                        let (slot, level) = try graph.allocate(base.value + i * dimension, id: ids[i])
                        graph.link(slot, level: level)
                    } catch {
                        failure.withLock { $0 = $0 ?? (error as? EngramError) }
                        return
                    }
                }
                let finished = done.add(min(n, (c + 1) * chunk) - c * chunk)
                progress?(finished)
            }
            if let error = failure.withLock({ $0 }) { throw error }
        }
    }

    /// Removes the vector with `id`: it is never returned again but keeps guiding searches until
    /// ``compact(threads:)``.
    /// - Throws: ``EngramError/unknownID(_:)``.
    public func remove(id: UInt64) throws {
        try prepareForWrites()
        try mutation.withReadLock {
            let graph = graph
            try graph.withIDMap { a in
                guard let slot = a.slotOfID.removeValue(forKey: id) else { throw EngramError.unknownID(id) }
                engram_store_release_u8(graph.tombstones.base + Int(slot), 1)
                a.tombstoneCount += 1
                a.liveCount -= 1
            }
        }
    }

    /// A graph opened from a file is read-only and used in place; the first mutation loads it into
    /// memory (one copy of every section), then swaps it in. Searches keep running meanwhile.
    private func prepareForWrites() throws {
        guard graph.isMapped else { return }
        try mutation.withWriteLock {
            let mapped = graph
            guard mapped.isMapped else { return }
            let copy = try HNSWGraph(copying: mapped, parameters: parameters)
            current.withLock { $0 = copy }
        }
    }

    /// Rebuilds the graph from the live vectors only, reclaiming tombstones' space. Searches keep
    /// running on the old graph meanwhile; adds and removes wait. Filters made before are resolved
    /// again by the next search that uses them.
    public func compact(threads: Int = 1) throws {
        try prepareForWrites()
        try mutation.withWriteLock {
            let old = graph
            let fresh = try HNSWGraph(dimension: dimension, metric: metric, parameters: parameters, generation: old.generation + 1)
            let live = old.withIDMap { a in a.slotOfID.pairs.sorted { $0.slot < $1.slot } }
            var rows = [Float](repeating: 0, count: live.count * dimension)
            for (i, (_, slot)) in live.enumerated() {
                rows.withUnsafeMutableBufferPointer { ($0.baseAddress! + i * dimension).update(from: old.vector(slot), count: dimension) }
            }
            try insert(rows, ids: live.map(\.id), into: fresh, threads: threads, progress: nil)
            current.withLock { $0 = fresh }
        }
    }

    /// A filter that allows the live items among `ids` (unknown ids are ignored), resolved to this
    /// index's slots now so that searches of this index with it do not resolve it again.
    /// - Complexity: O(ids).
    public func filter(allowing allowedIDs: some Sequence<UInt64>) -> SearchFilter {
        let ids = allowedIDs as? [UInt64] ?? Array(allowedIDs)
        let graph = graph
        return graph.withIDMap { a in
            let (allowed, count) = SearchFilter.resolve(ids, capacity: a.nodeCount, slot: { a.slotOfID[$0] })
            return SearchFilter(ids: ids, resolution: .init(layout: graph.layout(a), allowed: allowed, allowedCount: count))
        }
    }

    /// The slots `filter` allows in `graph` now, and how many live items that is.
    func allowedSlots(_ filter: SearchFilter, in graph: HNSWGraph) -> (allowed: Bitset, count: Int) {
        graph.withIDMap { a in filter.allowedSlots(under: graph.layout(a), capacity: a.nodeCount, slot: { a.slotOfID[$0] }) }
    }
}
