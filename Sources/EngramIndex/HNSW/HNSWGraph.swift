import CEngramKernels
import EngramSupport
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The graph and vectors of one generation of an ``HNSWIndex``.
///
/// Memory layout: vectors in a ``VectorStorage``; level-0 link lists in one flat array of
/// `1 + 2m` words per node (`[count, links…]`); upper-level lists (`1 + m` words per level) in an
/// append-only arena, found through a per-node offset. Every array sits in a reservation that never
/// moves, so searches run without locks: they read link words with acquire loads, while writers
/// change a node's lists under that node's spin lock and publish with release stores. A node's
/// vector and lists are complete before any other node links to it, so a search never sees a
/// half-linked node.
final class HNSWGraph: @unchecked Sendable {  // see the type comment: per-node locks, atomics, `allocation`
    let dimension: Int
    let metric: Metric
    let m: Int
    let maxM0: Int
    let efConstruction: Int
    let levelMultiplier: Double
    let seed: UInt64
    let capacity: Int
    /// Bumped by compaction (a new graph); filters record it.
    let generation: UInt64

    let vectors: VectorStorage
    let level0: ReservedArray<UInt32>
    let upperLinks: ReservedArray<UInt32>
    let upperOffset: ReservedArray<UInt32>
    let levels: ReservedArray<UInt8>
    let nodeLocks: ReservedArray<UInt8>
    let tombstones: ReservedArray<UInt8>
    let externalIDs: ReservedArray<UInt64>
    /// The f16 copy of the vectors that queries traverse the graph on (nil when disabled).
    let halfStorage: ReservedArray<UInt16>?
    /// `halfStorage`'s base address (it never moves), for the hot paths: a pointer is read without
    /// the retain and release a class reference may cost on every read.
    private let halfBase: UnsafeMutablePointer<UInt16>?
    /// Cleared for good when a vector does not survive the conversion to f16 (see
    /// ``halfIsFaithful(_:_:)``): the graph is walked on the f32 vectors from then on.
    let halfEnabled = Atomic<Bool>(true)
    /// Nodes f16 could not tell from their nearest neighbours (see `checkHalfResolution`).
    let halfUnresolved = Atomic<Int>(0)
    /// The 8-bit codes queries walk the graph on (see ``ScalarQuantizer``), `dimension` bytes a
    /// node, when ``HNSWParameters/int8Traversal`` asks for them (or its automatic choice does); fitted once the graph reaches
    /// ``codeTrainingCount`` nodes (see ``fitCodesIfDue(pending:count:)``).
    let codeStorage: ReservedArray<UInt8>?
    /// Each node's squared code norm about the centres (what l2 estimates need).
    let codeNorms: ReservedArray<Float>?
    private let codeBase: UnsafeMutablePointer<UInt8>?
    private let codeNormBase: UnsafeMutablePointer<Float>?
    /// Set once the codes are fitted and every node has one; cleared for good when a vector's
    /// code is not faithful (then the walk runs on f16 or f32 as without codes).
    let codesEnabled = Atomic<Bool>(false)
    /// The codes' quantizer, once fitted (published with `allocation` held, so every node
    /// allocated after it gets a code); searches read it without a lock.
    let quantizer = SetOnce<ScalarQuantizer>()
    let distance: DistanceKernels.Function
    let halfDistance: DistanceKernels.HalfFunction
    let codeDot: DistanceKernels.CodeFunction
    let codeDots: DistanceKernels.CodeBatchFunction

    /// Nodes a graph holds before its codes are fitted (with the batch being added, if any).
    static let codeTrainingCount = 1_000
    /// The most rows the codes are fitted on (a sample taken at a fixed stride).
    static let codeSampleCount = 20_000

    /// Slot allocation, the id map and the arena cursor.
    struct Allocation {
        var nodeCount = 0
        var upperUsed = 0
        var liveCount = 0
        var tombstoneCount = 0
        /// External id → live slot. A graph opened from a file builds it on first use (see
        /// ``HNSWGraph/withIDMap(_:)``), so that opening does not scan the file.
        var slotOfID = SlotMap()
        var idMapComplete = true
        /// Bumped by every allocation: a new node may carry an id a resolved filter names.
        var layoutVersion: UInt64 = 0
    }
    let allocation = Locked(Allocation())
    /// This graph's identity for filters (a compaction or a copy makes a new graph).
    let layoutID = IndexLayout.newIndex()

