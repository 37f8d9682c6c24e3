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

    /// Replaces memory `id` (if it lies in `scope`) by `revise(old)` on a new row, with
    /// `embedding` (nil: the old one), recording an UPDATE event.
    /// - Throws: ``MemoryError/notFound(_:)``.
    func update(_ id: UUID, in scope: MemoryScope?, embedding: [Float]?, revise: (Memory) throws -> Memory) throws
        -> (change: RecordChange, memory: Memory)

    /// Deletes memory `id` (if it lies in `scope`); its history keeps the events without texts.
    /// - Throws: ``MemoryError/notFound(_:)``.
    func delete(_ id: UUID, in scope: MemoryScope?, at now: Date) throws -> RecordChange

    /// Deletes every memory in `scope` (every field it sets must match) with its history.
    func deleteAll(in scope: MemoryScope) throws -> RecordChange

    /// Deletes every memory and all history.
    func deleteEverything() throws -> RecordChange

    /// The memory `id`, if the record holds it.
    func memory(_ id: UUID) throws -> Memory?

    /// The history of `id`, oldest first.
    func history(_ id: UUID) throws -> [MemoryEvent]

    /// The largest row assigned so far (0 for a new store).
    func position() throws -> Int64

    /// The number of memories held.
    func count() throws -> Int

    /// Calls `body` with every memory, in row order (without embeddings).
    func forEachMemory(_ body: (Int64, Memory) throws -> Void) throws

    /// The memories on rows above `position`, ascending, with their embeddings.
    func records(after position: Int64) throws -> [StoredRecord]

    /// The memories on `rows` (ascending; rows not held are left out), with their embeddings.
    func records(_ rows: [Int64]) throws -> [StoredRecord]

    /// The rows at or below `position` that the record still holds.
    func rows(through position: Int64) throws -> Set<Int64>

    /// The embeddings of `rows`, in order.
    /// - Throws: ``MemoryError/corruptRecord(_:)`` for a row without an embedding of the store's dimension.
    func embeddings(of rows: [Int64]) throws -> [[Float]]
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
