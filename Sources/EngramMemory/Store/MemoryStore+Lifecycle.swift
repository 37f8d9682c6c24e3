import EngramEmbedding
import Foundation

extension MemoryStore {
    /// Saves the derived state (partitions and vector indexes) to `index/` in the store directory,
    /// so that the next open maps it instead of rebuilding from the record. Every file is new and
    /// written atomically, and a manifest written last commits them all: a crash leaves the
    /// previous checkpoint in force. What is unchanged since the last checkpoint is listed again,
    /// not rewritten (nothing at all when that one is still exact). Writers wait only while the
    /// changed index files are written; searches never wait.
    /// - Complexity: writes the changes since the last checkpoint, and now and then (when the
    ///   changes outgrow a fraction of it) a whole view or vector file: up to O(memories · dimension).
    public func checkpoint() throws {
        try ensureOpen()
        try verifyIndexFilesOnce()
        try checkpointer.checkpoint(writer, dimension: embedder.dimension)
        try records.flushLog()
    }

    /// `checkpoint()` on a thread of the store's own (writes keep going meanwhile).
    public func checkpoint() async throws {
        try await onCheckpointQueue { try self.checkpoint() }
    }

    /// Checkpoints when the changes since the open or the last checkpoint would cost the next open
    /// more to catch up than the checkpoint costs to write (a graph insertion costs about a
    /// hundred vector writes). Nothing is lost without it: the record is the record.
    /// - Returns: whether it checkpointed.
    @discardableResult
    public func checkpointIfDue() throws -> Bool {
        try ensureOpen()
        return try checkpointIfDueWhileOpen()
    }

    /// `checkpointIfDue()` on a thread of the store's own (writes keep going meanwhile).
    @discardableResult
    public func checkpointIfDue() async throws -> Bool {
        try await onCheckpointQueue { try self.checkpointIfDue() }
    }

    private func checkpointIfDueWhileOpen() throws -> Bool {
        let changes = writer.changesSinceCheckpoint
        guard changes > 0, changes * 100 >= writer.state.count else { return false }
        try verifyIndexFilesOnce()
        guard try checkpointer.checkpoint(writer, dimension: embedder.dimension) else { return false }
        try records.flushLog()
        return true
    }

    /// Closes the store: cancels its background work and waits for it to stop, checkpoints if
    /// due (`checkpointIfDue()`), and lets another process open the store. Every later call
    /// throws ``MemoryError/closed``; closing again does nothing.
    public func close() async throws {
        guard markClosed() else { return }
        await background.close()
        try finishClosing()
    }

    /// `close()` for synchronous callers: blocks until the background work has stopped. From
    /// async code, call the async form.
    public func close() throws {
        guard markClosed() else { return }
        background.closeAndWait()
        try finishClosing()
    }

    private func finishClosing() throws {
        defer {
            records.close()
            StoreLock.release(directory)
        }
        // The log emptied also when no checkpoint was due: a clean shutdown leaves no deleted text in it.
        if try !checkpointIfDueWhileOpen() { try records.flushLog() }
    }

    /// Rebuilds the derived state of the store in `directory` (with its record in `database`, if
    /// given) from its record alone, ignoring any checkpoint, and checkpoints it.
    /// - Parameter progress: told now and then what the rebuild is doing (see ``OpenProgress``).
    /// - Returns: the number of memories indexed.
    @discardableResult
    public static func rebuild(directory: String, embedder: any Embedder, database: PostgresLocation? = nil,
                               progress: (@Sendable (OpenProgress) -> Void)? = nil) throws -> Int {
        try? FileManager.default.removeItem(atPath: directory + "/index")
        let store = try MemoryStore(directory: directory, embedder: embedder, database: database, progress: progress)
        try store.checkpoint()
        let count = store.count
        try store.close()
        return count
    }

    /// ``rebuild(directory:embedder:database:progress:)`` on a thread of its own.
    @discardableResult
    public static func rebuild(directory: String, embedder: any Embedder, database: PostgresLocation? = nil,
                               progress: (@Sendable (OpenProgress) -> Void)? = nil) async throws -> Int {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try rebuild(directory: directory, embedder: embedder, database: database, progress: progress) })
            }
        }
    }
}
