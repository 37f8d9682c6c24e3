#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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

    /// Tells the kernel how a range will be read (`MADV_RANDOM` for graphs, `MADV_SEQUENTIAL` for scans).
    func advise(offset: Int, length: Int, _ advice: Int32) {
        let page = ReservedMemory.pageSize
        let start = offset / page * page
        guard length > 0, start < size else { return }
        madvise(UnsafeMutableRawPointer(mutating: base + start), min(size - start, length + offset - start), advice)
    }
}
