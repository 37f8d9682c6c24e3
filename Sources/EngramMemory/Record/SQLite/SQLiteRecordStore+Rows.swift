import Foundation
import GRDB

extension SQLiteRecordStore {
    /// The columns of a memory, without its embedding.
    static let memoryColumns = "row, id, text, hash, user_id, agent_id, run_id, metadata, created_at, updated_at, expires_at, valid_from, valid_to, superseded_by, immutable"

    /// A memory from a row selected with ``memoryColumns`` (columns read by position: by name
    /// costs a lookup per column per row).
    static func decode(_ row: Row) throws -> (Int64, Memory) {
        let rowID: Int64 = row[0]
        guard let idText = row[1] as String?, let id = UUID(uuidString: idText) else {
            throw MemoryError.corruptRecord("row \(rowID) has no valid id")
        }
        let metadataJSON: String = row[7]
        guard let metadata = MetadataValue.parseObject(metadataJSON)
            ?? (try? JSONDecoder().decode([String: MetadataValue].self, from: Data(metadataJSON.utf8))) else {
            throw MemoryError.corruptRecord("row \(rowID) has unreadable metadata")
        }
        let memory = Memory(
            id: id, text: row[2], hash: row[3], metadata: metadata,
            scope: MemoryScope(userID: row[4], agentID: row[5], runID: row[6]),
            createdAt: Date(timeIntervalSince1970: row[8]), updatedAt: Date(timeIntervalSince1970: row[9]),
            expiresAt: (row[10] as Double?).map(Date.init(timeIntervalSince1970:)),
            validFrom: (row[11] as Double?).map(Date.init(timeIntervalSince1970:)),
            validTo: (row[12] as Double?).map(Date.init(timeIntervalSince1970:)),
            supersededBy: try (row[13] as String?).map { text in
                guard let id = UUID(uuidString: text) else { throw MemoryError.corruptRecord("row \(rowID) has an invalid superseded_by") }
                return id
            },
            immutable: row[14])
        return (rowID, memory)
    }

    /// A row selected with ``memoryColumns`` and the embedding.
    func decodeWithEmbedding(_ row: Row) throws -> StoredRecord {
        let (rowID, memory) = try Self.decode(row)
        return StoredRecord(row: rowID, memory: memory, embedding: try floats(row[15] as Data?, row: rowID))
    }

    func floats(_ blob: Data?, row: Int64) throws -> [Float] {
        guard let blob, blob.count == dimension * 4 else { throw MemoryError.corruptRecord("row \(row) has no embedding of \(dimension) floats") }
        return blob.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    static func blob(_ vector: [Float]) -> Data { vector.withUnsafeBytes { Data($0) } }

    /// The memories (with embeddings) of the rows `clause` selects (a WHERE clause and more).
    func records(_ db: Database, _ clause: String, _ arguments: StatementArguments) throws -> [StoredRecord] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT \(Self.memoryColumns), embedding FROM memory " + clause), arguments: arguments)
            .map(decodeWithEmbedding)
    }

    func memory(_ id: UUID) throws -> Memory? {
        try pool.read { db in try located(id, db)?.memory }
    }

    /// The row and memory of `id`.
    func located(_ id: UUID, _ db: Database) throws -> (row: Int64, memory: Memory)? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT \(Self.memoryColumns) FROM memory WHERE id = ?"), arguments: [id.uuidString])
            .map { try Self.decode($0) }
    }

    func history(_ id: UUID) throws -> [MemoryEvent] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT event, old_text, new_text, at FROM history WHERE memory_id = ? ORDER BY seq",
                             arguments: [id.uuidString]).map { row in
                guard let kind = MemoryEvent.Kind(rawValue: row[0]) else {
                    throw MemoryError.corruptRecord("a history event of \(id.uuidString.lowercased()) is '\(row[0] as String? ?? "")'")
                }
                return MemoryEvent(memoryID: id, kind: kind, oldText: row[1], newText: row[2], at: Date(timeIntervalSince1970: row[3]))
            }
        }
    }

    func memoryCount() throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM memory") ?? 0 }
    }

    func forEachMemory(_ body: (Int64, Memory) throws -> Void) throws {
        try pool.read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT \(Self.memoryColumns) FROM memory ORDER BY row")
            while let row = try rows.next() {
                let (rowID, memory) = try Self.decode(row)
                try body(rowID, memory)
            }
        }
    }

    func embeddings(of rows: [Int64]) throws -> [[Float]] {
        try pool.read { db in
            let statement = try db.cachedStatement(sql: "SELECT embedding FROM memory WHERE row = ?")
            return try rows.map { row in try floats(try Data.fetchOne(statement, arguments: [row]), row: row) }
        }
    }
}
