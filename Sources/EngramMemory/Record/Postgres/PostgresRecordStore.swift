import EngramSupport
import Foundation
import Logging
import PostgresNIO

/// The record of a store in PostgreSQL: the record store when several `engram serve` nodes serve
/// one store, or when the record should live in a database that is already run, backed up and
/// replicated.
///
/// The same tables as SQLite's (memories with their embeddings, history), plus a change feed
/// (`engram_change`): every transaction that adds or removes memories appends a row per memory
/// with its transaction id, and notifies `engram_changes`. Each node applies its own commits at
/// once and follows the feed for everyone else's (``changes(after:derived:)``).
///
/// The methods block their caller, which must be a thread of its own (a store's write or read
/// queue), never one of Swift's cooperative pool (see `waitForAsync`). Every call gives up after
/// ``operationTimeout`` with ``MemoryError/unavailable(_:)``: a database that is down makes
/// requests fail fast, and the store recovers when it returns.
final class PostgresRecordStore: RecordStore {
    let location: PostgresLocation
    let dimension: Int
    let link: PostgresLink
    let logger: Logger
    /// How long one call may take before it fails with ``MemoryError/unavailable(_:)``.
    var operationTimeout: Duration { location.operationTimeout }
    private let closed = Locked(false)
    /// This store's identity in the notifications of its writes, by which it skips its own.
    let writerID = UUID().uuidString

    var client: PostgresClient { link.client }
    static var channel: String { PostgresLink.channel }

    /// Connects to the database at `location` (or shares this process's connections to it) and
    /// brings its schema up to date.
    /// - Throws: ``MemoryError/unavailable(_:)`` when the database cannot be reached in time.
    init(location: PostgresLocation, dimension: Int) throws {
        self.location = location
        self.dimension = dimension
        var configured = Logger(label: "engram.postgres")
        configured.logLevel = .error
        let logger = configured
        self.logger = logger
        link = try PostgresLink.acquire(location, logger: logger)
        do {
            // A connection of its own first: the pool would wait out the timeout on a database
            // that refuses us, where this fails at once with the server's reason.
            let link = link, client = link.client
            try blocking { try await link.probe() }
            // Migrations may wait for another node's (under the advisory lock), and run DDL.
            try blocking(within: max(operationTimeout, .seconds(120))) { try await PostgresSchema.migrate(client, logger: logger) }
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    func flushLog() throws {}

    func close() {
        guard closed.withLock({ c in defer { c = true }; return !c }) else { return }
        link.changed.forget(writerID)
        PostgresLink.release(location)
    }

    /// Several nodes write one PostgreSQL store.
    var isShared: Bool { true }

    func waitForChanges(timeout: Duration) async { await link.changed.wait(timeout: timeout, ignoring: writerID) }

    /// Runs database work from the calling thread, within `limit` (default ``operationTimeout``).
    /// - Throws: ``MemoryError/unavailable(_:)`` at once while the database is known to be down,
    ///   or after a timeout or a lost connection; the work's own errors otherwise (a unique
    ///   violation, say).
    func blocking<R: Sendable>(within limit: Duration? = nil, _ work: @escaping @Sendable () async throws -> R) throws -> R {
        try link.checkReachable()
        let limit = limit ?? operationTimeout
        guard let outcome = waitForAsync(timeout: limit, on: link.executor, work) else {
            link.lost("a call took longer than \(limit)")
            throw MemoryError.unavailable("the database \(location) did not answer within \(limit)")
        }
        do { return try outcome.get() } catch let error as PSQLError where error.meansUnreachable {
            link.lost(error.summary)
            throw MemoryError.unavailable("the database \(location) cannot be reached (\(error.summary))")
        }
    }

    func bind(embedder identity: String) throws {
        try blocking { [self] in
            try await transaction { connection in
                try await connection.query("""
                    INSERT INTO engram_meta (key, value) VALUES ('embedder', \(identity)) ON CONFLICT (key) DO NOTHING
                    """, logger: logger)
                for try await stored in try await connection.query("SELECT value FROM engram_meta WHERE key = 'embedder'", logger: logger)
                    .decode(String.self) where stored != identity {
                    throw MemoryError.invalidParameter("the store holds \(stored) embeddings; this embedder is \(identity)")
                }
            }
        }
    }
}
