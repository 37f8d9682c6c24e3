import EngramSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A range of address space reserved once and committed as it fills, so that its base address never
/// moves.
///
/// Lock-free readers may hold pointers into it while a writer grows it: growing only commits more
/// pages of the same reservation (`mprotect`), it never copies. Reserved but uncommitted pages cost
/// no memory and count against no commit limit (`PROT_NONE`). Pages are zero when committed.
///
/// Not thread-safe for `commit`: its owner serializes growth.
package final class ReservedMemory: @unchecked Sendable {  // base never changes; commit is serialized by the owner
    package let base: UnsafeMutableRawPointer
    let reservedBytes: Int
    package private(set) var committedBytes = 0


    /// Reserves `bytes` of address space (rounded up to whole pages; at least one page).
    package init(reserving bytes: Int) throws {
        let size = Self.roundUpToPage(max(bytes, 1))
        #if canImport(Glibc)
        let flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE
        #else
        let flags = MAP_PRIVATE | MAP_ANON
        #endif
        let p = mmap(nil, size, PROT_NONE, flags, -1, 0)
        guard let p, p != MAP_FAILED else {
            throw EngramError.io(path: "<anonymous>", operation: "mmap reserve \(size) bytes", errno: errno)
        }
        base = p
        reservedBytes = size
    }

    deinit { munmap(base, reservedBytes) }

    /// Makes the first `bytes` readable and writable. Shrinking is a no-op.
    package func commit(_ bytes: Int) throws {
        guard bytes > committedBytes else { return }
        guard bytes <= reservedBytes else { throw EngramError.capacityExceeded(limit: reservedBytes) }
        // Grow geometrically so that a stream of single adds makes O(log n) system calls.
        let target = min(reservedBytes, Self.roundUpToPage(max(bytes, committedBytes * 2, 1 << 16)))
        guard mprotect(base, target, PROT_READ | PROT_WRITE) == 0 else {
            throw EngramError.io(path: "<anonymous>", operation: "mprotect commit \(target) bytes", errno: errno)
        }
        committedBytes = target
    }

    static func roundUpToPage(_ n: Int) -> Int { (n + systemPageSize - 1) / systemPageSize * systemPageSize }
}
