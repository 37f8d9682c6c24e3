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
