import EngramEmbedding
import EngramIndex
import Foundation
import GRDB

/// Durable, tenant-scoped agent memories.
///
/// SQLite (through GRDB, WAL mode) is the system of record: memories with their embedding bytes,
/// and a history of ADD / UPDATE / DELETE events. The vector index is derived from it: rebuilt from
/// the stored embeddings at open, updated after each committed write.
///
/// Every call that reads or changes memories in bulk takes a ``MemoryScope`` with at least one field
/// set, and never sees or touches memories outside it.
///
/// Thread safety: `Sendable`; reads run concurrently (WAL readers and a shared in-memory view);
/// writes are serialized by SQLite's single writer.
public final class MemoryStore: @unchecked Sendable {  // `state` is Locked; the pool is thread-safe
    public let directory: String
    public let embedder: any Embedder
    let pool: DatabasePool
    let state: Locked<State>

    /// The in-memory view derived from the database.
    struct State {
        var memories: [Int64: Memory] = [:]
        var rowOfID: [UUID: Int64] = [:]
        var index: FlatIndex
    }

    /// Opens (creating if needed) the store in `directory`.
    public init(directory: String, embedder: any Embedder) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.directory = directory
        self.embedder = embedder
        var config = Configuration()
        config.busyMode = .timeout(10)
        pool = try DatabasePool(path: directory + "/memories.sqlite", configuration: config)
        try Self.migrator.migrate(pool)
        let index = try FlatIndex(dimension: embedder.dimension, metric: .cosine)
        state = Locked(State(index: index))
        try checkEmbedder()
        try reload()
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE memory (
                    row INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    text TEXT NOT NULL,
                    hash TEXT NOT NULL,
                    user_id TEXT, agent_id TEXT, run_id TEXT,
                    metadata TEXT NOT NULL,
                    embedding BLOB NOT NULL,
                    created_at REAL NOT NULL, updated_at REAL NOT NULL, expires_at REAL
                );
                -- One copy of a text per scope, also under concurrent adds.
                CREATE UNIQUE INDEX memory_dedup ON memory(hash, ifnull(user_id, ''), ifnull(agent_id, ''), ifnull(run_id, ''));
                CREATE INDEX memory_user ON memory(user_id);
                CREATE INDEX memory_agent ON memory(agent_id);
                CREATE INDEX memory_run ON memory(run_id);
                CREATE TABLE history (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    memory_id TEXT NOT NULL,
                    event TEXT NOT NULL,
                    old_text TEXT, new_text TEXT,
                    at REAL NOT NULL
                );
                CREATE INDEX history_memory ON history(memory_id);
                CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                """)
        }
        return m
    }

    /// A store holds embeddings of one model: opening it with another would mix vector spaces.
    private func checkEmbedder() throws {
        let expected = "\(embedder.modelName)/\(embedder.dimension)"
        try pool.write { db in
            if let stored = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'embedder'") {
                guard stored == expected else {
                    throw MemoryError.invalidParameter("the store holds \(stored) embeddings; this embedder is \(expected)")
                }
            } else {
                try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('embedder', ?)", arguments: [expected])
            }
        }
    }

    /// Rebuilds the in-memory view and vector index from the database.
    func reload() throws {
        let rows = try pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM memory ORDER BY row") }
        var fresh = State(index: try FlatIndex(dimension: embedder.dimension, metric: .cosine))
        var vectors: [Float] = []
        var ids: [UInt64] = []
        for row in rows {
            let (rowID, memory, vector) = try Self.decode(row, dimension: embedder.dimension)
            fresh.memories[rowID] = memory
            fresh.rowOfID[memory.id] = rowID
            vectors += vector
            ids.append(UInt64(rowID))
        }
        if !ids.isEmpty { try fresh.index.add(VectorMatrix(dimension: embedder.dimension, values: vectors), ids: ids) }
        state.withLock { $0 = fresh }
    }

    static func decode(_ row: Row, dimension: Int) throws -> (Int64, Memory, [Float]) {
        let metadataJSON: String = row["metadata"]
        let metadata = try JSONDecoder().decode([String: MetadataValue].self, from: Data(metadataJSON.utf8))
        let blob: Data = row["embedding"]
        guard blob.count == dimension * 4 else { throw MemoryError.invalidParameter("stored embedding has \(blob.count / 4) floats, the embedder \(dimension)") }
        let vector = blob.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let memory = Memory(
            id: UUID(uuidString: row["id"])!, text: row["text"], hash: row["hash"], metadata: metadata,
            scope: MemoryScope(userID: row["user_id"], agentID: row["agent_id"], runID: row["run_id"]),
            createdAt: Date(timeIntervalSince1970: row["created_at"]), updatedAt: Date(timeIntervalSince1970: row["updated_at"]),
            expiresAt: (row["expires_at"] as Double?).map(Date.init(timeIntervalSince1970:)))
        return (row["row"], memory, vector)
    }
}
