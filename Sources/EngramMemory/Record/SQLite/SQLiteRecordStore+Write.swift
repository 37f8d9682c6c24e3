import EngramSupport
import Foundation
import GRDB

extension SQLiteRecordStore {
    func add(_ items: [NewMemory], embeddings: [[Float]], at now: Date) throws -> (change: RecordChange, memories: [Memory]) {
        try pool.write { db in
            var change = RecordChange()
            let memories = try zip(items, embeddings).map { item, embedding -> Memory in
                let memory = item.memory(at: now)
                let closed = try item.supersedes.map { try close($0, by: memory, at: now, &change, db) }
                if let existing = try duplicate(of: memory.hash, in: item.scope, db) {
                    if let closed { try name(existing, successorOf: closed, in: &change, db) }
                    return existing
                }
                if let id = item.id, try located(id, db) != nil { throw MemoryError.idInUse(id) }
                let row = try insert(memory, embedding: Self.blob(embedding), db)
                try record(db, .add, memory.id, old: nil, new: item.text, at: memory.createdAt)
                change.added.append(StoredRecord(row: row, memory: memory, embedding: embedding))
                return memory
            }
            return (change, memories)
        }
    }

    func update(_ edits: [RecordEdit], in scope: MemoryScope?, at now: Date) throws -> (change: RecordChange, memories: [Memory]) {
        try pool.write { db in
            var change = RecordChange(), memories: [Memory] = []
            for edit in edits {
                let (row, old) = try locate(edit.id, in: scope, db)
                let memory = try old.revised(edit.revision, at: now)
                try record(db, edit.revision.event, edit.id, old: old.text, new: memory.text, at: memory.updatedAt)
                let vector = try edit.embedding
                    ?? floats(try Data.fetchOne(db, sql: "SELECT embedding FROM memory WHERE row = ?", arguments: [row]), row: row)
                try db.execute(sql: "DELETE FROM memory WHERE row = ?", arguments: [row])
                if let other = try duplicate(of: memory.hash, in: memory.scope, db) { throw MemoryError.duplicateText(other.id) }
                let newRow = try insert(memory, embedding: Self.blob(vector), db)
                change.added.append(StoredRecord(row: newRow, memory: memory, embedding: vector))
                change.removed.append((row, old.scope))
                memories.append(memory)
            }
            return (change, memories)
        }
    }

    func delete(_ ids: [UUID], in scope: MemoryScope?, at now: Date) throws -> RecordChange {
        try pool.write { db in
            var change = RecordChange()
            for id in ids {
                let (row, memory) = try locate(id, in: scope, db)
                try memory.requireMutable()
                try db.execute(sql: "DELETE FROM memory WHERE row = ?", arguments: [row])
                try db.execute(sql: "UPDATE history SET old_text = NULL, new_text = NULL WHERE memory_id = ?", arguments: [id.uuidString])
                try record(db, .delete, id, old: nil, new: nil, at: now)
                change.removed.append((row, memory.scope))
            }
            return change
        }
    }

    func deleteAll(in scope: MemoryScope, rows: Set<Int64>?) throws -> RecordChange {
        try pool.write { db in
            var conditions: [String] = [], arguments: [String] = []
            for (column, value) in [("user_id", scope.userID), ("agent_id", scope.agentID), ("run_id", scope.runID)] {
                guard let value else { continue }
                conditions.append("\(column) = ?")
                arguments.append(value)
            }
            guard !conditions.isEmpty else { throw MemoryError.missingScope }
            let victims = try Row.fetchAll(db, sql: "SELECT row, id, user_id, agent_id, run_id FROM memory WHERE " + conditions.joined(separator: " AND "),
                                           arguments: StatementArguments(arguments))
            let deleteRow = try db.cachedStatement(sql: "DELETE FROM memory WHERE row = ?")
            let deleteHistory = try db.cachedStatement(sql: "DELETE FROM history WHERE memory_id = ?")
            var change = RecordChange()
            for victim in victims {
                let row: Int64 = victim[0]
                guard rows?.contains(row) ?? true else { continue }
                try deleteRow.execute(arguments: [row])
                try deleteHistory.execute(arguments: [victim[1] as String?])
                change.removed.append((row, MemoryScope(userID: victim[2], agentID: victim[3], runID: victim[4])))
            }
            return change
        }
    }

