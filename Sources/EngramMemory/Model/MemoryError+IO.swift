import EngramSupport

extension MemoryError {
    /// Runs file work, reporting a failed system call as ``io(path:operation:errno:)``.
    static func reportingIO<R>(_ body: () throws -> R) throws -> R {
        do { return try body() } catch let error as SystemCallError {
            throw MemoryError.io(path: error.path, operation: error.operation, errno: error.errno)
        }
    }
}
