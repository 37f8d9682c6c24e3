import EngramSupport
import Foundation
import GRDB

/// The record of a store in one SQLite file (through GRDB, WAL mode): the record store of a
/// store that one machine serves.
///
/// Tables: `memory` (one row per memory, its embedding as a little-endian f32 blob; AUTOINCREMENT
/// rows, so a row is never reused), `history` (ADD / UPDATE / DELETE / SUPERSEDE events), `meta` (the
/// embedder the store is bound to). A unique index on (hash, scope) keeps one copy of a text per
/// scope among current memories, whatever the concurrency.
final class SQLiteRecordStore: RecordStore {
    let pool: DatabasePool
    let dimension: Int

    /// Opens (creating and migrating if needed) the database at `path`.
    init(path: String, dimension: Int) throws {
        var config = Configuration()
        config.busyMode = .timeout(10)
        // Deleted content is overwritten with zeros, not left in free pages: set here, as builds
        // differ in their default.
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA secure_delete = ON") }
        pool = try DatabasePool(path: path, configuration: config)
        self.dimension = dimension
        try Self.migrator.migrate(pool)
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
        // Validity: when a fact became true (NULL: its creation) and stopped (NULL: it still is),
        // and its successor. One copy of a text per scope among current memories only: a fact
        // may become true again after it was superseded.
        m.registerMigration("v2") { db in
            try db.execute(sql: """
                ALTER TABLE memory ADD COLUMN valid_from REAL;
                ALTER TABLE memory ADD COLUMN valid_to REAL;
                ALTER TABLE memory ADD COLUMN superseded_by TEXT;
                DROP INDEX memory_dedup;
                CREATE UNIQUE INDEX memory_dedup ON memory(hash, ifnull(user_id, ''), ifnull(agent_id, ''), ifnull(run_id, ''))
                    WHERE valid_to IS NULL;
                """)
        }
        // Immutable memories: set at creation, never changed.
        m.registerMigration("v3") { db in
            try db.execute(sql: "ALTER TABLE memory ADD COLUMN immutable INTEGER NOT NULL DEFAULT 0")
        }
        return m
    }

    func bind(embedder identity: String) throws {
        try pool.write { db in
            if let stored = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'embedder'") {
                guard stored == identity else {
                    throw MemoryError.invalidParameter("the store holds \(stored) embeddings; this embedder is \(identity)")
                }
            } else {
                try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('embedder', ?)", arguments: [identity])
            }
        }
    }

    /// One process writes a SQLite store (``StoreLock``): a store applies its own commits.
    var isShared: Bool { false }

    func waitForChanges(timeout: Duration) async { try? await Task.sleep(for: timeout) }

    func flushLog() throws {
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
    }

    func close() {}

    /// The largest row assigned (AUTOINCREMENT keeps it in `sqlite_sequence`).
    static func position(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'memory'") ?? 0
    }
}
