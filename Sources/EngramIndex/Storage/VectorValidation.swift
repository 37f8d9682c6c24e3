/// Checks and prepares vectors at every public entry point, so that the kernels never see a wrong
/// length, a NaN or an infinity.
enum VectorValidation {
    /// Validates `vector` for an index of `dimension` and `metric`, and returns the form that is
    /// stored and searched (normalized to unit length for cosine).
    static func prepared(_ vector: some Collection<Float>, dimension: Int, metric: Metric) throws -> [Float] {
        guard vector.count == dimension else {
            throw EngramError.dimensionMismatch(expected: dimension, actual: vector.count)
        }
        var out = Array(vector)
        try out.withUnsafeMutableBufferPointer {
            try prepareRow($0, metric: metric, rowIndex: 0, dimension: dimension)
        }
        return out
    }

    /// Runs `body` with the validated (and, for cosine, normalized) copy of `vector` in temporary
    /// storage: a query's copy costs no allocation (the stack holds it when it fits).
    /// - Throws: as ``prepared(_:dimension:metric:)``, and what `body` throws.
    static func withPrepared<R>(_ vector: [Float], dimension: Int, metric: Metric,
                                _ body: (UnsafePointer<Float>) throws -> R) throws -> R {
        guard vector.count == dimension else { throw EngramError.dimensionMismatch(expected: dimension, actual: vector.count) }
        return try withUnsafeTemporaryAllocation(of: Float.self, capacity: dimension) { row in
            _ = row.initialize(from: vector)
            try prepareRow(row, metric: metric, rowIndex: 0, dimension: dimension)
            return try body(row.baseAddress!)
        }
    }

    /// Validates `count` rows of `dimension` packed in `flat` in place, normalizing for cosine.
    static func prepareRows(_ flat: inout [Float], dimension: Int, metric: Metric) throws {
        guard dimension > 0, flat.count % dimension == 0 else {
            throw EngramError.dimensionMismatch(expected: dimension, actual: flat.count % max(dimension, 1))
        }
        try flat.withUnsafeMutableBufferPointer { buf in
            for start in stride(from: 0, to: buf.count, by: dimension) {
                let row = UnsafeMutableBufferPointer(rebasing: buf[start..<start + dimension])
                try prepareRow(row, metric: metric, rowIndex: start / dimension, dimension: dimension)
            }
        }
    }

    private static func prepareRow(
        _ row: UnsafeMutableBufferPointer<Float>, metric: Metric, rowIndex: Int, dimension: Int
    ) throws {
        var norm2: Double = 0
        for i in 0..<row.count {
            let x = row[i]
            guard x.isFinite else { throw EngramError.nonFiniteComponent(index: rowIndex * dimension + i) }
            norm2 += Double(x) * Double(x)
        }
        guard metric.normalizes else { return }
        guard norm2 > 0, norm2.isFinite else { throw EngramError.zeroVector }
        let inv = Float(1 / norm2.squareRoot())
        for i in 0..<row.count { row[i] *= inv }
    }
}
