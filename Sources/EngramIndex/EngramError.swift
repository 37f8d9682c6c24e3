import EngramSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Errors thrown at every public boundary of Engram's index engine.
///
/// Bad input never traps: each case names the offending value so that callers (and the CLI) can
/// report it precisely.
public enum EngramError: Error, Equatable, Sendable {
    /// A vector's length differs from the index dimension.
    case dimensionMismatch(expected: Int, actual: Int)
    /// A vector component is NaN or infinite.
    case nonFiniteComponent(index: Int)
    /// A zero vector cannot be normalized for the cosine metric.
    case zeroVector
    /// `k` (or another count) must be positive.
    case invalidK(Int)
    /// A parameter is outside its valid range; the string names it and the range.
    case invalidParameter(String)
    /// The index holds no live vectors.
    case emptyIndex
    /// No live vector has this external id.
    case unknownID(UInt64)
    /// The same external id appears twice in one batch.
    case duplicateID(UInt64)
    /// The index is full (its address-space reservation is exhausted).
    case capacityExceeded(limit: Int)
    /// A file could not be parsed; `reason` says where and why.
    case malformedFile(path: String, reason: String)
    /// An index file failed validation; `reason` names the field, section or check at fault.
    case corruptIndex(path: String, reason: String)
    /// A system call failed on a file.
    case io(path: String, operation: String, errno: Int32)
}

extension EngramError: CustomStringConvertible {
    /// What went wrong, naming the value, file or field at fault.
    public var description: String {
        switch self {
        case let .dimensionMismatch(expected, actual):
            "dimension mismatch: expected \(expected), got \(actual)"
        case let .nonFiniteComponent(index):
            "vector component \(index) is NaN or infinite"
        case .zeroVector:
            "zero vector cannot be normalized for the cosine metric"
        case let .invalidK(k):
            "k must be positive, got \(k)"
        case let .invalidParameter(message):
            "invalid parameter: \(message)"
        case .emptyIndex:
            "the index is empty"
        case let .unknownID(id):
            "unknown id \(id)"
        case let .duplicateID(id):
            "id \(id) appears more than once in the batch"
        case let .capacityExceeded(limit):
            "index capacity of \(limit) vectors exceeded; create it with a larger capacity"
        case let .malformedFile(path, reason):
            "\(path): \(reason)"
        case let .corruptIndex(path, reason):
            "\(path): corrupt index file: \(reason)"
        case let .io(path, operation, errno):
            "\(path): \(operation) failed: \(String(cString: strerror(errno)))"
        }
    }
}

extension EngramError {
    /// The index's error for a failed system call.
    package init(_ error: SystemCallError) {
        self = .io(path: error.path, operation: error.operation, errno: error.errno)
    }

    /// Runs file work, reporting a failed system call as ``io(path:operation:errno:)``.
    package static func reportingIO<R>(_ body: () throws -> R) throws -> R {
        do { return try body() } catch let error as SystemCallError { throw EngramError(error) }
    }
}
