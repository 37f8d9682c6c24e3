/// Rows of Float32 vectors of one dimension, packed row after row in one array.
///
/// The currency of batch APIs and file readers: no per-row allocation.
public struct VectorMatrix: Sendable, Equatable {
    /// Floats per row.
    public let dimension: Int
    /// The rows, one after another.
    public internal(set) var values: [Float]

    /// - Throws: ``EngramError/invalidParameter(_:)`` when `dimension` is not positive or `values`
    ///   is not a whole number of rows.
    public init(dimension: Int, values: [Float]) throws {
        guard dimension > 0 else { throw EngramError.invalidParameter("dimension must be positive, got \(dimension)") }
        guard values.count % dimension == 0 else {
            throw EngramError.invalidParameter("\(values.count) values are not a whole number of \(dimension)-d rows")
        }
        self.dimension = dimension
        self.values = values
    }

    /// Packs `rows`; every row must have `dimension` values.
    public init(dimension: Int, rows: [[Float]]) throws {
        var values: [Float] = []
        values.reserveCapacity(rows.count * dimension)
        for row in rows {
            guard row.count == dimension else { throw EngramError.dimensionMismatch(expected: dimension, actual: row.count) }
            values.append(contentsOf: row)
        }
        try self.init(dimension: dimension, values: values)
    }

    /// The number of rows.
    public var count: Int { values.count / dimension }

    /// Row `row`.
    public subscript(row: Int) -> ArraySlice<Float> {
        values[row * dimension..<(row + 1) * dimension]
    }

    /// The first `n` rows (or all, if fewer).
    public func prefix(_ n: Int) -> VectorMatrix {
        VectorMatrix(unchecked: dimension, Array(values.prefix(n * dimension)))
    }

    init(unchecked dimension: Int, _ values: [Float]) {
        self.dimension = dimension
        self.values = values
    }
}
