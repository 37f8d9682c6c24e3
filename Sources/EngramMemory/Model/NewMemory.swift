import Foundation

/// A memory to add: its text, scope, metadata and optional expiry.
public struct NewMemory: Sendable, Hashable {
    public var text: String
    public var scope: MemoryScope
    public var metadata: [String: MetadataValue]
    public var expiresAt: Date?

    public init(text: String, scope: MemoryScope, metadata: [String: MetadataValue] = [:], expiresAt: Date? = nil) {
        self.text = text
        self.scope = scope
        self.metadata = metadata
        self.expiresAt = expiresAt
    }
}
