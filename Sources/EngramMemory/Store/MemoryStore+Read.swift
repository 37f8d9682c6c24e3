import EngramIndex
import Foundation
import GRDB

extension MemoryStore {
    /// The number of memories in the store (all scopes, expired ones included).
    public var count: Int { view.read(\.count) }

    /// Every user, agent and run that has memories, with how many.
    public func entities() -> [MemoryEntity] {
        view.read { v in
            ["user_id", "agent_id", "run_id"].flatMap { field in
                (v.postings[field] ?? [:]).compactMap { key, rows -> MemoryEntity? in
                    guard case let .string(id) = key else { return nil }
                    return MemoryEntity(field: field, id: id, count: rows.count)
                }.sorted { $0.id < $1.id }
            }
        }
    }

    /// The memory `id`, if it lies in `scope` (nil: any scope).
    public func get(_ id: UUID, scope: MemoryScope? = nil) throws -> Memory {
        try locate(id, scope: scope).1
    }

    /// Memories in `scope` that pass `filter`, newest first.
    /// - Parameters:
    ///   - includeExpired: expired memories are hidden unless asked for.
    public func list(scope: MemoryScope, filter: MemoryFilter = .all, limit: Int = 100, offset: Int = 0,
                     includeExpired: Bool = false) throws -> (total: Int, memories: [Memory]) {
        guard limit > 0, offset >= 0 else { throw MemoryError.invalidParameter("limit must be positive and offset non-negative") }
        guard !scope.isEmpty else { throw MemoryError.missingScope }
        // Newest first; ties by id bytes (formatting uuidString in a comparator costs a printf per call).
        let matching = view.read { v in
            v.rows(in: scope, matching: filter, at: Date(), includeExpired: includeExpired).compactMap { v.memories[$0] }
        }.sorted { a, b in
            let (x, y) = (a.memory, b.memory)
            return x.createdAt != y.createdAt ? x.createdAt > y.createdAt : x.id.orderKey > y.id.orderKey
        }
        return (matching.count, matching.dropFirst(offset).prefix(limit).map(\.memory))
    }

    /// The history of `id`, oldest first (deleted memories keep their events, without texts).
    public func history(_ id: UUID, scope: MemoryScope? = nil) throws -> [MemoryEvent] {
        if scope != nil { _ = try locate(id, scope: scope) }
        return try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM history WHERE memory_id = ? ORDER BY seq", arguments: [id.uuidString]).map {
                MemoryEvent(memoryID: id, kind: MemoryEvent.Kind(rawValue: $0["event"])!, oldText: $0["old_text"],
                            newText: $0["new_text"], at: Date(timeIntervalSince1970: $0["at"]))
            }
        }
    }

    /// Live and tombstoned nodes of each tenant graph, by partition value (diagnostics and tests).
    package var graphNodeCounts: [String: (live: Int, tombstones: Int)] {
        var counts: [String: (live: Int, tombstones: Int)] = [:]
        for (partition, graph) in index.graphs.read({ $0 }) { counts[partition.value] = (graph.count, graph.tombstoneCount) }
        return counts
    }
}