    /// Entry point and top level, published together: `level << 32 | slot`, or `UInt64.max` when empty.
    let entry = Atomic<UInt64>(.max)
    /// Serializes inserts that raise the top level (rare: about one in m^level).
    let entryLock = Locked(())

    let scratch: ScratchPool
    /// A zero-length link list, returned for upper-level lists that would lie outside the arena
    /// (only a corrupted file can ask for one).
    private let emptyList: UnsafeMutablePointer<UInt32>

    init(dimension: Int, metric: Metric, parameters p: HNSWParameters, generation: UInt64) throws {
        self.dimension = dimension
        self.metric = metric
        self.m = p.m
        self.maxM0 = 2 * p.m
        self.efConstruction = max(p.efConstruction, p.m)
        self.levelMultiplier = 1 / log(Double(p.m))
        self.seed = p.seed
        self.generation = generation
        let capacity = p.capacity ?? VectorStorage.defaultCapacity(dimension: dimension)
        self.capacity = capacity
        vectors = try VectorStorage(dimension: dimension, capacity: capacity)
        level0 = try ReservedArray(capacity: capacity * (1 + 2 * p.m))
        // Nodes average 1/(m-1) upper-level lists; reserving one per node is ample and only address space.
        upperLinks = try ReservedArray(capacity: min(Int(UInt32.max), (capacity + 64) * (1 + p.m)))
        upperOffset = try ReservedArray(capacity: capacity)
        levels = try ReservedArray(capacity: capacity)
        nodeLocks = try ReservedArray(capacity: capacity)
        tombstones = try ReservedArray(capacity: capacity)
        externalIDs = try ReservedArray(capacity: capacity)
        halfStorage = p.usesHalfPrecision(dimension: dimension) ? try ReservedArray(capacity: capacity * VectorStorage.stride(dimension)) : nil
        halfBase = halfStorage?.base
        codeStorage = p.usesCodes(dimension: dimension) ? try ReservedArray(capacity: capacity * dimension) : nil
        codeNorms = p.usesCodes(dimension: dimension) ? try ReservedArray(capacity: capacity) : nil
        (codeBase, codeNormBase) = (codeStorage?.base, codeNorms?.base)
        distance = DistanceKernels.active.function(for: metric)
        halfDistance = DistanceKernels.active.halfFunction(for: metric)
        (codeDot, codeDots) = (DistanceKernels.active.codeDot, DistanceKernels.active.codeDots)
        scratch = ScratchPool()
        emptyList = Self.makeEmptyList()
    }

    deinit { emptyList.deallocate() }

    static func makeEmptyList() -> UnsafeMutablePointer<UInt32> {
        let p = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
        p.initialize(to: 0)
        return p
    }

