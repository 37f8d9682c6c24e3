import EngramSupport
import EngramIndex

/// Reproducible random numbers for tests.
typealias TestRNG = SplitMix64

enum TestData {
    /// The repository's `data/` folder.
    static let root: String = {
        var path = #filePath
        for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path + "/data"
    }()

    static let minilm = root + "/minilm-debian-20k"

    static func random(count: Int, dimension: Int, seed: UInt64) -> VectorMatrix {
        var rng = TestRNG(seed: seed)
        let values = (0..<count * dimension).map { _ in Float.random(in: -1...1, using: &rng) }
        return try! VectorMatrix(dimension: dimension, values: values)
    }

    /// Exact top-k by sorting every distance in Double precision (ties by id).
    static func bruteForce(_ base: VectorMatrix, ids: [UInt64], query: [Float], k: Int, metric: Metric) -> [UInt64] {
        func normalized(_ v: [Float]) -> [Double] {
            let d = v.map(Double.init)
            guard metric == .cosine else { return d }
            let n = d.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return d.map { $0 / n }
        }
        let q = normalized(query)
        let scored = (0..<base.count).map { i -> (Double, UInt64) in
            let x = normalized(Array(base[i]))
            let dist = metric == .l2 ? zip(q, x).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } : -zip(q, x).reduce(0) { $0 + $1.0 * $1.1 }
            return (dist, ids[i])
        }
        return scored.sorted { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }.prefix(k).map(\.1)
    }
}

/// The rows of a saved index file as the file holds them, read through its section table.
struct SavedRows {
    let header: IndexFileHeader
    let bytes: [UInt8]

    init(_ path: String) throws {
        header = try IndexFile.inspect(path)
        bytes = try FileIO.read(path)
    }

    var count: Int { header.slotCount }

    private func section(_ id: IndexFileHeader.SectionID) -> IndexFileHeader.Section { header.sections.first { $0.id == id }! }

    func id(_ slot: Int) -> UInt64 {
        bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: section(.ids).offset + slot * 8, as: UInt64.self) }
    }

    func isRemoved(_ slot: Int) -> Bool { bytes[section(.tombstones).offset + slot] != 0 }

    func vector(_ slot: Int) -> [Float] {
        let start = section(.vectors).offset + slot * header.stride * 4
        return bytes.withUnsafeBytes { raw in (0..<header.dimension).map { raw.loadUnaligned(fromByteOffset: start + $0 * 4, as: Float.self) } }
    }

    /// The 8-bit code of `slot` (HNSW files with codes).
    func codeRow(_ slot: Int) -> ArraySlice<UInt8> {
        let start = section(.codes).offset + slot * header.dimension
        return bytes[start..<start + header.dimension]
    }

    /// The f16 row of `slot` (HNSW files with the f16 copy).
    func halfRow(_ slot: Int) -> ArraySlice<UInt8> {
        let start = section(.halfVectors).offset + slot * header.stride * 2
        return bytes[start..<start + header.dimension * 2]
    }
}
