import EngramEmbedding
import Foundation

extension MemoryStore {
    /// Saves the vector indexes to `index/` in the store directory, so that the next open loads
    /// them instead of rebuilding (each file written atomically; a crash leaves a usable mix that
    /// the next open catches up). Writers wait meanwhile; searches continue.
    /// - Complexity: writes every index: O(memories · dimension).
    public func checkpoint() throws {
        try writer.withLock { changes in
            try index.save(to: indexDirectory)
            changes = 0
        }
    }

    /// Checkpoints when the changes since the open or the last checkpoint would cost the next open
    /// more to catch up than the checkpoint costs to write (a graph insertion costs about a
    /// hundred vector writes). Nothing is lost without it: the database is the record.
    public func close() throws {
        let changes = writer.withLock { $0 }
        if changes > 0, changes * 100 >= view.read(\.count) { try checkpoint() }
    }

    /// Rebuilds the derived vector indexes of the store in `directory` from its database alone
    /// (ignoring any checkpoint) and checkpoints them.
    /// - Returns: the number of memories indexed.
    @discardableResult
    public static func rebuild(directory: String, embedder: any Embedder) throws -> Int {
        try? FileManager.default.removeItem(atPath: directory + "/index")
        let store = try MemoryStore(directory: directory, embedder: embedder)
        try store.checkpoint()
        return store.view.read(\.count)
    }

    var indexDirectory: String { directory + "/index" }
}
