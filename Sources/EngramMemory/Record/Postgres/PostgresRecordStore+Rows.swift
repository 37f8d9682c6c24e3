import Foundation
import Logging
import NIOCore
import PostgresNIO

extension PostgresRecordStore {
    /// The columns of a memory, without its embedding.
    static let memoryColumns = "row, id, text, hash, user_id, agent_id, run_id, metadata, created_at, updated_at, expires_at, valid_from, valid_to, superseded_by, immutable"

    /// A memory from a row selected with ``memoryColumns`` (and, when `withEmbedding`, the embedding last).
    static func decode(_ row: PostgresRow) throws -> (Int64, Memory) {
        let r = PostgresRandomAccessRow(row)
        let rowID = try r[0].decode(Int64.self)
        let metadataJSON = try r[7].decode(String.self)
        guard let metadata = MetadataValue.parseObject(metadataJSON)
            ?? (try? JSONDecoder().decode([String: MetadataValue].self, from: Data(metadataJSON.utf8))) else {
            throw MemoryError.corruptRecord("row \(rowID) has unreadable metadata")
        }
        let memory = Memory(
            id: try r[1].decode(UUID.self), text: try r[2].decode(String.self), hash: try r[3].decode(String.self), metadata: metadata,
            scope: MemoryScope(userID: try r[4].decode(String?.self), agentID: try r[5].decode(String?.self), runID: try r[6].decode(String?.self)),
            createdAt: Date(timeIntervalSince1970: try r[8].decode(Double.self)),
            updatedAt: Date(timeIntervalSince1970: try r[9].decode(Double.self)),
            expiresAt: try r[10].decode(Double?.self).map(Date.init(timeIntervalSince1970:)),
            validFrom: try r[11].decode(Double?.self).map(Date.init(timeIntervalSince1970:)),
            validTo: try r[12].decode(Double?.self).map(Date.init(timeIntervalSince1970:)),
            supersededBy: try r[13].decode(UUID?.self), immutable: try r[14].decode(Bool.self))
        return (rowID, memory)
    }

    func decodeWithEmbedding(_ row: PostgresRow) throws -> StoredRecord {
        let (rowID, memory) = try Self.decode(row)
        let blob = try PostgresRandomAccessRow(row)[15].decode(Data.self)
        return StoredRecord(row: rowID, memory: memory, embedding: try floats(blob, row: rowID))
    }

    func floats(_ blob: Data?, row: Int64) throws -> [Float] {
        guard let blob, blob.count == dimension * 4 else { throw MemoryError.corruptRecord("row \(row) has no embedding of \(dimension) floats") }
        return blob.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    /// An embedding as the bytes stored (little-endian f32).
    static func buffer(_ vector: [Float]) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: vector.count * 4)
        vector.withUnsafeBytes { _ = buffer.writeBytes($0) }
        return buffer
    }

    /// The memories (with embeddings) on `rows` that the database holds, ascending.
    func records(_ rows: [Int64], _ connection: PostgresConnection) async throws -> [StoredRecord] {
        guard !rows.isEmpty else { return [] }
        var found: [StoredRecord] = []
        for try await row in try await connection.query(
            "SELECT \(unescaped: Self.memoryColumns), embedding FROM engram_memory WHERE row = ANY(\(rows)) ORDER BY row", logger: logger) {
            found.append(try decodeWithEmbedding(row))
        }
        return found
    }

    func memory(_ id: UUID) throws -> Memory? {
        let logger = logger
        return try blocking { [client] in
            for try await row in try await client.query("SELECT \(unescaped: Self.memoryColumns) FROM engram_memory WHERE id = \(id)", logger: logger) {
                return try Self.decode(row).1
            }
            return nil
        }
    }

    func history(_ id: UUID) throws -> [MemoryEvent] {
        let logger = logger
        return try blocking { [client] in
            var events: [MemoryEvent] = []
            for try await (event, old, new, at) in try await client.query(
                "SELECT event, old_text, new_text, at FROM engram_history WHERE memory_id = \(id) ORDER BY seq", logger: logger)
                .decode((String, String?, String?, Double).self) {
                guard let kind = MemoryEvent.Kind(rawValue: event) else {
                    throw MemoryError.corruptRecord("a history event of \(id.uuidString.lowercased()) is '\(event)'")
                }
                events.append(MemoryEvent(memoryID: id, kind: kind, oldText: old, newText: new, at: Date(timeIntervalSince1970: at)))
            }
            return events
        }
    }

    func memoryCount() throws -> Int {
        try blocking { [client, logger] in
            var count = 0
            for try await n in try await client.query("SELECT count(*) FROM engram_memory", logger: logger).decode(Int.self) { count = n }
            return count
        }
    }

    func forEachMemory(_ body: (Int64, Memory) throws -> Void) throws {
        // In pages, each its own call: a node rebuilding from a large store must neither hold
        // every memory in flight at once nor run one call past the timeout.
        var after: Int64 = 0
        let logger = logger
        while true {
            let page = try blocking { [client, after] in
                var page: [(Int64, Memory)] = []
                for try await row in try await client.query("""
                    SELECT \(unescaped: Self.memoryColumns) FROM engram_memory WHERE row > \(after) ORDER BY row LIMIT 10000
                    """, logger: logger) { page.append(try Self.decode(row)) }
                return page
            }
            for (row, memory) in page { try body(row, memory) }
            guard let last = page.last else { return }
            after = last.0
        }
    }

    func embeddings(of rows: [Int64]) throws -> [[Float]] {
        let logger = logger
        let found = try blocking { [client] in
            var found: [Int64: Data] = [:]
            for try await (row, blob) in try await client.query("SELECT row, embedding FROM engram_memory WHERE row = ANY(\(rows))", logger: logger)
                .decode((Int64, Data).self) { found[row] = blob }
            return found
        }
        return try rows.map { try floats(found[$0], row: $0) }
    }
}
