/// A growable array of plain elements in one address-space reservation: elements never move, so
/// lock-free readers can hold pointers while a writer grows it. New elements read as zero.
///
/// Growth (``reserve(_:)``) is serialized by the owner.
final class ReservedArray<Element: BitwiseCopyable>: @unchecked Sendable {  // base is fixed; growth serialized by owner
    let capacity: Int
    private let memory: ReservedMemory

    init(capacity: Int) throws {
        let (bytes, overflow) = capacity.multipliedReportingOverflow(by: MemoryLayout<Element>.stride)
        guard !overflow else { throw EngramError.invalidParameter("capacity \(capacity) is too large") }
        self.capacity = capacity
        memory = try ReservedMemory(reserving: bytes)
    }

    @inline(__always)
    var base: UnsafeMutablePointer<Element> { memory.base.assumingMemoryBound(to: Element.self) }

    /// Makes elements `0..<count` accessible.
    func reserve(_ count: Int) throws {
        guard count <= capacity else { throw EngramError.capacityExceeded(limit: capacity) }
        try memory.commit(count * MemoryLayout<Element>.stride)
    }

    /// Bytes committed so far (resident at most).
    var committedBytes: Int { memory.committedBytes }
}