    /// A graph used in place from a validated index file: read-only, opened in O(1).
    init(header: IndexFileHeader, file: MappedFile, generation: UInt64) throws {
        func array<T>(_ id: IndexFileHeader.SectionID, _: T.Type) -> ReservedArray<T> {
            let s = header.section(id)
            return ReservedArray(mapping: file, offset: s.offset, count: s.length / MemoryLayout<T>.stride)
        }
        dimension = header.dimension
        metric = header.metric
        m = header.m
        maxM0 = 2 * header.m
        efConstruction = max(header.efConstruction, header.m)
        levelMultiplier = 1 / log(Double(header.m))
        seed = header.seed
        self.generation = generation
        capacity = header.slotCount
        vectors = VectorStorage(dimension: header.dimension, mapping: file, offset: header.section(.vectors).offset, count: header.slotCount)
        level0 = array(.level0Links, UInt32.self)
        upperLinks = array(.upperLinks, UInt32.self)
        upperOffset = array(.upperOffsets, UInt32.self)
        levels = array(.levels, UInt8.self)
        tombstones = array(.tombstones, UInt8.self)
        externalIDs = array(.ids, UInt64.self)
        halfStorage = header.hasHalfVectors ? array(.halfVectors, UInt16.self) : nil
        halfBase = halfStorage?.base
        var quantizer: ScalarQuantizer?
        if header.hasCodes {
            let table = array(.codeQuantizer, Float.self), d = header.dimension
            let values = Array(UnsafeBufferPointer(start: table.base, count: 2 * d + 1))
            quantizer = ScalarQuantizer(centers: Array(values[..<d]), scales: Array(values[d..<(2 * d)]), errorBound: values[2 * d])
            guard quantizer != nil else { throw EngramError.corruptIndex(path: file.path, reason: "the code quantizer holds a non-finite or non-positive value") }
            (codeStorage, codeNorms) = (array(.codes, UInt8.self), array(.codeNorms, Float.self))
        } else {
            (codeStorage, codeNorms) = (nil, nil)
        }
        (codeBase, codeNormBase) = (codeStorage?.base, codeNorms?.base)
        halfDistance = DistanceKernels.active.halfFunction(for: metric)
        (codeDot, codeDots) = (DistanceKernels.active.codeDot, DistanceKernels.active.codeDots)
        nodeLocks = try ReservedArray(capacity: 1)
        distance = DistanceKernels.active.function(for: metric)
        scratch = ScratchPool()
        emptyList = Self.makeEmptyList()
        allocation.withLock { a in
            a.nodeCount = header.slotCount
            a.upperUsed = header.upperWords
            a.liveCount = header.liveCount
            a.tombstoneCount = header.slotCount - header.liveCount
            a.idMapComplete = false
        }
        if let quantizer { self.quantizer.publish(quantizer) }
        codesEnabled.store(quantizer != nil, ordering: .releasing)
        if header.slotCount > 0 { entry.store(UInt64(header.maxLevel) << 32 | UInt64(header.entrySlot), ordering: .releasing) }
        file.advise(offset: header.section(.vectors).offset, length: header.section(.vectors).length, MADV_RANDOM)
    }

    /// The f16 copy while it is in use: every read of it goes through here.
    var halfVectors: ReservedArray<UInt16>? { halfEnabled.load(ordering: .relaxed) ? halfStorage : nil }

    /// The f16 rows while the f16 walk is on.
    @inline(__always)
    var halfRows: UnsafeMutablePointer<UInt16>? { halfEnabled.load(ordering: .relaxed) ? halfBase : nil }

    /// Whether the f16 copy of `vector` is close enough to it to walk the graph on: squared error
    /// at most 2^-16 of the squared norm (f16 rounding alone gives at most 2^-22). Values beyond
    /// ±65504 become infinite, values below 2^-24 vanish, and both fail.
    func halfIsFaithful(_ vector: UnsafePointer<Float>, _ half: UnsafePointer<UInt16>) -> Bool {
        let error = DistanceKernels.active.halfFunction(for: .l2)(vector, half, dimension)
        let norm = -DistanceKernels.active.negatedDot(vector, vector, dimension)
        return error.isFinite && error <= norm * 0x1p-16
    }

    /// Whether this graph is used in place from a read-only file (it must be copied before writes).
    var isMapped: Bool { vectors.rows.isMapped }

    /// Runs `body` with the allocation state, building the id map first if this graph came from a
    /// file and has not needed it yet.
    func withIDMap<R>(_ body: (inout Allocation) throws -> R) rethrows -> R {
        try allocation.withLock { a in
            if !a.idMapComplete {
                a.slotOfID.reserveCapacity(a.liveCount)
                for slot in 0..<a.nodeCount where tombstones.base[slot] == 0 {
                    a.slotOfID[externalIDs.base[slot]] = UInt32(slot)
                }
                a.idMapComplete = true
            }
            return try body(&a)
        }
    }

    /// The layout filters are resolved under now (see ``SearchFilter``). Call with `allocation` held.
    func layout(_ a: Allocation) -> IndexLayout { IndexLayout(index: layoutID, version: a.layoutVersion) }

    // MARK: - Node access

    @inline(__always)
    func vector(_ slot: UInt32) -> UnsafeMutablePointer<Float> { vectors.row(Int(slot)) }

