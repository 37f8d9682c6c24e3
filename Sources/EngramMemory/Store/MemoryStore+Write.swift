import EngramEmbedding
import EngramSupport
import Foundation

extension MemoryStore {
    /// Largest accepted metadata, as JSON bytes.
    public static let maxMetadataBytes = MemoryValidation.maxMetadataBytes

    /// Adds memories, embedding their texts with the store's embedder, in one transaction. A text
    /// already stored in the same scope is not stored again: the existing memory is returned in
    /// its place.
    /// - Throws: ``MemoryError`` for empty text, no scope, bad metadata or an expiry that has
    ///   passed; embedder errors.
    @discardableResult
    public func add(_ texts: [String], scope: MemoryScope, metadata: [String: MetadataValue] = [:], expiresAt: Date? = nil) async throws -> [Memory] {
        try await add(texts.map { NewMemory(text: $0, scope: scope, metadata: metadata, expiresAt: expiresAt) })
    }

    /// Adds memories that may each have their own scope, metadata, validity and a memory they
    /// supersede, embedding their texts with the store's embedder, in one transaction.
    /// - Throws: ``MemoryError`` for bad input (checked before anything is embedded); embedder
    ///   errors; ``MemoryError/alreadySuperseded(_:by:)`` and ``MemoryError/notFound(_:)`` for a
    ///   memory to supersede that is closed or not in the item's scope.
    @discardableResult
    public func add(_ items: [NewMemory], dedupThreshold: Float? = nil) async throws -> [Memory] {
        try MemoryValidation.check(items)
        let vectors = try await embedder.embed(items.map(\.text))
        return try await add(items, vectors: vectors, dedupThreshold: dedupThreshold)
    }

    /// Adds memories with precomputed embeddings (one per text), in one transaction.
    @discardableResult
    public func add(_ texts: [String], vectors: [[Float]], scope: MemoryScope, metadata: [String: MetadataValue] = [:],
                    expiresAt: Date? = nil) throws -> [Memory] {
        try add(texts.map { NewMemory(text: $0, scope: scope, metadata: metadata, expiresAt: expiresAt) }, vectors: vectors)
    }

    /// `add(_:vectors:scope:metadata:expiresAt:)` with the transaction on the store's writer thread.
    @discardableResult
    public func add(_ texts: [String], vectors: [[Float]], scope: MemoryScope, metadata: [String: MetadataValue] = [:],
                    expiresAt: Date? = nil) async throws -> [Memory] {
        try await add(texts.map { NewMemory(text: $0, scope: scope, metadata: metadata, expiresAt: expiresAt) }, vectors: vectors)
    }

    /// Adds memories that may each have their own scope and metadata, with precomputed embeddings
    /// (one per memory), in one transaction: all are stored or none. Duplicates (the same text in
    /// the same scope, stored or earlier in the batch) come back as the existing memory.
    /// - Throws: ``MemoryError`` for bad input (nothing is stored); record errors.
    /// - Complexity: one transaction; O(batch) index work, plus a graph insertion per memory of a
    ///   tenant large enough to have a graph.
    ///
    /// With `dedupThreshold` (in 0...1; 1 or nil: off), an item that is the same fact as a current
    /// memory of exactly its scope, or as an earlier item of the batch (``NearDuplicate``), is not
    /// stored either: that memory comes back in its place.
    @discardableResult
    public func add(_ items: [NewMemory], vectors: [[Float]], dedupThreshold: Float? = nil) throws -> [Memory] {
        try ensureOpen()
        try MemoryValidation.check(items)
        let items = items.map { item in
            var item = item
            item.metadata = MetadataValue.normalized(item.metadata)
            return item
        }
        try MemoryValidation.check(vectors: vectors, count: items.count, dimension: embedder.dimension)
        if let t = dedupThreshold, !(0...1).contains(t) { throw MemoryError.invalidParameter("the dedup threshold must lie in 0...1") }
        let now = Date().asStored
        guard let threshold = dedupThreshold, threshold < 1 else { return try perform { try records.add(items, embeddings: vectors, at: now) } }
        let matches = try nearDuplicates(of: items, vectors: vectors, threshold: threshold)
        let fresh = items.indices.filter { matches[$0] == nil }
        let stored = fresh.isEmpty ? [] : try perform { try records.add(fresh.map { items[$0] }, embeddings: fresh.map { vectors[$0] }, at: now) }
        var result = [Memory?](repeating: nil, count: items.count)
        for (i, memory) in zip(fresh, stored) { result[i] = memory }
        for i in items.indices {
            switch matches[i] {
            case let .stored(memory)?: result[i] = memory
            case let .item(j)?: result[i] = result[j]
            case nil: break
            }
        }
        return result.map { $0! }
    }

    /// `add(_:vectors:dedupThreshold:)` with the transaction on the store's writer thread.
    @discardableResult
    public func add(_ items: [NewMemory], vectors: [[Float]], dedupThreshold: Float? = nil) async throws -> [Memory] {
        try await onWriteQueue { try self.add(items, vectors: vectors, dedupThreshold: dedupThreshold) }
    }

