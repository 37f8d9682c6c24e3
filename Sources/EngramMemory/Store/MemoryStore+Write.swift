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
        return try add(texts, vectors: vectors, scope: scope, metadata: metadata, expiresAt: expiresAt)
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
        let encoder = JSONEncoder()
        let now = Date()
        let inserted = try pool.write { db -> [(Int64, Memory, [Float], Bool)] in
            try zip(items, vectors).map { item, vector in
                guard vector.count == embedder.dimension, vector.allSatisfy(\.isFinite) else {
                    throw MemoryError.invalidParameter("embedding must be \(embedder.dimension) finite floats")
                }
                let hash = Self.contentHash(item.text)
                let scope = item.scope
                // Cached statements: compiling the SQL for every row cost more than running it.
                let duplicate = try db.cachedStatement(sql: """
                    SELECT * FROM memory WHERE hash = ? AND ifnull(user_id, '') = ? AND ifnull(agent_id, '') = ? AND ifnull(run_id, '') = ?
                    """)
                if let existing = try Row.fetchOne(duplicate, arguments: [hash, scope.userID ?? "", scope.agentID ?? "", scope.runID ?? ""]) {
                    let (row, memory, stored) = try Self.decode(existing, dimension: embedder.dimension)
                    return (row, memory, stored, false)
                }
                let memory = Memory(id: UUID(), text: item.text, hash: hash, metadata: item.metadata, scope: scope,
                                    createdAt: now, updatedAt: now, expiresAt: item.expiresAt)
                try db.cachedStatement(sql: """
                    INSERT INTO memory (id, text, hash, user_id, agent_id, run_id, metadata, embedding, created_at, updated_at, expires_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """).execute(arguments: [memory.id.uuidString, item.text, hash, scope.userID, scope.agentID, scope.runID,
                                             String(decoding: try encoder.encode(item.metadata), as: UTF8.self),
                                             Self.blob(vector), now.timeIntervalSince1970, now.timeIntervalSince1970, item.expiresAt?.timeIntervalSince1970])
                try Self.record(db, .add, memory.id, old: nil, new: item.text, at: now)
                return (db.lastInsertedRowID, memory, vector, true)
            }
        }
        let fresh = inserted.filter(\.3)
        if !fresh.isEmpty {
            try index.read { index in
                try index.add(VectorMatrix(dimension: embedder.dimension, values: fresh.flatMap(\.2)), ids: fresh.map { UInt64($0.0) },
                              threads: fresh.count >= 64 ? ProcessInfo.processInfo.activeProcessorCount : 1)
            }
            state.write { s in for (row, memory, _, _) in fresh { s.publish(row, memory) } }
        }
        return inserted.map(\.1)
    }

    /// Changes a memory's text (re-embedded) and/or metadata. Its scope never changes.
    @discardableResult
    public func update(_ id: UUID, text: String? = nil, metadata: [String: MetadataValue]? = nil, scope: MemoryScope? = nil) async throws -> Memory {
        if let text, text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw MemoryError.emptyText }
        if let metadata { try Self.validate(metadata: metadata) }
        let vector: [Float]? = if let text { try await embedder.embed([text])[0] } else { nil }
        let (row, old) = try locate(id, scope: scope)
        var changed = old
        changed.text = text ?? old.text
        changed.hash = Self.contentHash(changed.text)
        changed.metadata = metadata ?? old.metadata
        changed.updatedAt = Date()
        let memory = changed
        let metadataJSON = String(decoding: try JSONEncoder().encode(memory.metadata), as: UTF8.self)
        try await pool.write { db in
            if let vector {
                try db.execute(sql: "UPDATE memory SET text = ?, hash = ?, embedding = ? WHERE row = ?",
                               arguments: [memory.text, memory.hash, Self.blob(vector), row])
            }
            try db.execute(sql: "UPDATE memory SET metadata = ?, updated_at = ? WHERE row = ?",
                           arguments: [metadataJSON, memory.updatedAt.timeIntervalSince1970, row])
            try Self.record(db, .update, id, old: old.text, new: memory.text, at: memory.updatedAt)
        }
        if let vector { try index.read { try $0.add(vector, id: UInt64(row)) } }
        state.write { s in _ = s.unpublish(row); s.publish(row, memory) }
        return memory
    }

    /// Deletes one memory. Its history keeps the events but loses every text.
    public func delete(_ id: UUID, scope: MemoryScope? = nil) throws {
        let (row, _) = try locate(id, scope: scope)
        try pool.write { db in
            try db.execute(sql: "DELETE FROM memory WHERE row = ?", arguments: [row])
            try db.execute(sql: "UPDATE history SET old_text = NULL, new_text = NULL WHERE memory_id = ?", arguments: [id.uuidString])
            try Self.record(db, .delete, id, old: nil, new: nil, at: Date())
        }
        try forget([row])
    }

    /// Deletes every memory in `scope` (at least one field set), atomically, with their history rows.
    /// - Returns: how many memories were deleted.
    @discardableResult
    public func deleteAll(scope: MemoryScope) throws -> Int {
        guard !scope.isEmpty else { throw MemoryError.missingScope }
        let victims = state.read { s in s.members(of: scope).map { ($0.0, $0.1.id) } }
        try pool.write { db in
            for (row, id) in victims {
                try db.execute(sql: "DELETE FROM memory WHERE row = ?", arguments: [row])
                try db.execute(sql: "DELETE FROM history WHERE memory_id = ?", arguments: [id.uuidString])
            }
        }
        try forget(victims.map(\.0))
        return victims.count
    }

    /// Deletes everything: every memory and all history.
    public func reset() throws {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM memory")
            try db.execute(sql: "DELETE FROM history")
        }
        try reload()
    }

    private func forget(_ rows: [Int64]) throws {
        let gone = state.write { s in rows.filter { s.unpublish($0) != nil } }
        try index.read { index in for row in gone { try index.remove(id: UInt64(row)) } }
    }

    /// The row and memory of `id`, if it lies in `scope`.
    func locate(_ id: UUID, scope: MemoryScope?) throws -> (Int64, Memory) {
        try state.read { s in
            guard let row = s.rowOfID[id], let memory = s.memories[row]?.memory, scope.map({ $0.contains(memory.scope) }) ?? true else {
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

    /// Content hash: two XXH64 (seeds 0 and 1) of the UTF-8 text, as 32 hex digits.
    static func contentHash(_ text: String) -> String {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { raw in
            [0, 1].map { String(IndexChecksum.xxh64(raw, seed: $0), radix: 16).leftPadded(16) }.joined()
        }
    }

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
        let size = (try? JSONEncoder().encode(metadata).count) ?? 0
        guard size <= maxMetadataBytes else { throw MemoryError.invalidMetadata("\(size) bytes of JSON, at most \(maxMetadataBytes)") }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
