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

    /// A memory to add.
    public init(text: String, scope: MemoryScope, metadata: [String: MetadataValue] = [:], expiresAt: Date? = nil) {
        self.text = text
        self.scope = scope
        self.metadata = metadata
        self.expiresAt = expiresAt
    }

    /// Checks what ``MemoryStore/add(_:vectors:)`` would refuse in this memory, before any of a
    /// batch is committed (an import checks every line first).
    /// - Throws: the ``MemoryError`` that `add` would throw.
    public func validate() throws {
        try MemoryValidation.check([self])
    }
}
