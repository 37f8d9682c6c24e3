/// Construction parameters of an ``HNSWIndex``.
public struct HNSWParameters: Sendable, Equatable {
    /// Links per node on the upper levels; level 0 keeps `2·m`. Range 2…256. Default 16.
    public var m: Int
    /// Candidate list size while inserting; larger builds a better graph, slower. Default 200.
    public var efConstruction: Int
    /// Seed of the level draws: with one build thread, the same seed and input give the same graph.
    public var seed: UInt64
    /// The most nodes (including tombstones until ``HNSWIndex/compact(threads:)``); only address space is
    /// reserved up front. `nil` picks a default from the dimension (up to 2^26).
    public var capacity: Int?
    /// Keep a half-precision (f16) copy of the vectors and walk the graph on it, then re-score the
    /// best `2k` candidates in full precision. Half the bytes per distance, for 50% more vector
    /// memory: measured +30–50% queries/s at equal recall on 20k × 384 MiniLM (see README), and
    /// +10–50% on clustered synthetic data of 192, 256 and 768 dimensions; level at 128, and at 100
    /// the f32 walk was faster (+7% queries/s, 17% shorter builds), the distances being too short
    /// for the bytes saved to pay for the conversions. `nil` (the default) chooses by dimension:
    /// on above ``automaticHalfPrecisionAbove`` when the index does not use ``int8Traversal``
    /// (with codes, the f16 copy would only serve as the fallback walk for data the codes cannot
    /// hold: 2 bytes a dimension kept for a rare case; such an index walks f32 instead).
    /// The index turns it off by itself, for good, when f16 cannot hold the data faithfully:
    /// components past ±65504 (overflow), vectors of norm below ~1e-4 (lost digits), or vectors far
    /// from the origin compared with the distances between them (f16 keeps 11 bits of each
    /// coordinate). An l2 index of MiniLM vectors scaled by 1e6 had recall 0.005 on the f16 walk
    /// and 0.9975 on f32; points at 100 ± 0.1, 0.856 and 0.936 (the same as without the offset).
    public var halfPrecisionTraversal: Bool?
    /// Walk queries on 8-bit codes (per-dimension scalar quantization, fitted once the index holds
    /// 1,000 vectors; see ``ScalarQuantizer``), a quarter of the f32 bytes per distance, then
    /// re-score the best `2k` candidates in full precision. Construction walks the codes too once
    /// they are fitted and re-scores what it finds in full precision before choosing links (on 20k
    /// × 384 MiniLM: builds 1.14–1.19 s instead of 1.67 s on 2 threads, recall unchanged).
    /// Measured at recall 0.95 / 0.99 against the f16 walk: 1.86x / 2.04x queries/s on 20k × 384
    /// MiniLM, 1.51x / 1.67x on 768-d and 1.20x / 1.25x on 100-d clustered synthetic data; against
    /// the f32 walk at 128-d (l2) +11–39% (README). `nil` (the default) chooses by dimension: on from
    /// ``automaticInt8From``. Turned off for good, as f16 is, when a vector's code does not stand
    /// for it (data scaled, shifted or spread well past the range the codes were fitted on).
    /// Saved in index files (sections 9–11, docs/FORMAT.md) and walked in place after
    /// ``HNSWIndex/open(_:)``.
    public var int8Traversal: Bool?

    /// The dimension from which ``int8Traversal`` `nil` means on (the smallest measured).
    public static let automaticInt8From = 100

    /// The dimension above which ``halfPrecisionTraversal`` `nil` means on (without codes).
    public static let automaticHalfPrecisionAbove = 128

    /// Parameters; ``HNSWIndex/init(dimension:metric:parameters:)`` validates them.
    public init(m: Int = 16, efConstruction: Int = 200, seed: UInt64 = 100, capacity: Int? = nil,
                halfPrecisionTraversal: Bool? = nil, int8Traversal: Bool? = nil) {
        self.m = m
        self.efConstruction = efConstruction
        self.seed = seed
        self.capacity = capacity
        self.halfPrecisionTraversal = halfPrecisionTraversal
        self.int8Traversal = int8Traversal
    }

    /// Whether an index of `dimension` keeps the f16 copy.
    func usesHalfPrecision(dimension: Int) -> Bool {
        halfPrecisionTraversal ?? (dimension > Self.automaticHalfPrecisionAbove && !usesCodes(dimension: dimension))
    }

    /// Whether an index of `dimension` walks queries on 8-bit codes once they are fitted.
    func usesCodes(dimension: Int) -> Bool { int8Traversal ?? (dimension >= Self.automaticInt8From) }

    func validate() throws {
        guard (2...256).contains(m) else { throw EngramError.invalidParameter("m must be in 2...256, got \(m)") }
        guard efConstruction >= 1 else { throw EngramError.invalidParameter("efConstruction must be positive, got \(efConstruction)") }
        if let capacity, !(1...Int(UInt32.max - 1)).contains(capacity) {
            throw EngramError.invalidParameter("capacity must be in 1...\(UInt32.max - 1), got \(capacity)")
        }
    }
}
