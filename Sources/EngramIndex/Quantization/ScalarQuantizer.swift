import CEngramKernels

/// Per-dimension 8-bit scalar quantization: the compact code a graph can be walked on, a quarter
/// of the f32 bytes, with the best candidates re-scored in full precision afterwards.
///
/// Each dimension is fitted to the range of a sample, widened by 10%: a component x becomes the byte
/// `round((x − centre) · scale) + 128`, clamped to 1…255, with `scale = 127 / half-range`. Centring
/// each dimension keeps data far from the origin (100 ± 0.1) as well resolved as data around it,
/// which f16 cannot do. A query is prepared once per search: its weights (`q / scale`, or
/// `(q − centre) / scale` for l2) scaled as a whole to signed bytes, so that a distance costs one
/// integer dot product of bytes (``DistanceKernels/CodeFunction``: VNNI, AVX2 or Swift SIMD) and
/// a few float operations, and estimates the true distance (the same scale as the f32 one).
package struct ScalarQuantizer: Sendable, Equatable {
    /// Per dimension: the centre of the fitted range, and codes per unit.
    package let centers: [Float]
    package let scales: [Float]
    /// The largest squared reconstruction error of a faithful code: 1% of the sample's mean
    /// squared distance from the centres (rounding inside the range costs ~1/20,000 of it on
    /// embeddings; a component a little outside the range is clamped and still passes; data
    /// scaled, shifted or spread well past the fitted range does not).
    package let errorBound: Float

    package var dimension: Int { centers.count }

    /// A quantizer with the given ranges and error bound (from a file); nil when they are not
    /// finite and positive.
    package init?(centers: [Float], scales: [Float], errorBound: Float) {
        guard centers.count == scales.count, centers.allSatisfy(\.isFinite), scales.allSatisfy({ $0.isFinite && $0 > 0 }),
              errorBound.isFinite, errorBound >= 0 else { return nil }
        self.centers = centers
        self.scales = scales
        self.errorBound = errorBound
        steps = scales.map { 1 / $0 }
    }

    /// 1 / scale per dimension: a query's preparation multiplies instead of dividing.
    private let steps: [Float]

    /// Fitted to the ranges of `count` rows of `dimension` finite floats (`row(i)` points at row i).
    /// A dimension constant over the sample gets the mean resolution of the others.
    /// - Precondition: `count > 0`.
    package init(fitting row: (Int) -> UnsafePointer<Float>, count: Int, dimension: Int) {
        precondition(count > 0, "a quantizer is fitted to at least one row")
        var low = [Float](repeating: .infinity, count: dimension), high = [Float](repeating: -.infinity, count: dimension)
        for r in 0..<count {
            let x = row(r)
            for d in 0..<dimension {
                low[d] = min(low[d], x[d])
                high[d] = max(high[d], x[d])
            }
        }
        // A margin of 10% past the sample's range: later vectors fall a little outside it often.
        let halves = (0..<dimension).map { (high[$0] - low[$0]) / 2 * 1.1 }
        let spread = halves.filter { $0 > 0 }
        let fallback = spread.isEmpty ? 1 : spread.reduce(0, +) / Float(spread.count)
        let centers = (0..<dimension).map { low[$0] / 2 + high[$0] / 2 }
        var energy: Double = 0
        for r in 0..<count {
            let x = row(r)
            for d in 0..<dimension { energy += Double(x[d] - centers[d]) * Double(x[d] - centers[d]) }
        }
        self.init(centers: centers, scales: halves.map { 127 / ($0 > 0 && $0.isNormal ? $0 : fallback) },
                  errorBound: Float(energy / Double(count) / 100))!
    }

    /// Writes the code of `vector` (`dimension` bytes) to `codes`, and returns its squared
    /// reconstruction norm about the centres (what an l2 distance needs) and whether the code is
    /// faithful: a vector outside the fitted range is clamped, and past ``errorBound`` the code no
    /// longer stands for it.
    package func encode(_ vector: UnsafePointer<Float>, into codes: UnsafeMutablePointer<UInt8>) -> (norm: Float, faithful: Bool) {
        var error: Float = 0, norm: Float = 0
        for d in 0..<dimension {
            let offset = (vector[d] - centers[d]) * scales[d]
            let code = offset.isFinite ? max(-127, min(127, offset.rounded())) : 0
            codes[d] = UInt8(Int(code) + 128)
            let rebuilt = code / scales[d], delta = (vector[d] - centers[d]) - rebuilt
            error += delta * delta
            norm += rebuilt * rebuilt
        }
        return (norm, error.isFinite && error <= errorBound)
    }

    /// A query prepared for code distances: its signed bytes are written by ``prepare(_:metric:into:)``.
    package struct Query {
        /// 128 · Σ bytes: removes the codes' bias from their dot product.
        package var bias: Int32
        /// Converts the integer dot product back to the weights' scale.
        package var unit: Float
        /// The query's constant part of every distance (−q·centre; ‖q − centre‖² for l2).
        package var offset: Float
        package var metric: Metric

        /// The estimated distance to the vector with `dot` = the code kernel's result over its code
        /// and `norm` = its ``encode(_:into:)`` norm (read for l2 only).
        @inline(__always)
        package func distance(dot: Int32, norm: Float) -> Float {
            let product = Float(dot &- bias) * unit
            return metric == .l2 ? offset + norm - 2 * product : offset - product
        }
    }

    /// Writes the signed bytes of `query` (`dimension` of them) to `bytes`.
    /// - Complexity: O(dimension), in a vectorized C loop (a query is prepared once per search,
    ///   and at ef 24 a scalar Swift loop here was 13% of a search's time on 384 dimensions).
    package func prepare(_ query: UnsafePointer<Float>, metric: Metric, into bytes: UnsafeMutablePointer<Int8>) -> Query {
        var sum: Int32 = 0, offset: Float = 0
        let toBytes = centers.withUnsafeBufferPointer { centers in
            steps.withUnsafeBufferPointer { steps in
                engram_code_prepare(query, centers.baseAddress, steps.baseAddress, dimension, metric == .l2 ? 1 : 0, bytes, &sum, &offset)
            }
        }
        return Query(bias: 128 &* sum, unit: 1 / toBytes, offset: offset, metric: metric)
    }
}
