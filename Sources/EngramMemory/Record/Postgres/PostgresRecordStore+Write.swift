import EngramSupport
import Foundation
import Logging
import NIOCore
import PostgresNIO

extension PostgresRecordStore {
    func add(_ items: [NewMemory], embeddings: [[Float]], at now: Date) throws -> (change: RecordChange, memories: [Memory]) {
        let fresh = items.map { $0.memory(at: now) }
        let given = items.compactMap(\.id)
        return try blocking { [self] in
            try await transaction { connection in
                // An id given (an import) must be new, unless it is that memory again (a duplicate
                // text, returned as such): a conflict on it would otherwise pass for a duplicate.
                // Only then: a plain add would pay a round trip for nothing.
                if !given.isEmpty {
                    let byID = Dictionary(fresh.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
                    for try await (id, hash, user, agent, run) in try await connection.query(
                        "SELECT id, hash, user_id, agent_id, run_id FROM engram_memory WHERE id = ANY(\(given))", logger: logger)
                        .decode((UUID, String, String?, String?, String?).self) {
                        guard let item = byID[id], item.hash == hash, item.scope == MemoryScope(userID: user, agentID: agent, runID: run) else {
                            throw MemoryError.idInUse(id)
                        }
                    }
                }
                var change = try await close(zip(items, fresh).compactMap { item, memory in item.supersedes.map { ($0, memory) } },
                                             at: now, connection)
                // One statement for the batch, its history and its feed entries. A text the scope
                // holds (stored, being stored by another node, or earlier in this batch) conflicts
                // on the unique index and is skipped: the existing memory is returned in its place.
                let rows = try await insert(fresh, embeddings: embeddings, publishing: true, connection)
                var memories: [Memory] = []
                for (memory, embedding) in zip(fresh, embeddings) {
                    if let row = rows[memory.id] {
                        change.added.append(StoredRecord(row: row, memory: memory, embedding: embedding))
                        memories.append(memory)
                    } else if let existing = try await duplicate(of: memory.hash, in: memory.scope, connection) {
                        try await name(existing, successorOf: memory.id, in: &change, connection)
                        memories.append(existing)
                    } else {
                        throw MemoryError.corruptRecord("a duplicate of a text was neither inserted nor found")
                    }
                }
                change.added.sort { $0.row < $1.row }
                return (change, memories)
            }
        }
    }

    func update(_ edits: [RecordEdit], in scope: MemoryScope?, at now: Date) throws -> (change: RecordChange, memories: [Memory]) {
        try blocking { [self] in
            try await transaction { connection in
                var change = RecordChange(), memories: [Memory] = []
                let locked = try await lockedRecords(edits.map(\.id), in: scope, connection)
                for edit in edits {
                    guard let (row, old, stored) = locked[edit.id] else { throw MemoryError.notFound(edit.id) }
                    let memory = try old.revised(edit.revision, at: now)
                    try await record(edit.revision.event, [(edit.id, old.text, memory.text)], at: now, connection)
                    try await connection.query("DELETE FROM engram_memory WHERE row = \(row)", logger: logger)
                    let vector = edit.embedding ?? stored
                    guard let newRow = try await insert([memory], embeddings: [vector], connection)[memory.id] else {
                        let other = try await duplicate(of: memory.hash, in: memory.scope, connection)
                        throw other.map { MemoryError.duplicateText($0.id) } ?? MemoryError.corruptRecord("a duplicate of a text was neither inserted nor found")
                    }
                    change.added.append(StoredRecord(row: newRow, memory: memory, embedding: vector))
                    change.removed.append((row, old.scope))
                    memories.append(memory)
                }
                try await publish(change, connection)
                return (change, memories)
            }
        }
    }

    func delete(_ ids: [UUID], in scope: MemoryScope?, at now: Date) throws -> RecordChange {
        try blocking { [self] in
            try await transaction { connection in
                var change = RecordChange()
                let locked = try await lockedRecords(ids, in: scope, connection)
                for id in ids {
                    guard let (row, memory, _) = locked[id] else { throw MemoryError.notFound(id) }
                    try memory.requireMutable()
                    change.removed.append((row, memory.scope))
                }
                try await connection.query("DELETE FROM engram_memory WHERE row = ANY(\(change.removed.map(\.row)))", logger: logger)
                try await connection.query("UPDATE engram_history SET old_text = NULL, new_text = NULL WHERE memory_id = ANY(\(ids))", logger: logger)
                try await record(.delete, ids.map { ($0, nil, nil) }, at: now, connection)
                try await publish(change, connection)
                return change
            }
        }
    }

    func deleteAll(in scope: MemoryScope, rows: Set<Int64>?) throws -> RecordChange {
        guard !scope.isEmpty else { throw MemoryError.missingScope }
        return try blocking { [self] in
            try await transaction { connection in
                var change = RecordChange()
                var ids: [UUID] = []
                for try await (row, id, user, agent, run) in try await connection.query("""
                    DELETE FROM engram_memory
                    WHERE (\(scope.userID)::text IS NULL OR user_id = \(scope.userID))
                      AND (\(scope.agentID)::text IS NULL OR agent_id = \(scope.agentID))
                      AND (\(scope.runID)::text IS NULL OR run_id = \(scope.runID))
                      AND (\(rows == nil) OR row = ANY(\(Array(rows ?? []))::bigint[]))
                    RETURNING row, id, user_id, agent_id, run_id
                    """, logger: logger).decode((Int64, UUID, String?, String?, String?).self) {
                    change.removed.append((row, MemoryScope(userID: user, agentID: agent, runID: run)))
                    ids.append(id)
                }
                try await connection.query("DELETE FROM engram_history WHERE memory_id = ANY(\(ids))", logger: logger)
                try await publish(change, connection)
                return change
            }
        }
    }

    func deleteEverything() throws -> RecordChange {
        try blocking { [self] in
            try await transaction { connection in
                var change = RecordChange()
                for try await (row, user, agent, run) in try await connection.query(
                    "DELETE FROM engram_memory RETURNING row, user_id, agent_id, run_id", logger: logger)
                    .decode((Int64, String?, String?, String?).self) {
                    change.removed.append((row, MemoryScope(userID: user, agentID: agent, runID: run)))
                }
                try await connection.query("DELETE FROM engram_history", logger: logger)
                try await publish(change, connection)
                return change
            }
        }
    }

    // MARK: - Statements

    /// Runs `body` in a transaction (committed when it returns, rolled back when it throws),
    /// throwing what went wrong itself rather than the driver's wrapper.
    func transaction<R: Sendable>(_ body: (PostgresConnection) async throws -> sending R) async throws -> R {
        do {
            return try await client.withTransaction(logger: logger) { connection in try await body(connection) }
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error.beginError ?? error.commitError ?? error
        }
    }

    /// Ends the validity of each memory `(id, by: successor)` names (``Supersession``): their
    /// closed versions move to new rows, with SUPERSEDE events, published.
    private func close(_ pairs: [(id: UUID, successor: Memory)], at now: Date, _ connection: PostgresConnection) async throws -> RecordChange {
        var change = RecordChange()
        guard !pairs.isEmpty else { return change }
        let locked = try await lockedRecords(pairs.map(\.id), in: nil, connection)
        var closed: [Memory] = [], vectors: [[Float]] = []
        for (id, successor) in pairs {
            guard let (row, old, embedding) = locked[id] else { throw MemoryError.notFound(id) }
            closed.append(try Supersession.closed(old, by: successor, at: now))
            vectors.append(embedding)
            change.removed.append((row, old.scope))
        }
        try await connection.query("DELETE FROM engram_memory WHERE row = ANY(\(change.removed.map(\.row)))", logger: logger)
        let rows = try await insert(closed, embeddings: vectors, connection)
        for (memory, vector) in zip(closed, vectors) {
            guard let row = rows[memory.id] else { throw MemoryError.corruptRecord("a closed version was not stored") }
            change.added.append(StoredRecord(row: row, memory: memory, embedding: vector))
        }
        change.added.sort { $0.row < $1.row }
        try await record(.supersede, pairs.map { ($0.id, locked[$0.id]?.memory.text, $0.successor.text) }, at: now, connection)
        try await publish(change, connection)
        return change
    }

    /// Makes `existing` the successor of the version closed for `successor` (whose text was a
    /// current memory's, so that it was not stored), if one was.
    private func name(_ existing: Memory, successorOf successor: UUID, in change: inout RecordChange, _ connection: PostgresConnection) async throws {
        guard let i = change.added.firstIndex(where: { $0.memory.supersededBy == successor }) else { return }
        try await connection.query("UPDATE engram_memory SET superseded_by = \(existing.id) WHERE row = \(change.added[i].row)", logger: logger)
        change.added[i].memory = Supersession.successor(of: change.added[i].memory, is: existing)
    }

    /// Inserts memories, skipping those whose text conflicts with one of their scope's.
    /// - Parameter publishing: the same statement also records an ADD event for each memory
    ///   inserted (at its creation), appends them to the change feed and notifies the other nodes
    ///   (what `record` and `publish` do, without their two round trips to the database).
    /// - Returns: the row of each memory inserted, by id.
    func insert(_ memories: [Memory], embeddings: [[Float]], publishing: Bool = false, _ connection: PostgresConnection) async throws -> [UUID: Int64] {
        guard !memories.isEmpty else { return [:] }
        func column<T>(_ value: (Memory) -> T) -> [T] { memories.map(value) }
        // Arrays of optionals do not bind: each optional column as its values and whether it is set.
        let (users, hasUser) = (column { $0.scope.userID ?? "" }, column { $0.scope.userID != nil })
        let (agents, hasAgent) = (column { $0.scope.agentID ?? "" }, column { $0.scope.agentID != nil })
        let (runs, hasRun) = (column { $0.scope.runID ?? "" }, column { $0.scope.runID != nil })
        let (expires, hasExpiry) = (column { $0.expiresAt?.timeIntervalSince1970 ?? 0 }, column { $0.expiresAt != nil })
        let (validTo, hasValidTo) = (column { $0.validTo?.timeIntervalSince1970 ?? 0 }, column { $0.validTo != nil })
        let (successors, hasSuccessor) = (column { $0.supersededBy ?? $0.id }, column { $0.supersededBy != nil })
        var rows: [UUID: Int64] = [:]
        // Constants only (a query cannot be spliced into another with its binds).
        let published = !publishing ? "SELECT row, id FROM inserted" : """
            , history AS (
                INSERT INTO engram_history (memory_id, event, old_text, new_text, at)
                SELECT id, '\(MemoryEvent.Kind.add.rawValue)', NULL, text, created_at FROM inserted
            ), feed AS (
                INSERT INTO engram_change (row, added, user_id, agent_id, run_id)
                SELECT row, true, user_id, agent_id, run_id FROM inserted ORDER BY row
            )
            SELECT row, id FROM inserted, (SELECT pg_notify('\(Self.channel)', '\(writerID)')) AS notified
            """
        for try await (row, id) in try await connection.query("""
            WITH inserted AS (
            INSERT INTO engram_memory (id, text, hash, user_id, agent_id, run_id, metadata, embedding, created_at, updated_at, expires_at,
                                       valid_from, valid_to, superseded_by, immutable)
            SELECT i, t, h, CASE WHEN hu THEN u END, CASE WHEN ha THEN a END, CASE WHEN hr THEN r END, m, e, c, d, CASE WHEN hx THEN x END,
                   vf, CASE WHEN hvt THEN vt END, CASE WHEN hs THEN s END, im
            FROM unnest(\(column(\.id))::uuid[], \(column(\.text))::text[], \(column(\.hash))::text[], \(users)::text[], \(hasUser)::boolean[],
                        \(agents)::text[], \(hasAgent)::boolean[], \(runs)::text[], \(hasRun)::boolean[],
                        \(column { MetadataValue.jsonText(of: $0.metadata) })::text[], \(embeddings.map(Self.buffer))::bytea[],
                        \(column { $0.createdAt.timeIntervalSince1970 })::float8[], \(column { $0.updatedAt.timeIntervalSince1970 })::float8[],
                        \(expires)::float8[], \(hasExpiry)::boolean[], \(column { $0.validFrom.timeIntervalSince1970 })::float8[],
                        \(validTo)::float8[], \(hasValidTo)::boolean[], \(successors)::uuid[], \(hasSuccessor)::boolean[],
                        \(column(\.immutable))::boolean[])
                 WITH ORDINALITY AS t(i, t, h, u, hu, a, ha, r, hr, m, e, c, d, x, hx, vf, vt, hvt, s, hs, im, n)
            ORDER BY n
            ON CONFLICT DO NOTHING
            RETURNING row, id, text, user_id, agent_id, run_id, created_at
            ) \(unescaped: published)
            """, logger: logger).decode((Int64, UUID).self) { rows[id] = row }
        return rows
    }

    /// The current memory holding `hash` in exactly `scope`, if any.
    private func duplicate(of hash: String, in scope: MemoryScope, _ connection: PostgresConnection) async throws -> Memory? {
        for try await row in try await connection.query("""
            SELECT \(unescaped: Self.memoryColumns) FROM engram_memory
            WHERE hash = \(hash) AND coalesce(user_id, '') = \(scope.userID ?? "")
              AND coalesce(agent_id, '') = \(scope.agentID ?? "") AND coalesce(run_id, '') = \(scope.runID ?? "") AND valid_to IS NULL
            """, logger: logger) { return try Self.decode(row).1 }
        return nil
    }

    /// The row, memory and embedding of each of `ids` that lies in `scope`, locked until the
    /// transaction ends: one round trip, rows locked in row order (so that two batches over the
    /// same memories lock them in the same order).
    func lockedRecords(_ ids: [UUID], in scope: MemoryScope?, _ connection: PostgresConnection) async throws
        -> [UUID: (row: Int64, memory: Memory, embedding: [Float])] {
        var found: [UUID: (row: Int64, memory: Memory, embedding: [Float])] = [:]
        for try await row in try await connection.query(
            "SELECT \(unescaped: Self.memoryColumns), embedding FROM engram_memory WHERE id = ANY(\(ids)) ORDER BY row FOR UPDATE",
            logger: logger) {
            let record = try decodeWithEmbedding(row)
            guard scope.map({ $0.contains(record.memory.scope) }) ?? true else { continue }
            found[record.memory.id] = (record.row, record.memory, record.embedding)
        }
        return found
    }

    /// Appends history events of one kind: (memory id, old text, new text) each.
    func record(_ kind: MemoryEvent.Kind, _ events: [(id: UUID, old: String?, new: String?)], at: Date,
                _ connection: PostgresConnection) async throws {
        guard !events.isEmpty else { return }
        try await connection.query("""
            INSERT INTO engram_history (memory_id, event, old_text, new_text, at)
            SELECT i, \(kind.rawValue), CASE WHEN ho THEN o END, CASE WHEN hn THEN n END, \(at.timeIntervalSince1970)
            FROM unnest(\(events.map(\.id))::uuid[], \(events.map { $0.old ?? "" })::text[], \(events.map { $0.old != nil })::boolean[],
                        \(events.map { $0.new ?? "" })::text[], \(events.map { $0.new != nil })::boolean[]) AS t(i, o, ho, n, hn)
            """, logger: logger)
    }

    /// Appends the change to the feed and notifies the other nodes (delivered at commit).
    func publish(_ change: RecordChange, _ connection: PostgresConnection) async throws {
        guard !change.isEmpty else { return }
        let rows = change.added.map(\.row) + change.removed.map(\.row)
        let added = change.added.map { _ in true } + change.removed.map { _ in false }
        let scopes = change.added.map(\.memory.scope) + change.removed.map(\.scope)
        // Arrays of optional strings do not bind: each scope field as its values and whether it is set.
        func field(_ value: (MemoryScope) -> String?) -> ([String], [Bool]) { (scopes.map { value($0) ?? "" }, scopes.map { value($0) != nil }) }
        let (users, hasUser) = field(\.userID), (agents, hasAgent) = field(\.agentID), (runs, hasRun) = field(\.runID)
        try await connection.query("""
            INSERT INTO engram_change (row, added, user_id, agent_id, run_id)
            SELECT r, a, CASE WHEN hu THEN u END, CASE WHEN ha THEN g END, CASE WHEN hr THEN n END
            FROM unnest(\(rows)::bigint[], \(added)::boolean[], \(users)::text[], \(hasUser)::boolean[], \(agents)::text[],
                        \(hasAgent)::boolean[], \(runs)::text[], \(hasRun)::boolean[]) AS t(r, a, u, hu, g, ha, n, hr)
            """, logger: logger)
        try await connection.query("SELECT pg_notify(\(Self.channel), \(writerID))", logger: logger)
    }
}
