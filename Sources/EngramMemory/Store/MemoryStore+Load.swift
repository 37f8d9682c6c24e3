import Foundation
import GRDB

extension MemoryStore {
    /// The columns of a memory, without its embedding (the view never holds vectors).
    static let memoryColumns = "row, id, text, hash, user_id, agent_id, run_id, metadata, created_at, updated_at, expires_at"

    /// Reads every memory into a new view.
    static func loadView(_ pool: DatabasePool) throws -> MemoryView {
        var view = MemoryView()
        try pool.read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT \(memoryColumns) FROM memory ORDER BY row")
            while let row = try rows.next() {
                let (rowID, memory) = try decode(row)
                view.publish(rowID, memory)
            }
        }
        return view
    }

    /// A memory from a row selected with ``memoryColumns`` (columns read by position: by name
    /// costs a lookup per column per row).
    static func decode(_ row: Row) throws -> (Int64, Memory) {
        let metadataJSON: String = row[7]
        let metadata = try MetadataValue.parseObject(metadataJSON)
            ?? JSONDecoder().decode([String: MetadataValue].self, from: Data(metadataJSON.utf8))
        guard let id = UUID(uuidString: row[1]) else { throw MemoryError.invalidParameter("row \(row[0] as Int64) has a bad id") }
        let memory = Memory(
            id: id, text: row[2], hash: row[3], metadata: metadata,
            scope: MemoryScope(userID: row[4], agentID: row[5], runID: row[6]),
            createdAt: Date(timeIntervalSince1970: row[8]), updatedAt: Date(timeIntervalSince1970: row[9]),
            expiresAt: (row[10] as Double?).map(Date.init(timeIntervalSince1970:)))
        return (row[0], memory)
    }

    /// The stored embeddings of `rows`.
    static func embeddings(of rows: [Int64], in pool: DatabasePool, dimension: Int) throws -> [[Float]] {
        try pool.read { db in
            let statement = try db.cachedStatement(sql: "SELECT embedding FROM memory WHERE row = ?")
            return try rows.map { row in
                guard let blob = try Data.fetchOne(statement, arguments: [row]), blob.count == dimension * 4 else {
                    throw MemoryError.invalidParameter("row \(row) has no embedding of \(dimension) floats")
                }
                return floats(blob)
            }
        }
    }
}
