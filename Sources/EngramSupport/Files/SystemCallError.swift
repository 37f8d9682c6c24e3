#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A system call that failed on a file: which file, which operation, and `errno`.
///
/// The support layer's only error; each library turns it into its own typed error at its boundary
/// (``EngramError/io(path:operation:errno:)`` in the index).
package struct SystemCallError: Error, Sendable, Equatable, CustomStringConvertible {
    package let path: String
    package let operation: String
    package let errno: Int32

    package init(path: String, operation: String, errno: Int32) {
        self.path = path
        self.operation = operation
        self.errno = errno
    }

    package var description: String { "\(path): \(operation) failed: \(String(cString: strerror(errno)))" }
}
