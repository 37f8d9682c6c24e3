import EngramSupport
import CEngramKernels

/// The fixed header of an Engram index file (see `docs/FORMAT.md` for every field and offset).
///
/// One page long; sections follow, each aligned to ``alignment`` so they can be used in place
/// through `mmap`. Decoding validates every field, offset, length and count against the file size
/// and against each other before anything is used.
public struct IndexFileHeader: Sendable, Equatable {
    /// The index kinds the format holds.
    public enum Kind: UInt32, Sendable { case flat = 1, hnsw = 2 }

    /// The sections of an index file (docs/FORMAT.md).
    public enum SectionID: UInt32, Sendable, CaseIterable {
        case vectors = 1, ids, tombstones, level0Links, upperOffsets, levels, upperLinks, halfVectors
        case codes, codeNorms, codeQuantizer

        /// The section's name in `engram inspect`.
        public var name: String {
            switch self {
            case .vectors: "vectors"
            case .ids: "ids"
            case .tombstones: "tombstones"
            case .level0Links: "level0_links"
            case .upperOffsets: "upper_offsets"
            case .levels: "levels"
            case .upperLinks: "upper_links"
            case .halfVectors: "half_vectors"
            case .codes: "codes"
            case .codeNorms: "code_norms"
            case .codeQuantizer: "code_quantizer"
            }
        }
    }

    /// One entry of the section table.
    public struct Section: Sendable, Equatable {
        /// Which section.
        public var id: SectionID
        /// Bytes from the start of the file (a multiple of ``alignment``).
        public var offset: Int
        /// Bytes, without padding.
        public var length: Int
        /// XXH64 of the section's bytes.
        public var checksum: UInt64
    }

    static let magic: UInt64 = 0x5849_4D41_5247_4E45  // "ENGRAMIX" read as little-endian UInt64
    /// The version this build writes and reads.
    public static let formatVersion: UInt32 = 1
    static let byteOrderMark: UInt32 = 0x0102_0304
    /// Bytes of the header page.
    public static let size = 4096
    /// Every section starts at a multiple of this.
    public static let alignment = 4096
    static let maxSections = 12
    static let checksumOffset = 480

    /// Flat or HNSW.
    public var kind: Kind
    /// How vectors are compared.
    public var metric: Metric
    /// Floats per vector.
    public var dimension: Int
    /// Rows, tombstoned ones included.
    public var slotCount: Int
    /// Rows not removed.
    public var liveCount: Int
    /// HNSW only (zero for flat).
    public var m = 0
    /// HNSW build breadth (informational).
    public var efConstruction = 0
    /// HNSW entry node; `UInt32.max` when empty.
    public var entrySlot: UInt32 = .max
    /// HNSW top level.
    public var maxLevel = 0
    /// HNSW level-draw seed.
    public var seed: UInt64 = 0
    /// HNSW: 32-bit words in the upper-links section.
    public var upperWords = 0
    /// Flag bits (offset 88). Bit 0: the file holds an f16 copy of the vectors (section 8); bit 1:
    /// the 8-bit traversal codes (sections 9–11).
    public var flags: UInt32 = 0
    /// The section table, in file order.
    public var sections: [Section] = []

    static let halfVectorsFlag: UInt32 = 1
    static let codesFlag: UInt32 = 2

    /// Whether the file holds the f16 copy of the vectors that HNSW searches walk.
    public var hasHalfVectors: Bool { flags & Self.halfVectorsFlag != 0 }

    /// Whether the file holds the 8-bit codes (and their quantizer) that HNSW queries walk.
    public var hasCodes: Bool { flags & Self.codesFlag != 0 }

    /// Floats per stored row: the dimension rounded up to 16.
    public var stride: Int { VectorStorage.stride(dimension) }

    /// The length each section must have for these counts.
    func expectedLength(_ id: SectionID) -> Int {
        switch id {
        case .vectors: slotCount * stride * 4
        case .ids: slotCount * 8
        case .tombstones, .levels: slotCount
        case .level0Links: slotCount * (1 + 2 * m) * 4
        case .upperOffsets: slotCount * 4
        case .upperLinks: upperWords * 4
        case .halfVectors: slotCount * stride * 2
        case .codes: slotCount * dimension
        case .codeNorms: slotCount * 4
        case .codeQuantizer: (2 * dimension + 1) * 4
        }
    }

    var requiredSections: [SectionID] {
        switch kind {
        case .flat: [.vectors, .ids, .tombstones]
        case .hnsw: SectionID.allCases.filter { id in
            switch id {
            case .halfVectors: hasHalfVectors
            case .codes, .codeNorms, .codeQuantizer: hasCodes
            default: true
            }
        }
        }
    }

    func section(_ id: SectionID) -> Section { sections.first { $0.id == id }! }

    /// Lays out `lengths` after the header page, aligned, and returns the header with its table.
    mutating func layOut(_ lengths: [(SectionID, Int)], checksums: [UInt64]) {
        var offset = Self.size
        sections = zip(lengths, checksums).map { entry, checksum in
            defer { offset += (entry.1 + Self.alignment - 1) / Self.alignment * Self.alignment }
            return Section(id: entry.0, offset: offset, length: entry.1, checksum: checksum)
        }
    }

    /// The encoded header page.
    func encoded() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Self.size)
        bytes.withUnsafeMutableBytes { raw in
            func put<T: FixedWidthInteger>(_ value: T, _ offset: Int) { raw.storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self) }
            put(Self.magic, 0)
            put(Self.formatVersion, 8)
            put(Self.byteOrderMark, 12)
            put(kind.rawValue, 16)
            put(metric.code, 20)
            put(UInt32(dimension), 24)
            put(UInt32(stride), 28)
            put(UInt64(slotCount), 32)
            put(UInt64(liveCount), 40)
            put(UInt32(m), 48)
            put(UInt32(efConstruction), 52)
            put(entrySlot, 56)
            put(UInt32(maxLevel), 60)
            put(seed, 64)
            put(UInt64(upperWords), 72)
            put(UInt32(sections.count), 80)
            put(UInt32(Self.alignment), 84)
            put(flags, 88)
            for (i, s) in sections.enumerated() {
                let base = 96 + 32 * i
                put(s.id.rawValue, base)
                put(UInt64(s.offset), base + 8)
                put(UInt64(s.length), base + 16)
                put(s.checksum, base + 24)
            }
            put(XXH64.hash(UnsafeRawBufferPointer(start: raw.baseAddress!, count: Self.checksumOffset)), Self.checksumOffset)
        }
        return bytes
    }
}

extension Metric {
    var code: UInt32 {
        switch self {
        case .l2: 0
        case .innerProduct: 1
        case .cosine: 2
        }
    }

    init?(code: UInt32) {
        switch code {
        case 0: self = .l2
        case 1: self = .innerProduct
        case 2: self = .cosine
        default: return nil
        }
    }
}
