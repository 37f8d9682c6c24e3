/// Fixed-dimension Float32 rows in one contiguous, 64-byte-aligned buffer addressed by dense
/// `UInt32` slots.
///
/// The row stride is the dimension rounded up to 16 floats (64 bytes), so every row starts on a
/// cache line and rows can feed `cblas_sgemm` directly (leading dimension = stride). Rows are
/// immutable once written: a slot is written before it is published to readers and is never
/// rewritten while readers may see it, which is what lets searches run without locks.
final class VectorStorage: @unchecked Sendable {  // rows are write-once; growth is serialized by the owning index
    let dimension: Int
    let stride: Int
    let capacity: Int
    private let memory: ReservedMemory

    /// - Parameters:
    ///   - dimension: floats per vector, at least 1.
    ///   - capacity: the most rows this storage can ever hold (address space is reserved for them,
    ///     memory is committed only as rows are written).
    init(dimension: Int, capacity: Int) throws {
        precondition(dimension > 0 && capacity > 0)
        self.dimension = dimension
        self.stride = (dimension + 15) & ~15
        self.capacity = capacity
        let (bytes, overflow) = capacity.multipliedReportingOverflow(by: stride * 4)
        guard !overflow else { throw EngramError.invalidParameter("capacity \(capacity) is too large") }
        memory = try ReservedMemory(reserving: bytes)
    }

    /// Default capacity: as many rows as fit in 256 GiB of address space, at most 2^26.
    static func defaultCapacity(dimension: Int) -> Int {
        let stride = (dimension + 15) & ~15
        return min(1 << 26, (256 << 30) / (stride * 4))
    }

    @inline(__always)
    var base: UnsafeMutablePointer<Float> { memory.base.assumingMemoryBound(to: Float.self) }

    @inline(__always)
    func row(_ slot: Int) -> UnsafeMutablePointer<Float> { base + slot &* stride }

    /// Makes rows `0..<count` writable.
    func reserve(rows count: Int) throws {
        guard count <= capacity else { throw EngramError.capacityExceeded(limit: capacity) }
        try memory.commit(count * stride * 4)
    }

    /// Writes `vector` (already validated) into `slot`; padding lanes stay zero.
    func write(_ vector: UnsafeBufferPointer<Float>, to slot: Int) {
        row(slot).update(from: vector.baseAddress!, count: dimension)
    }
}