    /// Changes a memory's text (re-embedded with the store's embedder) and/or metadata. Its
    /// scope never changes. The changed memory moves to a new row (same id and creation time).
    /// - Parameters:
    ///   - id: the memory.
    ///   - text: its new text (nil: unchanged).
    ///   - metadata: its new metadata, replacing the old (nil: unchanged).
    ///   - scope: the memory must lie in it (nil: any scope).
    /// - Throws: ``MemoryError/notFound(_:)``, ``MemoryError/duplicateText(_:)``, validation
    ///   errors, embedder errors.
    @discardableResult
    public func update(_ id: UUID, text: String? = nil, metadata: [String: MetadataValue]? = nil, scope: MemoryScope? = nil) async throws -> Memory {
        try await update([MemoryEdit(id: id, text: text, metadata: metadata)], scope: scope)[0]
    }

    /// Changes a memory's text (with its new embedding `vector`) and/or metadata.
    /// - Throws: ``MemoryError/notFound(_:)``; ``MemoryError/invalidParameter(_:)`` when a new
    ///   text comes without its vector (or a vector without a text); validation errors.
    @discardableResult
    public func update(_ id: UUID, text: String?, vector: [Float]?, metadata: [String: MetadataValue]? = nil, scope: MemoryScope? = nil) throws -> Memory {
        try update([MemoryEdit(id: id, text: text, metadata: metadata)], vectors: [vector], scope: scope)[0]
    }

    /// Changes several memories in one transaction: all or none. New texts are embedded in one
    /// pass first.
    /// - Parameters:
    ///   - edits: one per memory (distinct ids), each changing its text and/or metadata.
    ///   - scope: every memory must lie in it (nil: any scope).
    /// - Returns: the changed memories, in the order of `edits`.
    /// - Throws: ``MemoryError/notFound(_:)`` for the first memory missing or outside `scope`,
    ///   ``MemoryError/duplicateText(_:)``, validation errors, embedder errors; nothing is changed then.
    @discardableResult
    public func update(_ edits: [MemoryEdit], scope: MemoryScope? = nil) async throws -> [Memory] {
        try Self.check(edits)
        let texts = edits.compactMap(\.text)
        var embedded = try await texts.isEmpty ? [] : embedder.embed(texts)[...]
        let vectors = edits.map { edit -> [Float]? in edit.text == nil ? nil : embedded.popFirst() }
        return try await onWriteQueue { try self.update(edits, vectors: vectors, scope: scope) }
    }

    /// ``update(_:scope:)`` with the new texts' embeddings given (`vectors[i]` for `edits[i]`,
    /// nil where the text does not change), the transaction on the calling thread.
    @discardableResult
    public func update(_ edits: [MemoryEdit], vectors: [[Float]?], scope: MemoryScope? = nil) throws -> [Memory] {
        try ensureOpen()
        try Self.check(edits)
        guard vectors.count == edits.count, zip(edits, vectors).allSatisfy({ ($0.text == nil) == ($1 == nil) }) else {
            throw MemoryError.invalidParameter("a new text needs its embedding, and only a new text has one")
        }
        try MemoryValidation.check(vectors: vectors.compactMap { $0 }, count: edits.filter { $0.text != nil }.count, dimension: embedder.dimension)
        let now = Date().asStored
        let changes = zip(edits, vectors).map { edit, vector in
            RecordEdit(id: edit.id, revision: MemoryRevision(text: edit.text, metadata: edit.metadata.map(MetadataValue.normalized), expiry: edit.expiry),
                       embedding: vector)
        }
        return try perform { try records.update(changes, in: scope, at: now) }
    }

    /// Ends the validity of memories that are no longer true, with no successor (a fact the user
    /// retracted): their `validTo` becomes now, a SUPERSEDE event is recorded, and they stay stored,
    /// found with ``Validity/asOf(_:)`` and ``Validity/all``. One transaction, all or none.
    /// - Throws: ``MemoryError/notFound(_:)`` outside `scope`; ``MemoryError/alreadySuperseded(_:by:)``
    ///   for a memory whose validity ended already; ``MemoryError/immutable(_:)``.
    @discardableResult
    public func invalidate(_ ids: [UUID], scope: MemoryScope? = nil) async throws -> [Memory] {
        guard !ids.isEmpty else { return [] }
        return try await onWriteQueue {
            try self.ensureOpen()
            guard Set(ids).count == ids.count else { throw MemoryError.invalidParameter("a memory appears twice") }
            let now = Date().asStored
            let edits = ids.map { RecordEdit(id: $0, revision: MemoryRevision(text: nil, metadata: nil, closesAt: now), embedding: nil) }
            return try self.perform { try self.records.update(edits, in: scope, at: now) }
        }
    }

