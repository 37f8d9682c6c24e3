import Foundation
import Logging
import PostgresNIO

/// The change feed, and why it is read by transaction horizon rather than by sequence number.
///
/// A sequence value (a memory's row, a feed entry's `seq`) is assigned when a row is inserted, not
/// when its transaction commits: a transaction that inserted seq 10 may commit after one that
/// inserted seq 11, so a reader that keeps "everything up to the largest seq seen" would skip 10
/// for good. Each entry records its transaction id instead. A read also asks for
/// `pg_snapshot_xmin(pg_current_snapshot())`, the oldest transaction still running: every older
/// transaction has finished, so its entries are all visible (or it rolled back). The next read
/// takes every entry of a transaction at or above that horizon, which covers all that were still
/// running, and skips the entries it has taken already (``ChangeCursor/seen``). No entry is ever
/// skipped; an entry is read again only while a transaction older than it is still running.
extension PostgresRecordStore {
    func cursor() throws -> ChangeCursor {
        try blocking { [self] in
            var cursor = ChangeCursor(position: 0)
            for try await (position, horizon) in try await client.query("""
                SELECT coalesce((SELECT max(row) FROM engram_memory), 0), pg_snapshot_xmin(pg_current_snapshot())::text
                """, logger: logger).decode((Int64, String).self) {
                cursor = ChangeCursor(position: position, horizon: UInt64(horizon) ?? 0, seen: [])
            }
            return cursor
        }
    }

    func changes(after cursor: ChangeCursor, derived: some DerivedRows) throws -> (change: RecordChange, cursor: ChangeCursor, lateRows: Bool) {
        let feed = try blocking { [self] in try await read(after: cursor, derived: derived) }
        let change = RecordChange(added: feed.added.sorted { $0.row < $1.row }, removed: feed.removed)
        let late = change.added.contains { $0.row <= cursor.position }
        let position = max(cursor.position, change.added.last?.row ?? 0)
        return (change, ChangeCursor(position: position, horizon: feed.horizon, seen: feed.seen), late)
    }

    /// What the feed holds after `cursor` that `derived` lacks (memories added, with their
    /// embeddings) or still holds (memories removed), read in one snapshot.
    private func read(after cursor: ChangeCursor, derived: some DerivedRows) async throws
        -> (added: [StoredRecord], removed: [(row: Int64, scope: MemoryScope)], horizon: UInt64, seen: [Int64]) {
        try await client.withConnection { connection in
            try await connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            do {
                let result = try await read(after: cursor, derived: derived, connection)
                try await connection.query("COMMIT", logger: logger)
                return result
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    private func read(after cursor: ChangeCursor, derived: some DerivedRows, _ connection: PostgresConnection) async throws
        -> (added: [StoredRecord], removed: [(row: Int64, scope: MemoryScope)], horizon: UInt64, seen: [Int64]) {
        let seen = Set(cursor.seen ?? [])
        var horizon = cursor.horizon ?? 0
        var window: [(seq: Int64, xid: UInt64)] = []
        var added: [Int64] = []
        var removed: [(row: Int64, scope: MemoryScope)] = []
        for try await (seq, xid, row, isAdd, user, agent, run, xmin) in try await connection.query("""
            SELECT seq, xid::text, row, added, user_id, agent_id, run_id, pg_snapshot_xmin(pg_current_snapshot())::text
            FROM engram_change WHERE xid >= \(String(cursor.horizon ?? 0))::xid8 ORDER BY seq
            """, logger: logger).decode((Int64, String, Int64, Bool, String?, String?, String?, String).self) {
            horizon = UInt64(xmin) ?? horizon
            window.append((seq, UInt64(xid) ?? 0))
            guard !seen.contains(seq) else { continue }
            // Only what the derived state lacks is fetched: a node's own writes come back through
            // the feed too, and their embeddings are most of its bytes.
            let scope = MemoryScope(userID: user, agentID: agent, runID: run)
            if isAdd, !derived.contains(row, scope: scope) { added.append(row) }
            if !isAdd, derived.contains(row, scope: scope) { removed.append((row, scope)) }
        }
        if window.isEmpty {
            for try await xmin in try await connection.query("SELECT pg_snapshot_xmin(pg_current_snapshot())::text", logger: logger)
                .decode(String.self) { horizon = UInt64(xmin) ?? horizon }
        }
        // A memory added and removed again within the window is simply not found.
        let records = try await records(added, connection)
        // The next read starts at the new horizon: the entries it will read again are those of
        // transactions at or above it, every one of which this read has seen.
        return (records, removed, horizon, window.filter { $0.xid >= horizon }.map(\.seq))
    }
}
