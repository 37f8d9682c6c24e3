import EngramSupport
import Foundation

/// A memory to add: its text, scope, metadata and optional expiry.
public struct NewMemory: Sendable, Hashable {
    /// What to remember (not blank).
    public var text: String
    /// Whose memory (at least one field).
    public var scope: MemoryScope
    /// Typed metadata (finite numbers, at most 64 KiB of JSON, no reserved keys).
    public var metadata: [String: MetadataValue]
    /// When it stops being listed and found (nil: never).
    public var expiresAt: Date?
    /// Its id (nil: a new one). Set by an import that restores memories exactly; an id the store
    /// holds already is refused.
    public var id: UUID?
    /// When it was created (nil: when it is added).
    public var createdAt: Date?
    /// When it was last changed (nil: its creation).
    public var updatedAt: Date?

    /// A memory to add.
    public init(text: String, scope: MemoryScope, metadata: [String: MetadataValue] = [:], expiresAt: Date? = nil,
                id: UUID? = nil, createdAt: Date? = nil, updatedAt: Date? = nil) {
        self.text = text
        self.scope = scope
        self.metadata = metadata
        self.expiresAt = expiresAt
        self.id = id
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The memory stored for it when added at `now`.
    func memory(at now: Date) -> Memory {
        let created = createdAt?.asStored ?? now
        return Memory(id: id ?? UUID(), text: text, hash: ContentHash.of(text), metadata: metadata, scope: scope,
                      createdAt: created, updatedAt: updatedAt?.asStored ?? created, expiresAt: expiresAt?.asStored)
    }

    /// Checks what ``MemoryStore/add(_:vectors:)`` would refuse in this memory, before any of a
    /// batch is committed (an import checks every line first).
    /// - Throws: the ``MemoryError`` that `add` would throw.
    public func validate() throws {
        try MemoryValidation.check([self])
    }
}
