import Foundation

/// One memory: text, its embedding, typed metadata, its scope and timestamps.
public struct Memory: Sendable, Hashable, Identifiable, FilterSubject {
    public let id: UUID
    public var text: String
    /// A 128-bit content hash of the text (two XXH64, hex), used to store an exact duplicate in one
    /// scope only once.
    public var hash: String
    public var metadata: [String: MetadataValue]
    public let scope: MemoryScope
    public let createdAt: Date
    public var updatedAt: Date
    public var expiresAt: Date?

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
