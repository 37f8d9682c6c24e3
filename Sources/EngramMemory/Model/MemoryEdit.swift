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

    public init(id: UUID, text: String? = nil, metadata: [String: MetadataValue]? = nil) {
        self.id = id
        self.text = text
        self.metadata = metadata
    }
}