    /// The link list `[count, links…]` of `slot` on `level`. An upper-level list that would lie
    /// outside the arena (a corrupted file) reads as empty.
    @inline(__always)
    func links(_ slot: UInt32, level: Int) -> UnsafeMutablePointer<UInt32> {
        if level == 0 { return level0.base + Int(slot) &* (1 &+ maxM0) }
        let offset: Int = Int(upperOffset.base[Int(slot)]) &+ (level &- 1) &* (1 &+ m)
        guard offset &+ 1 &+ m <= upperLinks.capacity else { return emptyList }
        return upperLinks.base + offset
    }

    /// The number of links in `list` on `level`, never more than the level allows (a corrupted
    /// count cannot make a search read past the list).
    @inline(__always)
    func linkCount(_ list: UnsafePointer<UInt32>, level: Int) -> Int {
        min(Int(engram_load_acquire_u32(list)), level == 0 ? maxM0 : m)
    }

    @inline(__always)
    func isDeleted(_ slot: UInt32) -> Bool { engram_load_acquire_u8(tombstones.base + Int(slot)) != 0 }

    @inline(__always)
    func distance(_ query: UnsafePointer<Float>, _ slot: UInt32) -> Float {
        distance(query, vectors.row(Int(slot)), dimension)
    }

    /// Query-to-node distance on the copy the graph is walked on: the f16 rows when there are some
    /// (half the bytes of the f32 rows, so half the memory traffic and, on a mapped file, half the
    /// pages a query faults in), the f32 rows otherwise.
    /// With 8-bit codes, the estimate from the slot's code (a quarter of the f32 bytes).
    @inline(__always)
    func traversalDistance(_ query: TraversalQuery, _ slot: UInt32) -> Float {
        if let code = query.code, let codeBase {
            return codeDistance(code.query, dot: codeDot(codeBase + Int(slot) &* dimension, code.bytes, dimension), slot: slot)
        }
        if let halfRows { return halfDistance(query.vector, halfRows + Int(slot) &* vectors.stride, dimension) }
        return distance(query.vector, vectors.row(Int(slot)), dimension)
    }

    /// ``traversalDistance(_:_:)`` of every slot in `slots`, written to `out`; on codes, one
    /// kernel call for the lot (`dots` holds their integer dots).
    @inline(__always)
    func traversalDistances(_ query: TraversalQuery, _ slots: UnsafeBufferPointer<UInt32>,
                            dots: UnsafeMutablePointer<Int32>, into out: UnsafeMutablePointer<Float>) {
        guard let code = query.code, let codeBase, let codeNormBase else {
            for j in slots.indices { out[j] = traversalDistance(query, slots[j]) }
            return
        }
        codeDots(code.bytes, codeBase, slots.baseAddress, slots.count, dimension, dots)
        // ``codeDistance(_:dot:slot:)`` with the metric tested once per hop, not per distance
        // (calling it per slot cost 3–5% of queries/s at ef 24 on 20k × 384).
        if code.query.metric == .l2 {
            for j in slots.indices { out[j] = code.query.distance(dot: dots[j], norm: codeNormBase[Int(slots[j])]) }
        } else {
            for j in slots.indices { out[j] = code.query.distance(dot: dots[j], norm: 0) }
        }
    }

    /// The estimated distance of a prepared query to `slot` from their code dot; the slot's code
    /// norm is read for l2 only (another cache line per distance otherwise).
    @inline(__always)
    private func codeDistance(_ query: ScalarQuantizer.Query, dot: Int32, slot: UInt32) -> Float {
        query.distance(dot: dot, norm: query.metric == .l2 ? codeNormBase.map { $0[Int(slot)] } ?? 0 : 0)
    }

    @inline(__always)
    func prefetchTraversalRow(_ slot: UInt32, for query: TraversalQuery) {
        if query.code != nil, let codeBase {
            engram_prefetch_range(codeBase + Int(slot) &* dimension, dimension)
        } else if let halfRows {
            engram_prefetch_range(halfRows + Int(slot) &* vectors.stride, dimension * 2)
        } else {
            engram_prefetch_range(vectors.row(Int(slot)), dimension * 4)
        }
    }

