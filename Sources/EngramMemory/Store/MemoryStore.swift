import EngramSupport
import EngramEmbedding
import EngramIndex
import Foundation
import GRDB

/// Durable, tenant-scoped agent memories.
///
/// SQLite (through GRDB, WAL mode) is the system of record: memories with their embedding bytes,
/// and a history of ADD / UPDATE / DELETE events. Everything else is derived from it: an in-memory
/// view with posting lists over scope and metadata (``MemoryView``), and the vector indexes (an
/// exact flat index plus an HNSW graph per large tenant, ``MemoryIndex``), checkpointed to
/// `index/` and caught up with the database at open.
///
/// Every call that reads or changes memories in bulk takes a ``MemoryScope`` with at least one field
/// set, and never sees or touches memories outside it.
///
/// Thread safety: `Sendable`; readers never wait for readers (WAL readers, and the view behind a
/// readers-writer lock); writes are serialized.
public final class MemoryStore: @unchecked Sendable {  // `view` is RWLocked, `writer` serializes writes, the pool and indexes are thread-safe
    public let directory: String
    public let embedder: any Embedder
    let pool: DatabasePool
    let view: RWLocked<MemoryView>
    /// Vectors by row. Written before a memory is published in `view` and after it is unpublished,
    /// so a row the view allows is always searchable.
    let index: MemoryIndex
    /// Serializes writers (database, indexes and view change together); holds the number of
    /// changes since the last checkpoint.
    let writer = Locked(0)
    /// Serializes checkpoints, which finish writing after they release `writer`; holds what the
    /// last one committed.
    let checkpointing: Locked<CheckpointState>
    /// Where async writes run (see ``writing(_:)``).
    let writerQueue = DispatchQueue(label: "engram.store.writer")

    /// Opens (creating if needed) the store in `directory`: loads the view from the database, opens
    /// the checkpointed vector indexes and catches them up with the database (or rebuilds them when
    /// there is no usable checkpoint).
    public init(directory: String, embedder: any Embedder) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try StoreLock.acquire(directory)
        self.directory = directory
        self.embedder = embedder
        var config = Configuration()
        config.busyMode = .timeout(10)
        pool = try DatabasePool(path: directory + "/memories.sqlite", configuration: config)
        try Self.migrator.migrate(pool)
        try Self.checkEmbedder(embedder, in: pool)
        var derived = try Self.openDerived(directory + "/index", pool: pool, dimension: embedder.dimension)
        derived.view.indexesNewPartitions = true
        view = RWLocked(derived.view)
        index = derived.index
        checkpointing = Locked(derived.checkpoint)
        writer.withLock { $0 = derived.changes }
        finishOpeningInBackground()
        // The catch-up may have left a graph with more removed nodes than live ones, as deletes do.
        compactGraphsInBackground(index.graphs.read { Array($0.keys) })
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
    private static func checkEmbedder(_ embedder: any Embedder, in pool: DatabasePool) throws {
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
}
