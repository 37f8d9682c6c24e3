import EngramSupport
/// Fixed-dimension Float32 rows in one contiguous, 64-byte-aligned buffer addressed by dense
/// `UInt32` slots.
///
/// The row stride is the dimension rounded up to 16 floats (64 bytes), so every row starts on a
/// cache line and rows can feed `cblas_sgemm` directly (leading dimension = stride). Rows are
/// immutable once published: a slot is written before readers can reach it and is never
/// rewritten while they may, which is what lets searches run without locks.
final class VectorStorage: @unchecked Sendable {  // rows are write-once; growth is serialized by the owning index
    let dimension: Int
    let stride: Int
    let rows: ReservedArray<Float>

    /// - Parameters:
    ///   - dimension: floats per vector, at least 1.
    ///   - capacity: the most rows this storage can ever hold (address space is reserved for them,
    ///     memory is committed only as rows are written).
    init(dimension: Int, capacity: Int) throws {
        precondition(dimension > 0 && capacity > 0)
        self.dimension = dimension
        self.stride = Self.stride(dimension)
        let (count, overflow) = capacity.multipliedReportingOverflow(by: stride)
        guard !overflow else { throw EngramError.invalidParameter("capacity \(capacity) is too large") }
        rows = try ReservedArray(capacity: count)
    }

    /// `count` rows in place in a mapped file section.
    init(dimension: Int, mapping: MappedFile, offset: Int, count: Int) {
        self.dimension = dimension
        self.stride = Self.stride(dimension)
        rows = ReservedArray(mapping: mapping, offset: offset, count: count * stride)
    }

    static func stride(_ dimension: Int) -> Int { (dimension + 15) & ~15 }

    /// Default capacity: as many rows as fit in 256 GiB of address space, at most 2^26.
    static func defaultCapacity(dimension: Int) -> Int {
        min(1 << 26, (256 << 30) / (stride(dimension) * 4))
    }

    var capacity: Int { rows.capacity / stride }

    @inline(__always)
    var base: UnsafeMutablePointer<Float> { rows.base }

    @inline(__always)
    func row(_ slot: Int) -> UnsafeMutablePointer<Float> { rows.base + slot &* stride }

    /// Makes rows `0..<count` writable.
    func reserve(rows count: Int) throws {
        guard count <= capacity else { throw EngramError.capacityExceeded(limit: capacity) }
        try rows.reserve(count * stride)
    }

    /// A writable in-memory copy of rows `0..<count` (of a mapped storage, before its first write).
    func copiedToMemory(rows count: Int) throws -> VectorStorage {
        let copy = try VectorStorage(dimension: dimension, capacity: max(capacity, Self.defaultCapacity(dimension: dimension)))
        try copy.reserve(rows: count)
        copy.base.update(from: base, count: count * stride)
        return copy
    }

    /// Writes `vector` (already validated) into `slot`; padding lanes stay zero.
    func write(_ vector: UnsafeBufferPointer<Float>, to slot: Int) {
        row(slot).update(from: vector.baseAddress!, count: dimension)
    }
}
