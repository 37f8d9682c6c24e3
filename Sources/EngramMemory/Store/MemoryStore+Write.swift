import EngramSupport
import EngramEmbedding
import EngramIndex
import Foundation
import GRDB

extension MemoryStore {
    /// Largest accepted metadata, as JSON bytes.
    public static let maxMetadataBytes = 64 * 1024

    /// Adds memories, embedding their texts. A text already stored in the same scope is not stored
    /// again: the existing memory is returned in its place.
    /// - Throws: ``MemoryError`` for empty text, no scope, bad metadata; embedder errors.
    @discardableResult
    public func add(_ texts: [String], scope: MemoryScope, metadata: [String: MetadataValue] = [:], expiresAt: Date? = nil) async throws -> [Memory] {
        try Self.validate(texts: texts, scope: scope, metadata: metadata)
        let vectors = try await embedder.embed(texts)
        return try await writing { try self.add(texts, vectors: vectors, scope: scope, metadata: metadata, expiresAt: expiresAt) }
    }

    /// Runs a write on the store's writer thread: a transaction waits for fsync and for the
    /// writer lock, and must not hold one of the few threads of Swift's cooperative pool meanwhile.
    package func writing<R: Sendable>(_ body: @escaping @Sendable () throws -> R) async throws -> R {
        try await withCheckedThrowingContinuation { continuation in
            writerQueue.async { continuation.resume(with: Result(catching: body)) }
        }
    }

    /// Adds memories with precomputed embeddings (one per text), in one transaction.
    @discardableResult
    public func add(_ texts: [String], vectors: [[Float]], scope: MemoryScope, metadata: [String: MetadataValue] = [:],
                    expiresAt: Date? = nil) throws -> [Memory] {
        try add(texts.map { NewMemory(text: $0, scope: scope, metadata: metadata, expiresAt: expiresAt) }, vectors: vectors)
    }

    /// Adds memories that may each have their own scope and metadata, with precomputed embeddings,
    /// in one transaction: all are stored or none. Duplicates (same text in the same scope, stored
    /// or earlier in the batch) come back as the existing memory.
    @discardableResult
    public func add(_ items: [NewMemory], vectors: [[Float]]) throws -> [Memory] {
        for item in items { try Self.validate(texts: [item.text], scope: item.scope, metadata: item.metadata) }
        guard vectors.count == items.count else { throw MemoryError.invalidParameter("\(vectors.count) vectors for \(items.count) memories") }
        for vector in vectors where vector.count != embedder.dimension || !vector.allSatisfy(\.isFinite) {
            throw MemoryError.invalidParameter("embedding must be \(embedder.dimension) finite floats")
        }
        let now = Date().asStored
        return try writer.withLock { changes in
            var batch: [Int64: Memory] = [:]
            let outcome = try pool.write { db -> [(row: Int64, memory: Memory?, isNew: Bool)] in
                try zip(items, vectors).map { item, vector in
                    let hash = ContentHash.of(item.text)
                    if let row = try Self.duplicate(of: hash, in: item.scope, db) { return (row, batch[row], false) }
                    let memory = Memory(id: UUID(), text: item.text, hash: hash, metadata: item.metadata, scope: item.scope,
                                        createdAt: now, updatedAt: now, expiresAt: item.expiresAt?.asStored)
                    let row = try Self.insert(memory, embedding: Self.blob(vector), db)
                    try Self.record(db, .add, memory.id, old: nil, new: item.text, at: now)
                    batch[row] = memory
                    return (row, memory, true)
                }
            }
            let fresh = outcome.indices.filter { outcome[$0].isNew }
            try index.add(fresh.map { outcome[$0].row }, vectors: fresh.map { vectors[$0] },
                          partitions: fresh.map { MemoryPartition(of: items[$0].scope) },
                          rowsOf: { p in view.read { $0.partitions[p] ?? [] } })
            view.write { v in for i in fresh { v.publish(outcome[i].row, outcome[i].memory!) } }
            changes += fresh.count
            return try view.read { v in
                try outcome.map { o in
                    guard let memory = o.memory ?? batch[o.row] ?? v.memories[o.row]?.memory else {
                        throw MemoryError.invalidParameter("row \(o.row) is in the database but not in the view")
                    }
                    return memory
                }
            }
        }
    }

