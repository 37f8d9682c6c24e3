import Foundation

/// Errors of the memory layer.
public enum MemoryError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A memory's text is empty or blank.
    case emptyText
    /// No scope field is set where one is required.
    case missingScope
    /// Metadata the store cannot keep: a reserved or empty key, a non-finite number, too large.
    case invalidMetadata(String)
    /// No memory with this id in the scope asked about (or at all).
    case notFound(UUID)
    /// An update would give a memory the text that another memory of its scope holds (each text
    /// is stored once per scope): the associated value is that memory.
    case duplicateText(UUID)
    /// A memory to supersede was superseded already (the associated values: it, its successor).
    case alreadySuperseded(UUID, by: UUID)
    /// The memory is immutable (``Memory/immutable``): it cannot be updated, superseded,
    /// invalidated or deleted by id.
    case immutable(UUID)
    /// A memory added with an id of its own (an import) whose id the store holds already.
    case idInUse(UUID)
    /// A value outside what the call accepts; the string says which and why.
    case invalidParameter(String)
    /// Another process has the store open (its pid, when the system tells it).
    case storeInUse(directory: String, pid: Int)
    /// The store was closed (`MemoryStore.close()`); open it again to use it.
    case closed
    /// A system call failed on a file of the store.
    case io(path: String, operation: String, errno: Int32)
    /// The record store holds something it cannot have written (a damaged or foreign database).
    case corruptRecord(String)
    /// The record store cannot be reached now (its database is down or too slow); retry later.
    case unavailable(String)

    /// What went wrong, for people and for `{"detail": …}` answers.
    public var description: String {
        switch self {
        case .emptyText: "memory text is empty"
        case .missingScope: "a memory needs at least one of user_id, agent_id, run_id"
        case let .invalidMetadata(reason): "invalid metadata: \(reason)"
        case let .notFound(id): "no memory \(id.uuidString.lowercased()) in this scope"
        case let .duplicateText(id): "memory \(id.uuidString.lowercased()) of this scope already holds this text"
        case let .alreadySuperseded(id, successor):
            "memory \(id.uuidString.lowercased()) was superseded already (by \(successor.uuidString.lowercased())): supersede the current version"
        case let .immutable(id):
            "memory \(id.uuidString.lowercased()) is immutable: it cannot be updated, superseded, invalidated or deleted by id"
        case let .idInUse(id): "memory \(id.uuidString.lowercased()) exists already"
        case let .invalidParameter(reason): "invalid parameter: \(reason)"
        case let .storeInUse(directory, pid):
            "the store \(directory) is open in another process\(pid > 0 ? " (pid \(pid))" : ""): one process at a time, or it would not see the other's changes"
        case .closed: "the store is closed"
        case let .io(path, operation, errno): "\(path): \(operation) failed: \(String(cString: strerror(errno)))"
        case let .corruptRecord(reason): "the record store is damaged: \(reason)"
        case let .unavailable(reason): "the store is unavailable: \(reason)"
        }
    }
}
