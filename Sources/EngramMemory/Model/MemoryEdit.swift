import Foundation

/// One memory's change in a batch update (``MemoryStore/update(_:scope:)``): its new text
/// (re-embedded), its new metadata, or both; nil leaves a part as it is.
public struct MemoryEdit: Sendable, Hashable {
    /// The memory.
    public var id: UUID
    /// Its new text (nil: unchanged).
    public var text: String?
    /// Its new metadata, replacing the old (nil: unchanged).
    public var metadata: [String: MetadataValue]?
    /// Its new expiry (nil: unchanged).
    public var expiry: ExpiryChange?

    public init(id: UUID, text: String? = nil, metadata: [String: MetadataValue]? = nil, expiry: ExpiryChange? = nil) {
        self.id = id
        self.text = text
        self.metadata = metadata
        self.expiry = expiry
    }
}

/// A memory's new expiry.
public enum ExpiryChange: Sendable, Hashable {
    /// It stops being listed and found at this instant (which must lie ahead).
    case at(Date)
    /// It never expires.
    case never
}
