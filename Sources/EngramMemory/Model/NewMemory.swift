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
    /// When the fact became true (nil: when it is added).
    public var validFrom: Date?
    /// A current memory of the same scope that this one replaces: in the same transaction its
    /// validity ends at this one's `validFrom` and it records this one as its successor. It stays
    /// stored, found with ``Validity/asOf(_:)`` or ``Validity/all``.
    public var supersedes: UUID?
    /// When the fact stopped being true (nil: it still is). Set by an import that restores a
    /// closed version exactly; a new fact's validity is ended by the one that supersedes it.
    public var validTo: Date?
    /// The successor of a closed version an import restores.
    public var supersededBy: UUID?
    /// Whether the memory can never be changed or deleted by id (``Memory/immutable``).
    public var immutable: Bool

    /// A memory to add.
    public init(text: String, scope: MemoryScope, metadata: [String: MetadataValue] = [:], expiresAt: Date? = nil,
                id: UUID? = nil, createdAt: Date? = nil, updatedAt: Date? = nil, validFrom: Date? = nil, supersedes: UUID? = nil,
                validTo: Date? = nil, supersededBy: UUID? = nil, immutable: Bool = false) {
        self.text = text
        self.scope = scope
        self.metadata = metadata
        self.expiresAt = expiresAt
        self.id = id
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.validFrom = validFrom
        self.supersedes = supersedes
        self.validTo = validTo
        self.supersededBy = supersededBy
        self.immutable = immutable
    }

    /// The memory stored for it when added at `now`.
    func memory(at now: Date) -> Memory {
        let created = createdAt?.asStored ?? now
        return Memory(id: id ?? UUID(), text: text, hash: ContentHash.of(text), metadata: metadata, scope: scope,
                      createdAt: created, updatedAt: updatedAt?.asStored ?? created, expiresAt: expiresAt?.asStored,
                      validFrom: validFrom?.asStored ?? created, validTo: validTo?.asStored, supersededBy: supersededBy,
                      immutable: immutable)
    }

    /// Checks what ``MemoryStore/add(_:vectors:)`` would refuse in this memory, before any of a
    /// batch is committed (an import checks every line first).
    /// - Throws: the ``MemoryError`` that `add` would throw.
    public func validate() throws {
        try MemoryValidation.check([self])
    }
}
