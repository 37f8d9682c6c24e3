import Foundation

/// The durable record of a store: every memory with its embedding, every memory's history, and
/// the order of changes. The system of record; everything else a store holds is derived from it.
///
/// Each write is one transaction and reports what it changed (``RecordChange``), which the
/// store's writer applies to the derived state. Nothing above this protocol knows which database
/// it talks to: SQLite (``SQLiteRecordStore``) on one machine; a server database where several
/// nodes serve one store.
///
/// Rows: every memory the record holds has a row number, assigned in increasing order and never
/// reused. A change never rewrites a row: an updated memory moves to a new row. So the rows up to
/// a position that are still in the record are exactly the memories a checkpoint of that position
/// holds, unchanged.
///
/// Conforming types are thread-safe; writes are serialized by the caller (the store's writer).
package protocol RecordStore: Sendable {
    /// Checks that the store holds embeddings of `identity` (model and dimension), recording it
    /// when the store is new: one store never mixes vector spaces.
    /// - Throws: ``MemoryError/invalidParameter(_:)`` naming both when they differ.
    func bind(embedder identity: String) throws

    /// Adds memories in one transaction, all or none. An item whose text the same scope already
    /// holds (same hash, stored or earlier in the batch) is not stored again.
    /// - Returns: what changed, and for each item its memory: the new one or the one already held.
    func add(_ items: [NewMemory], embeddings: [[Float]], at now: Date) throws -> (change: RecordChange, memories: [Memory])

    /// Replaces each edited memory (if it lies in `scope`) by its ``Memory/revised(_:at:)`` form
    /// on a new row, with the edit's embedding (nil: the old one), recording an UPDATE event; all
    /// in one transaction, all or none. The ids are distinct.
    /// - Throws: ``MemoryError/notFound(_:)``; ``MemoryError/duplicateText(_:)`` when a new text
    ///   is one its scope holds already.
    func update(_ edits: [RecordEdit], in scope: MemoryScope?, at now: Date) throws -> (change: RecordChange, memories: [Memory])

    /// Deletes the memories `ids` (each must lie in `scope`) in one transaction, all or none;
    /// their histories keep the events without texts. The ids are distinct.
    /// - Throws: ``MemoryError/notFound(_:)``.
    func delete(_ ids: [UUID], in scope: MemoryScope?, at now: Date) throws -> RecordChange

    /// Deletes every memory in `scope` (every field it sets must match) with its history, in one
    /// transaction; with `rows`, only the memories of those rows (still there and in `scope`).
    func deleteAll(in scope: MemoryScope, rows: Set<Int64>?) throws -> RecordChange

    /// Deletes every memory and all history.
    func deleteEverything() throws -> RecordChange

    /// The memory `id`, if the record holds it.
    func memory(_ id: UUID) throws -> Memory?

    /// The history of `id`, oldest first.
    func history(_ id: UUID) throws -> [MemoryEvent]

    /// How many memories the record holds.
    func memoryCount() throws -> Int

    /// Calls `body` with every memory, in row order (without embeddings).
    func forEachMemory(_ body: (Int64, Memory) throws -> Void) throws

    /// The embeddings of `rows`, in order.
    /// - Throws: ``MemoryError/corruptRecord(_:)`` for a row without an embedding of the store's dimension.
    func embeddings(of rows: [Int64]) throws -> [[Float]]

    /// Where the record's change order stands now: a derived state that has taken in every change
    /// committed so far is at this cursor.
    func cursor() throws -> ChangeCursor

    /// The changes committed after `cursor` that `derived` (a state at `cursor`, plus whatever
    /// changes it applied itself since) has not taken in yet, and the cursor after them. Applying
    /// them brings `derived` up to the record.
    /// - Returns: also whether there were rows `derived` lacks at or below its position: rows a
    ///   delta checkpoint cannot describe (another writer's, or committed out of row order).
    func changes(after cursor: ChangeCursor, derived: some DerivedRows) throws -> (change: RecordChange, cursor: ChangeCursor, lateRows: Bool)

    /// Whether other writers (other processes or nodes) may change the record, so that a store
    /// must follow ``changes(after:derived:)`` while it is open, not only at open.
    var isShared: Bool { get }

    /// Returns when the record may have changed (another writer committed), or after `timeout`.
    func waitForChanges(timeout: Duration) async

    /// Moves what the record keeps in its write-ahead log into its main file and empties the log,
    /// so that the text of a deleted memory does not linger there (SQLite's WAL; the deleted
    /// rows themselves are overwritten with zeros, `secure_delete`). A database server manages
    /// its own log (nothing to do).
    func flushLog() throws

    /// Stops the record store's connections and tasks; later calls fail.
    func close()
}

/// What a derived state holds, for a catch-up to compare with the record.
package protocol DerivedRows: Sendable {
    /// The number of memories held.
    var count: Int { get }
    /// Whether `row` is held (in the partition of `scope`).
    func contains(_ row: Int64, scope: MemoryScope) -> Bool
    /// Every row held at or below `position`, with its scope.
    func rows(through position: Int64) -> [(row: Int64, scope: MemoryScope)]
}

/// Where a derived state stands in the record's change order; saved with each checkpoint.
package struct ChangeCursor: Codable, Sendable, Equatable {
    /// The largest row the state has seen assigned (rows only grow).
    package var position: Int64
    /// For a record shared by several writers: the oldest transaction that was still running when
    /// the state last read the change feed (every older one is finished and was read), and the
    /// feed entries of younger transactions it has already taken in.
    package var horizon: UInt64?
    package var seen: [Int64]?

    package init(position: Int64, horizon: UInt64? = nil, seen: [Int64]? = nil) {
        self.position = position
        self.horizon = horizon
        self.seen = seen
    }
}

/// A memory as the record holds it: its row, and its embedding when it was asked for.
package struct StoredRecord: Sendable {
    package var row: Int64
    package var memory: Memory
    package var embedding: [Float]
}

/// What one committed transaction changed, for the derived state to take in.
package struct RecordChange: Sendable {
    /// New rows (ascending, each above every row before), with their embeddings.
    package var added: [StoredRecord] = []
    /// Rows that are gone, with the scope of each (which names its partition).
    package var removed: [(row: Int64, scope: MemoryScope)] = []

    package var isEmpty: Bool { added.isEmpty && removed.isEmpty }
    package var size: Int { added.count + removed.count }
}
