#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The size of a virtual memory page (4 KiB on x86-64 Linux; 16 KiB on Apple silicon).
package let systemPageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