    private static func check(_ edits: [MemoryEdit]) throws {
        guard Set(edits.map(\.id)).count == edits.count else { throw MemoryError.invalidParameter("a memory appears twice in one update") }
        for edit in edits {
            if let text = edit.text { try MemoryValidation.check(text: text) }
            if let metadata = edit.metadata { try MemoryValidation.check(metadata: metadata) }
            if case let .at(date)? = edit.expiry { try MemoryValidation.check(expiresAt: date) }
            guard edit.text != nil || edit.metadata != nil || edit.expiry != nil else {
                throw MemoryError.invalidParameter("an edit changes the text, the metadata or the expiry")
            }
        }
    }

    /// Deletes one memory. Its history keeps the events but loses every text.
    /// - Throws: ``MemoryError/notFound(_:)`` when it is not in `scope` (nil: any scope).
    public func delete(_ id: UUID, scope: MemoryScope? = nil) throws {
        try delete([id], scope: scope)
    }

    /// `delete(_:scope:)` with the transaction on the store's writer thread.
    public func delete(_ id: UUID, scope: MemoryScope? = nil) async throws {
        try await onWriteQueue { try self.delete(id, scope: scope) }
    }

    /// Deletes several memories in one transaction: all or none. Their histories keep the
    /// events but lose every text.
    /// - Throws: ``MemoryError/notFound(_:)`` for the first memory missing or outside `scope`
    ///   (nil: any scope); ``MemoryError/invalidParameter(_:)`` for an id given twice.
    public func delete(_ ids: [UUID], scope: MemoryScope? = nil) throws {
        try ensureOpen()
        guard Set(ids).count == ids.count else { throw MemoryError.invalidParameter("a memory appears twice in one delete") }
        guard !ids.isEmpty else { return }
        try perform { (try records.delete(ids, in: scope, at: Date().asStored), ()) }
    }

    /// `delete(_:scope:)` for several memories, with the transaction on the store's writer thread.
    public func delete(_ ids: [UUID], scope: MemoryScope? = nil) async throws {
        try await onWriteQueue { try self.delete(ids, scope: scope) }
    }

    /// Deletes every memory in `scope` (at least one field set) that passes `filter`, atomically,
    /// with their history.
    /// - Parameters:
    ///   - scope: at least one field set; nothing outside it is touched.
    ///   - filter: Mem0's filter grammar; the memories it passes are those ``list(scope:filter:limit:offset:includeExpired:)``
    ///     lists (expired ones included). With a filter, a memory changed or added by another
    ///     writer while the delete runs is left alone; without one, the whole scope goes.
    /// - Returns: how many memories were deleted.
    @discardableResult
    public func deleteAll(scope: MemoryScope, filter: MemoryFilter = .all) throws -> Int {
        try ensureOpen()
        try MemoryValidation.check(scope: scope)
        // The rows the filter passes, from the state: rows are never reused, so a memory updated
        // meanwhile (moved to a new row) is not deleted by a filter it may no longer pass.
        let rows: Set<Int64>? = scope.passesWhole(filter) ? nil
            : Set(MemorySearch(state: writer.state, vectors: writer.vectors, reach: .scope(scope), filter: filter, now: Date(), validity: .all)
                .candidates(includeExpired: true).parts.flatMap(\.rows))
        if rows?.isEmpty == true { return 0 }
        return try perform {
            let change = try records.deleteAll(in: scope, rows: rows)
            return (change, change.removed.count)
        }
    }

    /// `deleteAll(scope:filter:)` with the transaction on the store's writer thread.
    @discardableResult
    public func deleteAll(scope: MemoryScope, filter: MemoryFilter = .all) async throws -> Int {
        try await onWriteQueue { try self.deleteAll(scope: scope, filter: filter) }
    }

    /// Erases every memory whose expiry has passed, with its history (one transaction per
    /// tenant): expired memories are hidden at once, and gone from the record after this (and from
    /// the SQLite files after the next checkpoint). `engram serve` runs it at every checkpoint interval.
    /// - Returns: how many memories were erased.
    @discardableResult
    public func purgeExpired() throws -> Int {
        try ensureOpen()
        let state = writer.state, now = Date()
        var purged = 0
        for partition in state.partitions.values where partition.boundedCount > 0 {
            let expired = partition.rows.filter { partition.memory(row: $0)?.memory.isExpired(at: now) ?? false }
            guard !expired.isEmpty else { continue }
            let scope = MemoryScope(partitionKey: partition.key)
            purged += try perform {
                let change = try records.deleteAll(in: scope, rows: Set(expired))
                return (change, change.removed.count)
            }
        }
        return purged
    }

    /// `purgeExpired()` with the transactions on the store's writer thread.
    @discardableResult
    public func purgeExpired() async throws -> Int {
        try await onWriteQueue { try self.purgeExpired() }
    }

    /// Deletes everything: every memory and all history.
    public func reset() throws {
        try ensureOpen()
        try perform { (try records.deleteEverything(), ()) }
    }

    /// `reset()` with the transaction on the store's writer thread.
    public func reset() async throws {
        try await onWriteQueue { try self.reset() }
    }

    /// Commits through the writer and starts the graph rebuilds the change made due.
    private func perform<R>(_ commit: () throws -> (RecordChange, R)) throws -> R {
        let (result, due) = try writer.perform(commit)
        for key in due { compactInBackground(key) }
        return result
    }
}
