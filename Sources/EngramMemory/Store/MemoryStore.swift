import EngramEmbedding
import EngramIndex
import Foundation
import GRDB

/// Durable, tenant-scoped agent memories.
///
/// SQLite (through GRDB, WAL mode) is the system of record: memories with their embedding bytes,
/// and a history of ADD / UPDATE / DELETE events. The vector index (HNSW, whose planner scans small
/// candidate sets exactly) is derived from it: rebuilt from the stored embeddings at open, updated
/// after each committed write.
///
/// Every call that reads or changes memories in bulk takes a ``MemoryScope`` with at least one field
/// set, and never sees or touches memories outside it.
///
/// Thread safety: `Sendable`; readers never wait for readers (WAL readers, and the in-memory view
/// behind a readers-writer lock); writes are serialized by SQLite's single writer.
public final class MemoryStore: @unchecked Sendable {  // `state` is RWLocked; the pool and the index are thread-safe
    public let directory: String
    public let embedder: any Embedder
    let pool: DatabasePool
    let state: RWLocked<State>
    /// Vectors by row id. Thread-safe on its own: inserted before a memory is published in `state`
    /// (so a search never returns a row it cannot resolve), removed after it is unpublished.
    let index: RWLocked<HNSWIndex>

    /// HNSW parameters of the store's index: efConstruction 100 builds about twice as fast as 200
    /// for a small recall cost that the search breadth makes up.
    static let indexParameters = HNSWParameters(m: 16, efConstruction: 100)

    /// A memory held by reference in the view, so that evaluating a filter over a large tenant
    /// reads it in place instead of copying every field (measured: copies were ~20% of search time).
    final class Box: @unchecked Sendable {  // immutable
        let memory: Memory
        init(_ memory: Memory) { self.memory = memory }
    }

    /// The in-memory view derived from the database.
    struct State {
        var memories: [Int64: Box] = [:]
        var rowOfID: [UUID: Int64] = [:]
        /// Inverted lists of the scope fields: a scoped query only ever looks at its tenant's rows.
        var byUser: [String: Set<Int64>] = [:], byAgent: [String: Set<Int64>] = [:], byRun: [String: Set<Int64>] = [:]

        mutating func publish(_ row: Int64, _ memory: Memory) {
            memories[row] = Box(memory)
            rowOfID[memory.id] = row
            if let u = memory.scope.userID { byUser[u, default: []].insert(row) }
            if let a = memory.scope.agentID { byAgent[a, default: []].insert(row) }
            if let r = memory.scope.runID { byRun[r, default: []].insert(row) }
        }

        mutating func unpublish(_ row: Int64) -> Memory? {
            guard let memory = memories.removeValue(forKey: row)?.memory else { return nil }
            rowOfID[memory.id] = nil
            if let u = memory.scope.userID { byUser[u]?.remove(row) }
            if let a = memory.scope.agentID { byAgent[a]?.remove(row) }
            if let r = memory.scope.runID { byRun[r]?.remove(row) }
            return memory
        }

        /// The rows whose scope lies in `scope`, from the smallest inverted list that applies
        /// (a one-field scope is exactly its list; more fields are checked row by row).
        func memberRows(of scope: MemoryScope) -> [Int64] {
            let lists = [scope.userID.map { byUser[$0] ?? [] }, scope.agentID.map { byAgent[$0] ?? [] }, scope.runID.map { byRun[$0] ?? [] }]
                .compactMap { $0 }
            guard let smallest = lists.min(by: { $0.count < $1.count }) else { return [] }
            return lists.count == 1 ? Array(smallest) : smallest.filter { memories[$0].map { scope.contains($0.memory.scope) } ?? false }
        }

        /// ``memberRows(of:)`` with the memories.
        func members(of scope: MemoryScope) -> [(Int64, Memory)] {
            memberRows(of: scope).compactMap { row in memories[row].map { (row, $0.memory) } }
        }
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
        state = RWLocked(State())
        index = RWLocked(try HNSWIndex(dimension: embedder.dimension, metric: .cosine, parameters: Self.indexParameters))
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
        var fresh = State()
        let freshIndex = try HNSWIndex(dimension: embedder.dimension, metric: .cosine, parameters: Self.indexParameters)
        var vectors: [Float] = []
        var ids: [UInt64] = []
        for row in rows {
            let (rowID, memory, vector) = try Self.decode(row, dimension: embedder.dimension)
            fresh.publish(rowID, memory)
            vectors += vector
            ids.append(UInt64(rowID))
        }
        if !ids.isEmpty {
            try freshIndex.add(VectorMatrix(dimension: embedder.dimension, values: vectors), ids: ids,
                               threads: ProcessInfo.processInfo.activeProcessorCount)
        }
        index.write { $0 = freshIndex }
        state.write { $0 = fresh }
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
