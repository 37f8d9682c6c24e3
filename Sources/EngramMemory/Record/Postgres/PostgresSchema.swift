import Logging
import PostgresNIO

/// Engram's tables in PostgreSQL, created and migrated by Engram: numbered migrations, each run
/// once, in one transaction that holds an advisory lock, so that nodes starting together migrate
/// once and in order.
enum PostgresSchema {
    /// Migration `i + 1`, statement by statement.
    static let migrations: [[PostgresQuery]] = [[
        """
        CREATE TABLE engram_memory (
            row BIGSERIAL PRIMARY KEY,
            id UUID NOT NULL UNIQUE,
            text TEXT NOT NULL,
            hash TEXT NOT NULL,
            user_id TEXT, agent_id TEXT, run_id TEXT,
            metadata TEXT NOT NULL,
            embedding BYTEA NOT NULL,
            created_at DOUBLE PRECISION NOT NULL, updated_at DOUBLE PRECISION NOT NULL, expires_at DOUBLE PRECISION
        )
        """,
        // One copy of a text per scope, also across nodes.
        "CREATE UNIQUE INDEX engram_memory_dedup ON engram_memory (hash, coalesce(user_id, ''), coalesce(agent_id, ''), coalesce(run_id, ''))",
        "CREATE INDEX engram_memory_user ON engram_memory (user_id)",
        "CREATE INDEX engram_memory_agent ON engram_memory (agent_id)",
        "CREATE INDEX engram_memory_run ON engram_memory (run_id)",
        """
        CREATE TABLE engram_history (
            seq BIGSERIAL PRIMARY KEY,
            memory_id UUID NOT NULL,
            event TEXT NOT NULL,
            old_text TEXT, new_text TEXT,
            at DOUBLE PRECISION NOT NULL
        )
        """,
        "CREATE INDEX engram_history_memory ON engram_history (memory_id)",
        // The change feed: a row per memory added or removed, with the transaction that did it.
        """
        CREATE TABLE engram_change (
            seq BIGSERIAL PRIMARY KEY,
            xid XID8 NOT NULL DEFAULT pg_current_xact_id(),
            row BIGINT NOT NULL,
            added BOOLEAN NOT NULL,
            user_id TEXT, agent_id TEXT, run_id TEXT
        )
        """,
        "CREATE INDEX engram_change_xid ON engram_change (xid)",
        "CREATE TABLE engram_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ], [
        // Validity: when a fact became true (NULL: its creation) and stopped (NULL: it still is),
        // and its successor. One copy of a text per scope among current memories only.
        "ALTER TABLE engram_memory ADD COLUMN valid_from DOUBLE PRECISION, ADD COLUMN valid_to DOUBLE PRECISION, ADD COLUMN superseded_by UUID",
        "DROP INDEX engram_memory_dedup",
        """
        CREATE UNIQUE INDEX engram_memory_dedup ON engram_memory (hash, coalesce(user_id, ''), coalesce(agent_id, ''), coalesce(run_id, ''))
        WHERE valid_to IS NULL
        """,
    ], [
        // Immutable memories: set at creation, never changed.
        "ALTER TABLE engram_memory ADD COLUMN immutable BOOLEAN NOT NULL DEFAULT false",
    ]]

    /// Brings the schema to the newest version.
    static func migrate(_ client: PostgresClient, logger: Logger) async throws {
        try await client.withTransaction(logger: logger) { connection in
            // Any fixed key: every Engram node takes the same one.
            try await connection.query("SELECT pg_advisory_xact_lock(7305982736451)", logger: logger)
            try await connection.query("CREATE TABLE IF NOT EXISTS engram_schema (version INTEGER NOT NULL)", logger: logger)
            var current = 0
            for try await version in try await connection.query("SELECT coalesce(max(version), 0) FROM engram_schema", logger: logger).decode(Int.self) {
                current = version
            }
            for (index, statements) in migrations.enumerated() where index + 1 > current {
                for statement in statements { try await connection.query(statement, logger: logger) }
                try await connection.query("INSERT INTO engram_schema (version) VALUES (\(index + 1))", logger: logger)
            }
        }
    }
}
