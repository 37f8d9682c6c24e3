import EngramIndex
import Foundation

extension MemoryStore {
    /// The number of memories in the store (all scopes, expired ones included).
    public var count: Int { writer.state.count }

    /// Changes since the last checkpoint (what the next open would catch up from the record).
    public var changesSinceCheckpoint: Int { writer.changesSinceCheckpoint }

    /// How far behind the shared record this node may be: the time since it last read the change
    /// feed through to its end (what other nodes committed before that read, it holds). About the
    /// poll interval (1 s) or less while the database answers; it grows while it does not. Nil for
    /// a record only this store writes (SQLite), which is never behind.
    public var catchUpLag: Duration? {
        records.isShared ? ContinuousClock.now - caughtUp.withLock { $0 } : nil
    }

    /// The bytes of the index files the last checkpoint lists (its manifest included); 0 before
    /// the first checkpoint.
    public var checkpointBytes: Int { checkpointer.listedBytes() }

    /// Whether the work an open leaves for the background (the index files' check, graph
    /// rebuilds, keyword indexes, loading the flat vectors into memory) is done: searches are then
    /// as fast as they get. Every call works before that too.
    public var isReady: Bool { backgroundOpeningDone.withLock { $0 } }

    /// Every user, agent and run that has memories, with how many: users, then agents, then runs.
    public func entities() -> [MemoryEntity] { writer.state.entities }

    /// The memory `id`, if it lies in `scope` (nil: any scope).
    /// - Throws: ``MemoryError/notFound(_:)`` otherwise.
    public func get(_ id: UUID, scope: MemoryScope? = nil) throws -> Memory {
        try ensureOpen()
        guard let memory = try records.memory(id), scope.map({ $0.contains(memory.scope) }) ?? true else { throw MemoryError.notFound(id) }
        return memory
    }

    /// ``get(_:scope:)`` on a thread of the store's own (the record may be a database across a network).
    public func get(_ id: UUID, scope: MemoryScope? = nil) async throws -> Memory {
        try await onReadQueue { try self.get(id, scope: scope) }
    }

    /// Memories in `scope` that pass `filter`, newest first (ties by id), `limit` from `offset`.
    /// - Parameters:
    ///   - scope: at least one field set; only memories inside it are listed.
    ///   - filter: Mem0's filter grammar (see ``MemoryFilter``).
    ///   - limit: the page size (positive).
    ///   - offset: memories skipped before the page.
    ///   - includeExpired: expired memories are hidden unless asked for.
    ///   - validity: what is true now (default), at an instant, or every version.
    /// - Returns: how many pass, and the page.
    /// - Complexity: O(memories passing) to sort them, plus the filter's work.
    public func list(scope: MemoryScope, filter: MemoryFilter = .all, limit: Int = 100, offset: Int = 0,
                     includeExpired: Bool = false, validity: Validity = .current) throws -> (total: Int, memories: [Memory]) {
        try ensureOpen()
        try MemoryValidation.check(limit: limit, offset: offset)
        try MemoryValidation.check(scope: scope)
        let search = MemorySearch(state: writer.state, vectors: writer.vectors, reach: .scope(scope), filter: filter, now: Date(), validity: validity)
        let candidates = search.candidates(includeExpired: includeExpired)
        // Newest first; ties by id bytes (formatting uuidString in a comparator costs a printf per call).
        let matching = candidates.parts.flatMap { part in part.rows.compactMap { part.partition.memory(row: $0)?.memory } }
            .sorted { x, y in x.createdAt != y.createdAt ? x.createdAt > y.createdAt : x.id.orderKey > y.id.orderKey }
        return (matching.count, Array(matching.dropFirst(offset).prefix(limit)))
    }

    /// The history of `id`, oldest first (deleted memories keep their events, without texts).
    /// - Parameters:
    ///   - id: the memory.
    ///   - scope: when given, the memory must still exist and lie in it.
    public func history(_ id: UUID, scope: MemoryScope? = nil) throws -> [MemoryEvent] {
        if scope != nil { _ = try get(id, scope: scope) }
        try ensureOpen()
        return try records.history(id)
    }

    /// ``history(_:scope:)`` on a thread of the store's own.
    public func history(_ id: UUID, scope: MemoryScope? = nil) async throws -> [MemoryEvent] {
        try await onReadQueue { try self.history(id, scope: scope) }
    }

    /// Live and tombstoned nodes of each tenant graph, by partition value (diagnostics and tests).
    package var graphNodeCounts: [String: (live: Int, tombstones: Int)] {
        var counts: [String: (live: Int, tombstones: Int)] = [:]
        for (key, partition) in writer.state.partitions {
            if let graph = partition.graph { counts[key.value] = (graph.count, graph.tombstoneCount) }
        }
        return counts
    }
}
