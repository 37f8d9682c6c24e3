import EngramMemory
import EngramSupport
import Foundation

/// The export requests (`create_memory_export`) this server took, newest last, at most
/// ``limit``: what a later `get_memory_export` answers from. A request holds what to export, not
/// the memories: the export is read from the store when it is fetched, so that it never returns a
/// memory deleted since (nor keeps one in this process).
final class ExportRequests: Sendable {
    struct Entry: Sendable {
        let id: UUID
        let scope: MemoryScope
        let filter: MemoryFilter
        /// The schema as the client sent it (JSON text), given back with the export.
        let schema: String
        let createdAt: Date
    }

    static let limit = 1_000
    private let entries = Locked<[Entry]>([])

    /// Records a request. - Returns: its id.
    func add(scope: MemoryScope, filter: MemoryFilter, schema: String) -> UUID {
        let entry = Entry(id: UUID(), scope: scope, filter: filter, schema: schema, createdAt: Date())
        entries.withLock { list in
            list.append(entry)
            if list.count > Self.limit { list.removeFirst(list.count - Self.limit) }
        }
        return entry.id
    }

    func entry(_ id: UUID) -> Entry? { entries.withLock { $0.last { $0.id == id } } }

    /// The newest request for exactly `scope`.
    func latest(for scope: MemoryScope) -> Entry? { entries.withLock { $0.last { $0.scope == scope } } }
}
