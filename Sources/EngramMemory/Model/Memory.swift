import Foundation

/// One memory: text, its embedding, typed metadata, its scope and timestamps.
public struct Memory: Sendable, Hashable, Identifiable, FilterSubject {
    /// Assigned at creation; never changes.
    public let id: UUID
    /// What to remember.
    public var text: String
    /// A 128-bit content hash of the text (two XXH64, hex), used to store an exact duplicate in one
    /// scope only once.
    public var hash: String
    /// Typed key–values that filters match (keys never the reserved fields).
    public var metadata: [String: MetadataValue]
    /// Whose memory it is; set at creation, never changed.
    public let scope: MemoryScope
    /// When it was added.
    public let createdAt: Date
    /// When its text or metadata last changed.
    public var updatedAt: Date
    /// When it stops being listed and found (nil: never).
    public var expiresAt: Date?

    /// The value a filter compares for `field`: a scope field, a timestamp (seconds since 1970) or a metadata key.
    public func filterValue(_ field: String) -> MetadataValue? {
        switch field {
        case "user_id": scope.userID.map(MetadataValue.string)
        case "agent_id": scope.agentID.map(MetadataValue.string)
        case "run_id": scope.runID.map(MetadataValue.string)
        case "created_at": .number(createdAt.timeIntervalSince1970)
        case "updated_at": .number(updatedAt.timeIntervalSince1970)
        default: metadata[field]
        }
    }

    /// Whether the memory has expired at `now`.
    public func isExpired(at now: Date) -> Bool { expiresAt.map { $0 <= now } ?? false }
}