    func deleteEverything() throws -> RecordChange {
        try pool.write { db in
            let removed = try Row.fetchAll(db, sql: "SELECT row, user_id, agent_id, run_id FROM memory").map { r -> (row: Int64, scope: MemoryScope) in
                (r[0], MemoryScope(userID: r[1], agentID: r[2], runID: r[3]))
            }
            try db.execute(sql: "DELETE FROM memory")
            try db.execute(sql: "DELETE FROM history")
            return RecordChange(removed: removed)
        }
    }

    /// Ends the validity of `id` (``Supersession``): its closed version moves to a new row.
    /// - Returns: the closed version's row.
    private func close(_ id: UUID, by successor: Memory, at now: Date, _ change: inout RecordChange, _ db: Database) throws -> Int64 {
        guard let (row, old) = try located(id, db) else { throw MemoryError.notFound(id) }
        let closed = try Supersession.closed(old, by: successor, at: now)
        let blob = try Data.fetchOne(db, sql: "SELECT embedding FROM memory WHERE row = ?", arguments: [row])
        try db.execute(sql: "DELETE FROM memory WHERE row = ?", arguments: [row])
        let newRow = try insert(closed, embedding: blob ?? Data(), db)
        try record(db, .supersede, id, old: old.text, new: successor.text, at: now)
        change.removed.append((row, old.scope))
        change.added.append(StoredRecord(row: newRow, memory: closed, embedding: try floats(blob, row: row)))
        return newRow
    }

    /// Makes `existing` the successor of the version closed on `row` (its text was a current
    /// memory's, so no new memory was stored).
    private func name(_ existing: Memory, successorOf row: Int64, in change: inout RecordChange, _ db: Database) throws {
        try db.execute(sql: "UPDATE memory SET superseded_by = ? WHERE row = ?", arguments: [existing.id.uuidString, row])
        guard let i = change.added.firstIndex(where: { $0.row == row }) else { return }
        change.added[i].memory = Supersession.successor(of: change.added[i].memory, is: existing)
    }

    /// The row and memory of `id`, if it lies in `scope`.
    private func locate(_ id: UUID, in scope: MemoryScope?, _ db: Database) throws -> (row: Int64, memory: Memory) {
        guard let found = try located(id, db), scope.map({ $0.contains(found.memory.scope) }) ?? true else {
            throw MemoryError.notFound(id)
        }
        return found
    }

    /// The current memory holding `hash` in exactly `scope`, if any.
    private func duplicate(of hash: String, in scope: MemoryScope, _ db: Database) throws -> Memory? {
        // Cached statements: compiling the SQL for every row cost more than running it.
        try Row.fetchOne(db.cachedStatement(sql: """
            SELECT \(Self.memoryColumns) FROM memory
            WHERE hash = ? AND ifnull(user_id, '') = ? AND ifnull(agent_id, '') = ? AND ifnull(run_id, '') = ? AND valid_to IS NULL
            """), arguments: [hash, scope.userID ?? "", scope.agentID ?? "", scope.runID ?? ""]).map { try Self.decode($0).1 }
    }

    /// Inserts a memory. - Returns: its row.
    private func insert(_ memory: Memory, embedding: Data, _ db: Database) throws -> Int64 {
        try db.cachedStatement(sql: """
            INSERT INTO memory (id, text, hash, user_id, agent_id, run_id, metadata, embedding, created_at, updated_at, expires_at,
                                valid_from, valid_to, superseded_by, immutable)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [memory.id.uuidString, memory.text, memory.hash, memory.scope.userID, memory.scope.agentID,
                                     memory.scope.runID, MetadataValue.jsonText(of: memory.metadata),
                                     embedding, memory.createdAt.timeIntervalSince1970, memory.updatedAt.timeIntervalSince1970,
                                     memory.expiresAt?.timeIntervalSince1970, memory.validFrom.timeIntervalSince1970,
                                     memory.validTo?.timeIntervalSince1970, memory.supersededBy?.uuidString, memory.immutable])
        return db.lastInsertedRowID
    }

    private func record(_ db: Database, _ kind: MemoryEvent.Kind, _ id: UUID, old: String?, new: String?, at: Date) throws {
        try db.cachedStatement(sql: "INSERT INTO history (memory_id, event, old_text, new_text, at) VALUES (?, ?, ?, ?, ?)")
            .execute(arguments: [id.uuidString, kind.rawValue, old, new, at.timeIntervalSince1970])
    }
}
