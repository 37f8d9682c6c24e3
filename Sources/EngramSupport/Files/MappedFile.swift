#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CEngramSupport

/// A whole file mapped read-only: index sections, view snapshots and model weights are used in
/// place through it. It is unmapped when the last owner (an array or box that points into it) goes away.
package final class MappedFile: @unchecked Sendable {  // immutable after init
    package let path: String
    package let base: UnsafeRawPointer
    package let size: Int

    package init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemCallError(path: path, operation: "open", errno: errno) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw SystemCallError(path: path, operation: "stat", errno: errno) }
        size = Int(st.st_size)
        guard size > 0 else {
            // mmap cannot map nothing; an empty file is zero bytes at a pointer never read.
            base = UnsafeRawPointer(bitPattern: MemoryLayout<UInt64>.alignment)!
            self.path = path
            return
        }
        let p = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0)
        guard let p, p != MAP_FAILED else { throw SystemCallError(path: path, operation: "mmap", errno: errno) }
        base = UnsafeRawPointer(p)
        self.path = path
    }

    deinit {
        if size > 0 { munmap(UnsafeMutableRawPointer(mutating: base), size) }
    }

    /// Maps every page of a range into this process (reading from disk the ones not cached), so that
    /// later reads take no page faults. Blocks until done.
    package func populate(offset: Int, length: Int) {
        guard let (start, bytes) = pages(offset: offset, length: length) else { return }
        #if os(Linux)
        // MADV_POPULATE_READ (Linux 5.14): one call instead of a fault per page.
        if madvise(start, bytes, 22) == 0 { return }
        #endif
        engram_touch_pages(start, bytes, systemPageSize)
    }

    /// Tells the kernel how a range will be read (`MADV_RANDOM` for graphs, `MADV_SEQUENTIAL` for scans).
    package func advise(offset: Int, length: Int, _ advice: Int32) {
        guard let (start, bytes) = pages(offset: offset, length: length) else { return }
        madvise(start, bytes, advice)
    }

    /// The whole pages covering `offset..<offset + length`, cut at the end of the file; nil when empty.
    private func pages(offset: Int, length: Int) -> (UnsafeMutableRawPointer, Int)? {
        let start = offset / systemPageSize * systemPageSize
        guard length > 0, start < size else { return nil }
        return (UnsafeMutableRawPointer(mutating: base + start), min(size - start, length + offset - start))
    }
}