    /// The row holding `hash` in exactly `scope`, if any.
    private static func duplicate(of hash: String, in scope: MemoryScope, _ db: Database) throws -> Int64? {
        // Cached statements: compiling the SQL for every row cost more than running it.
        try Int64.fetchOne(db.cachedStatement(sql: """
            SELECT row FROM memory WHERE hash = ? AND ifnull(user_id, '') = ? AND ifnull(agent_id, '') = ? AND ifnull(run_id, '') = ?
            """), arguments: [hash, scope.userID ?? "", scope.agentID ?? "", scope.runID ?? ""])
    }

    /// Inserts a memory row. - Returns: its row id.
    private static func insert(_ memory: Memory, embedding: Data, _ db: Database) throws -> Int64 {
        try db.cachedStatement(sql: """
            INSERT INTO memory (id, text, hash, user_id, agent_id, run_id, metadata, embedding, created_at, updated_at, expires_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [memory.id.uuidString, memory.text, memory.hash, memory.scope.userID, memory.scope.agentID,
                                     memory.scope.runID, MetadataValue.jsonText(of: memory.metadata),
                                     embedding, memory.createdAt.timeIntervalSince1970, memory.updatedAt.timeIntervalSince1970,
                                     memory.expiresAt?.timeIntervalSince1970])
        return db.lastInsertedRowID
    }

    /// Changes a memory's text (re-embedded) and/or metadata. Its scope never changes.
    ///
    /// The changed memory moves to a new row (same id and creation time; the embedding carried
    /// over when the text is unchanged): rows are never rewritten, so the set of rows a view
    /// snapshot or an index checkpoint holds is exactly the store position it covers.
    @discardableResult
    public func update(_ id: UUID, text: String? = nil, metadata: [String: MetadataValue]? = nil, scope: MemoryScope? = nil) async throws -> Memory {
        if let text, text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw MemoryError.emptyText }
        if let metadata { try Self.validate(metadata: metadata) }
        _ = try locate(id, scope: scope)
        let vector: [Float]? = if let text { try await embedder.embed([text])[0] } else { nil }
        return try await writing { try self.applyUpdate(id, text: text, metadata: metadata, vector: vector, scope: scope) }
    }

    private func applyUpdate(_ id: UUID, text: String?, metadata: [String: MetadataValue]?, vector: [Float]?, scope: MemoryScope?) throws -> Memory {
        try writer.withLock { changes in
            let (row, old) = try locate(id, scope: scope)
            var memory = old
            memory.text = text ?? old.text
            memory.hash = ContentHash.of(memory.text)
            memory.metadata = metadata ?? old.metadata
            memory.updatedAt = Date().asStored
            let updated = memory
            let (newRow, embedding) = try pool.write { db -> (Int64, Data) in
                try Self.record(db, .update, id, old: old.text, new: updated.text, at: updated.updatedAt)
                let embedding = try vector.map(Self.blob) ?? Self.embedding(of: row, db)
                try db.execute(sql: "DELETE FROM memory WHERE row = ?", arguments: [row])
                return (try Self.insert(updated, embedding: embedding, db), embedding)
            }
            let partition = MemoryPartition(of: updated.scope)
            try index.add([newRow], vectors: [Self.floats(embedding)], partitions: [partition], rowsOf: { p in view.read { $0.partitions[p] ?? [] } })
            try index.remove([row], partitions: [partition])
            compactGraphsInBackground([partition])
            view.write { v in
                v.unpublish([row])
                v.publish(newRow, updated)
            }
            changes += 1
            return updated
        }
    }

    /// The stored embedding bytes of `row`.
    private static func embedding(of row: Int64, _ db: Database) throws -> Data {
        guard let blob = try Data.fetchOne(db, sql: "SELECT embedding FROM memory WHERE row = ?", arguments: [row]) else {
            throw MemoryError.invalidParameter("row \(row) is in the view but not in the database")
        }
        return blob
    }

    /// Deletes one memory. Its history keeps the events but loses every text.
    public func delete(_ id: UUID, scope: MemoryScope? = nil) throws {
        try writer.withLock { changes in
            let (row, memory) = try locate(id, scope: scope)
            try pool.write { db in
                try db.execute(sql: "DELETE FROM memory WHERE row = ?", arguments: [row])
                try db.execute(sql: "UPDATE history SET old_text = NULL, new_text = NULL WHERE memory_id = ?", arguments: [id.uuidString])
                try Self.record(db, .delete, id, old: nil, new: nil, at: Date())
            }
            try forget([(row, memory)])
            changes += 1
        }
    }

    /// Deletes every memory in `scope` (at least one field set), atomically, with their history rows.
    /// - Returns: how many memories were deleted.
    @discardableResult
    public func deleteAll(scope: MemoryScope) throws -> Int {
        guard !scope.isEmpty else { throw MemoryError.missingScope }
        return try writer.withLock { changes in
            let victims = view.read { v in
                v.rows(in: scope, matching: .all, at: Date(), includeExpired: true).compactMap { row in v.memories[row].map { (row, $0.memory) } }
            }
            try pool.write { db in
                let deleteRow = try db.cachedStatement(sql: "DELETE FROM memory WHERE row = ?")
                let deleteHistory = try db.cachedStatement(sql: "DELETE FROM history WHERE memory_id = ?")
                for (row, memory) in victims {
                    try deleteRow.execute(arguments: [row])
                    try deleteHistory.execute(arguments: [memory.id.uuidString])
                }
            }
            try forget(victims)
            changes += victims.count
            return victims.count
        }
    }

    /// Deletes everything: every memory and all history.
    public func reset() throws {
        try writer.withLock { changes in
            try pool.write { db in
                try db.execute(sql: "DELETE FROM memory")
                try db.execute(sql: "DELETE FROM history")
            }
            let all = view.read { v in v.memories.map { ($0.key, $0.value.memory) } }
            try forget(all)
            changes += all.count
        }
    }

    /// Takes deleted rows out of the indexes, then out of the view: a search never meets an
    /// indexed row the view no longer resolves.
    private func forget(_ victims: [(Int64, Memory)]) throws {
        let partitions = victims.map { MemoryPartition(of: $0.1.scope) }
        try index.remove(victims.map(\.0), partitions: partitions)
        compactGraphsInBackground(Set(partitions))
        view.write { v in _ = v.unpublish(victims.map(\.0)) }
    }

    /// Rebuilds, on a background thread, the graphs among `partitions` whose tombstones outnumber
    /// their live nodes (deletes and updates leave one each). The build reads vectors beside the
    /// writes; only installing it (caught up with what changed meanwhile) waits for the writer.
    /// Amortized, a removal costs about one graph insertion.
    func compactGraphsInBackground(_ partitions: some Sequence<MemoryPartition>) {
        let due = index.claimCompactions(Set(partitions))
        guard !due.isEmpty else { return }
        Thread.detachNewThread { [weak self] in
            for partition in due {
                guard let self else { return }
                let rows = self.view.read { $0.partitions[partition] ?? [] }
                let fresh = rows.count > MemoryIndex.graphThreshold ? try? self.index.freshGraph(rows: rows) : nil
                self.writer.withLock { _ in
                    try? self.index.install(fresh, partition: partition, rows: self.view.read { $0.partitions[partition] ?? [] })
                }
            }
        }
    }

    /// The row and memory of `id`, if it lies in `scope`.
    func locate(_ id: UUID, scope: MemoryScope?) throws -> (Int64, Memory) {
        try view.read { v in
            guard let row = v.rowOfID[id], let memory = v.memories[row]?.memory, scope.map({ $0.contains(memory.scope) }) ?? true else {
                throw MemoryError.notFound(id)
            }
            return (row, memory)
        }
    }

    static func record(_ db: Database, _ kind: MemoryEvent.Kind, _ id: UUID, old: String?, new: String?, at: Date) throws {
        try db.cachedStatement(sql: "INSERT INTO history (memory_id, event, old_text, new_text, at) VALUES (?, ?, ?, ?, ?)")
            .execute(arguments: [id.uuidString, kind.rawValue, old, new, at.timeIntervalSince1970])
    }

    static func blob(_ vector: [Float]) -> Data { vector.withUnsafeBytes { Data($0) } }

    static func floats(_ blob: Data) -> [Float] { blob.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) } }

    static func validate(texts: [String], scope: MemoryScope, metadata: [String: MetadataValue]) throws {
        guard !scope.isEmpty else { throw MemoryError.missingScope }
        for text in texts where text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw MemoryError.emptyText }
        try validate(metadata: metadata)
    }

    static func validate(metadata: [String: MetadataValue]) throws {
        for key in metadata.keys {
            guard !key.isEmpty else { throw MemoryError.invalidMetadata("empty key") }
            guard !MemoryFilter.reservedFields.contains(key) else {
                throw MemoryError.invalidMetadata("'\(key)' is reserved: scope and timestamps cannot be set through metadata")
            }
        }
        for (key, value) in metadata {
            if case let .number(n) = value, !n.isFinite { throw MemoryError.invalidMetadata("'\(key)' is \(n): numbers must be finite") }
        }
        let size = MetadataValue.jsonText(of: metadata).utf8.count
        guard size <= maxMetadataBytes else { throw MemoryError.invalidMetadata("\(size) bytes of JSON, at most \(maxMetadataBytes)") }
    }
}
