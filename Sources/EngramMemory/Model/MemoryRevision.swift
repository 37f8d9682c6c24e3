import EngramSupport
import Foundation

/// What an update changes of a memory: its text, its metadata, its expiry (nil: unchanged).
package struct MemoryRevision: Sendable {
    package var text: String?
    package var metadata: [String: MetadataValue]?
    package var expiry: ExpiryChange?
    /// Ends the memory's validity at this instant, with no successor (a fact no longer true).
    package var closesAt: Date?

    package init(text: String?, metadata: [String: MetadataValue]?, expiry: ExpiryChange? = nil, closesAt: Date? = nil) {
        self.text = text
        self.metadata = metadata
        self.expiry = expiry
        self.closesAt = closesAt
    }

    /// The history event it records: SUPERSEDE when it ends the validity, else UPDATE.
    package var event: MemoryEvent.Kind { closesAt == nil ? .update : .supersede }
}

/// One memory's revision in a batch update: the memory, what changes, and its new embedding
/// (nil: the old one; only a new text has one).
package struct RecordEdit: Sendable {
    package var id: UUID
    package var revision: MemoryRevision
    package var embedding: [Float]?

    package init(id: UUID, revision: MemoryRevision, embedding: [Float]?) {
        self.id = id
        self.revision = revision
        self.embedding = embedding
    }
}

extension Memory {
    /// This memory with `revision` applied at `now`: same id, scope and creation time.
    /// - Throws: ``MemoryError/immutable(_:)`` for an immutable memory;
    ///   ``MemoryError/alreadySuperseded(_:by:)`` when the revision closes a memory closed already.
    func revised(_ revision: MemoryRevision, at now: Date) throws -> Memory {
        try requireMutable()
        if revision.closesAt != nil, validTo != nil { throw MemoryError.alreadySuperseded(id, by: supersededBy ?? id) }
        var memory = self
        if let text = revision.text {
            memory.text = text
            memory.hash = ContentHash.of(text)
        }
        memory.metadata = revision.metadata ?? metadata
        switch revision.expiry {
        case let .at(date)?: memory.expiresAt = date.asStored
        case .never?: memory.expiresAt = nil
        case nil: break
        }
        if let closesAt = revision.closesAt { memory.validTo = max(closesAt, memory.validFrom) }
        memory.updatedAt = now
        return memory
    }
}

extension Memory {
    /// The one check every record store makes before changing or deleting a memory by id.
    /// - Throws: ``MemoryError/immutable(_:)`` when it is immutable.
    func requireMutable() throws {
        if immutable { throw MemoryError.immutable(id) }
    }
}
