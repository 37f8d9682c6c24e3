#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CEngramKernels

/// A whole file mapped read-only. Index sections are used in place through it; it is unmapped when
/// the last array that points into it goes away.
package final class MappedFile: @unchecked Sendable {  // immutable after init
    package let path: String
    package let base: UnsafeRawPointer
    package let size: Int

    package init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw EngramError.io(path: path, operation: "open", errno: errno) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw EngramError.io(path: path, operation: "stat", errno: errno) }
        guard st.st_size > 0 else { throw EngramError.corruptIndex(path: path, reason: "the file is empty") }
        size = Int(st.st_size)
        let p = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0)
        guard let p, p != MAP_FAILED else { throw EngramError.io(path: path, operation: "mmap", errno: errno) }
        base = UnsafeRawPointer(p)
        self.path = path
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), size) }

    /// Maps every page of a range into this process (reading from disk the ones not cached), so that
    /// later reads take no page faults. Blocks until done.
    func populate(offset: Int, length: Int) {
        guard let (start, bytes) = pages(offset: offset, length: length) else { return }
        #if os(Linux)
        // MADV_POPULATE_READ (Linux 5.14): one call instead of a fault per page.
        if madvise(start, bytes, 22) == 0 { return }
        #endif
        engram_touch_pages(start, bytes, ReservedMemory.pageSize)
    }

    /// Tells the kernel how a range will be read (`MADV_RANDOM` for graphs, `MADV_SEQUENTIAL` for scans).
    func advise(offset: Int, length: Int, _ advice: Int32) {
        guard let (start, bytes) = pages(offset: offset, length: length) else { return }
        madvise(start, bytes, advice)
    }

    /// The whole pages covering `offset..<offset + length`, cut at the end of the file; nil when empty.
    private func pages(offset: Int, length: Int) -> (UnsafeMutableRawPointer, Int)? {
        let start = offset / ReservedMemory.pageSize * ReservedMemory.pageSize
        guard length > 0, start < size else { return nil }
        return (UnsafeMutableRawPointer(mutating: base + start), min(size - start, length + offset - start))
    }
}
