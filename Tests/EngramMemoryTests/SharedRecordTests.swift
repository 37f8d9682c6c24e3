import EngramSupport
import EngramTestSupport
import Foundation
import Testing
import EngramMemory

/// Several nodes on one PostgreSQL record: each applies its own writes at once and follows the
/// others' through the change feed.
@Suite("Shared record (PostgreSQL)", .enabled(if: StoreBackend.available.contains(.postgres)))
struct SharedRecordTests {
    /// Two nodes: stores with directories of their own on one database.
    func nodes() throws -> (MemoryStore, MemoryStore, database: String) {
        let first = scratchDirectory("node"), second = scratchDirectory("node")
        StoreBackend.share(second, with: first)
        let database = try #require(try StoreBackend.postgres.database(for: first))
        return (try openStore(first, .postgres), try openStore(second, .postgres), database)
    }

    /// Polls `condition` until it holds or `seconds` pass.
    func eventually(_ seconds: Double = 10, _ condition: () throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try condition()
    }

    @Test("a write on one node is read at once there and soon on the other; a delete never comes back on either")
    func propagation() async throws {
        let (a, b, _) = try nodes()
        let alice = MemoryScope(userID: "alice")
        let added = try await a.add(["likes green tea"], vectors: [WordsEmbedder.vector("likes green tea")], scope: alice)[0]
        #expect(try a.list(scope: alice).memories.map(\.id) == [added.id])  // read-your-writes
        #expect(try await eventually { try b.list(scope: alice).memories.map(\.id) == [added.id] })
        #expect(try b.search(vector: WordsEmbedder.vector("green tea"), scope: alice, limit: 1).first?.memory.id == added.id)
        let updated = try await b.update(added.id, text: "likes black coffee", scope: alice)
        #expect(try await eventually { try a.list(scope: alice).memories.map(\.text) == [updated.text] })
        try await b.delete(added.id)
        #expect(try await eventually { try a.list(scope: alice).total == 0 })
        try await Task.sleep(for: .milliseconds(300))
        #expect(try a.list(scope: alice).total == 0 && b.list(scope: alice).total == 0)
        // Dedup holds across nodes: the same text in one scope, added on both at once, is stored once.
        async let one = a.add(["prefers tabs"], vectors: [WordsEmbedder.vector("prefers tabs")], scope: alice)
        async let two = b.add(["prefers tabs"], vectors: [WordsEmbedder.vector("prefers tabs")], scope: alice)
        let ids = try await Set(one.map(\.id) + two.map(\.id))
        #expect(ids.count == 1)
        #expect(try await eventually { try a.list(scope: alice).total == 1 && b.list(scope: alice).total == 1 })
    }

    @Test("a transaction that commits after a younger one is not skipped: the feed is read by transaction horizon")
    func lateCommit() async throws {
        let (a, b, database) = try nodes()
        let alice = MemoryScope(userID: "alice")
        _ = try await a.add(["first"], vectors: [WordsEmbedder.vector("first")], scope: alice)
        #expect(try await eventually { try b.list(scope: alice).total == 1 })
        // A writer that takes its row and feed entry first and commits last: its sequence values
        // are below those of the write that overtakes it.
        let id = UUID()
        let hex = WordsEmbedder.vector("held back").withUnsafeBytes { $0.map { String(format: "%02x", $0) }.joined() }
        let held = Process()
        held.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        held.arguments = ["psql", database, "-v", "ON_ERROR_STOP=1", "-q", "-c", """
            BEGIN;
            INSERT INTO engram_memory (id, text, hash, user_id, metadata, embedding, created_at, updated_at)
                VALUES ('\(id.uuidString)', 'held back', 'h-held', 'alice', '{}', decode('\(hex)', 'hex'), 1, 1);
            INSERT INTO engram_change (row, added, user_id) SELECT row, true, 'alice' FROM engram_memory WHERE id = '\(id.uuidString)';
            SELECT pg_sleep(4);
            COMMIT;
            """]
        try held.run()
        try await Task.sleep(for: .milliseconds(500))
        let overtaking = try await a.add(["overtakes"], vectors: [WordsEmbedder.vector("overtakes")], scope: alice)[0]
        #expect(try await eventually { try b.list(scope: alice).memories.contains { $0.id == overtaking.id } })
        // Not committed yet (unless a loaded machine took the whole sleep to get here).
        let listed = try b.list(scope: alice).memories.contains { $0.id == id }
        if held.isRunning { #expect(!listed) }
        held.waitUntilExit()
        #expect(held.terminationStatus == 0)
        for node in [a, b] {
            #expect(try await eventually { try node.list(scope: alice).memories.contains { $0.id == id } }, "the late commit reached every node")
        }
    }
}
