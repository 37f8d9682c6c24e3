import EngramSupport
/// A growable array of plain elements whose storage never moves, so lock-free readers can hold
/// pointers while a writer grows it. New elements read as zero.
///
/// Backed either by an address-space reservation (writable, grows with ``reserve(_:)``) or by a
/// section of a read-only ``MappedFile`` (fixed size; writing to it is a programming error that the
/// owning index prevents by copying to memory first). Growth is serialized by the owner.
final class ReservedArray<Element: BitwiseCopyable>: @unchecked Sendable {  // base is fixed; growth serialized by owner
    let capacity: Int
    let base: UnsafeMutablePointer<Element>
    private let memory: ReservedMemory?
    private let mapping: MappedFile?

    init(capacity: Int) throws {
        let (bytes, overflow) = capacity.multipliedReportingOverflow(by: MemoryLayout<Element>.stride)
        guard !overflow else { throw EngramError.invalidParameter("capacity \(capacity) is too large") }
        let memory = try ReservedMemory(reserving: bytes)
        self.capacity = capacity
        self.memory = memory
        self.mapping = nil
        base = memory.base.assumingMemoryBound(to: Element.self)
    }

    /// `count` elements in place at `offset` of `mapping` (the caller has checked the bounds).
    init(mapping: MappedFile, offset: Int, count: Int) {
        capacity = count
        memory = nil
        self.mapping = mapping
        base = UnsafeMutableRawPointer(mutating: mapping.base + offset).assumingMemoryBound(to: Element.self)
    }

    var isMapped: Bool { mapping != nil }

    /// Maps all of a file-backed array's pages now (see ``MappedFile/populate(offset:length:)``); an
    /// array in memory is left as it is.
    func populate() {
        guard let mapping else { return }
        mapping.populate(offset: UnsafeRawPointer(base) - mapping.base, length: capacity * MemoryLayout<Element>.stride)
    }

    /// Makes elements `0..<count` accessible.
    func reserve(_ count: Int) throws {
        guard count <= capacity else { throw EngramError.capacityExceeded(limit: capacity) }
        guard let memory else { return }
        try memory.commit(count * MemoryLayout<Element>.stride)
    }

    /// The raw bytes of elements `0..<count`.
    func bytes(count: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base, count: count * MemoryLayout<Element>.stride)
    }
}
