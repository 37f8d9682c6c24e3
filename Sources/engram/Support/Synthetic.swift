import EngramIndex
import EngramSupport
import Foundation

enum Synthetic {
    /// `count` vectors with independent standard normal components, reproducible from `seed`.
    static func gaussian(count: Int, dimension: Int, seed: UInt64) -> VectorMatrix {
        var rng = SplitMix64(seed: seed)
        var values = [Float](repeating: 0, count: count * dimension)
        var i = 0
        while i < values.count {
            // Box–Muller: two normals from two uniforms.
            let u1 = max(Double(rng.next() >> 11) / Double(1 << 53), .leastNonzeroMagnitude)
            let u2 = Double(rng.next() >> 11) / Double(1 << 53)
            let r = (-2 * log(u1)).squareRoot()
            values[i] = Float(r * cos(2 * .pi * u2))
            if i + 1 < values.count { values[i + 1] = Float(r * sin(2 * .pi * u2)) }
            i += 2
        }
        return try! VectorMatrix(dimension: dimension, values: values)
    }
}