    @inline(__always)
    /// Node-to-node distance for construction: on the f16 copy when there is one (measured on 20k ×
    /// 384, one build thread: 6.0 s instead of 7.1 s, recall@10 at ef 64 unchanged at 0.9896).
    func distance(between a: UInt32, _ b: UInt32) -> Float {
        if let halfRows { return halfDistance(vectors.row(Int(a)), halfRows + Int(b) &* vectors.stride, dimension) }
        return distance(vectors.row(Int(a)), vectors.row(Int(b)), dimension)
    }

    /// `vector` as this search walks it: with its code bytes (in `scratch`) while the codes are on.
    func traversalQuery(_ vector: UnsafePointer<Float>, scratch: SearchScratch) -> TraversalQuery {
        guard codesEnabled.load(ordering: .acquiring), let quantizer = quantizer.value else { return TraversalQuery(vector) }
        let bytes = scratch.codeBytes(dimension)
        return TraversalQuery(vector, code: (UnsafePointer(bytes), quantizer.prepare(vector, metric: metric, into: bytes)))
    }

    /// Writes the code of `slot`'s vector; returns whether it is faithful. Call with `allocation` held.
    func encodeCode(_ slot: Int, with quantizer: ScalarQuantizer) -> Bool {
        guard let codeBase, let codeNormBase else { return false }
        let (norm, faithful) = quantizer.encode(vectors.row(slot), into: codeBase + slot * dimension)
        codeNormBase[slot] = norm
        return faithful
    }

    /// Fits the codes and encodes every node, when this graph wants codes, has not fitted them
    /// yet, and holds ``codeTrainingCount`` nodes with the `count` rows at `pending` (a batch
    /// about to be added, prepared; in the sample too, so that the ranges cover it). Allocations
    /// wait meanwhile (the allocation lock is held), so no node is left without a code.
    /// - Complexity: O((sample + nodes) · dimension).
    func fitCodesIfDue(pending: UnsafePointer<Float>?, count: Int) throws {
        guard codeStorage != nil, quantizer.value == nil else { return }
        try allocation.withLock { a in
            let nodes = a.nodeCount, total = nodes + (pending == nil ? 0 : count)
            guard self.quantizer.value == nil, total >= Self.codeTrainingCount else { return }
            let step = max(1, total / Self.codeSampleCount)
            let sample = Array(stride(from: 0, to: total, by: step))
            let quantizer = ScalarQuantizer(fitting: { i in
                sample[i] < nodes ? UnsafePointer(self.vectors.row(sample[i])) : pending! + (sample[i] - nodes) * self.dimension
            }, count: sample.count, dimension: dimension)
            try codeStorage?.reserve(nodes * dimension)
            try codeNorms?.reserve(nodes)
            var faithful = true
            for slot in 0..<nodes where !encodeCode(slot, with: quantizer) { faithful = false }
            self.quantizer.publish(quantizer)
            codesEnabled.store(faithful, ordering: .releasing)
        }
    }

    func withNodeLock<R>(_ slot: UInt32, _ body: () -> R) -> R {
        engram_spin_lock(nodeLocks.base + Int(slot))
        defer { engram_spin_unlock(nodeLocks.base + Int(slot)) }
        return body()
    }

    var entryPoint: (slot: UInt32, level: Int)? {
        let e = entry.load(ordering: .acquiring)
        return e == .max ? nil : (UInt32(truncatingIfNeeded: e), Int(e >> 32))
    }

    var nodeCount: Int { allocation.withLock { $0.nodeCount } }
    var liveCount: Int { allocation.withLock { $0.liveCount } }

    /// The level of a new node: floor(-ln(U) / ln(m)), from a hash of (seed, slot), so that the draw
    /// does not depend on thread timing.
    func randomLevel(for slot: Int) -> Int {
        let x = SplitMix64.mix(seed &+ UInt64(slot) &* 0x9E37_79B9_7F4A_7C15)
        let u = (Double(x >> 11) + 0.5) / Double(1 << 53)
        return min(Int(-log(u) * levelMultiplier), 32)
    }
}
