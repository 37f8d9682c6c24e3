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
    /// When the fact became true (event time; by default its creation).
    public var validFrom: Date
    /// When it stopped being true (nil: it still is): set when a newer memory supersedes it.
    public var validTo: Date?
    /// The memory that superseded it, if one did.
    public var supersededBy: UUID?
    /// Set at creation, never changed: the memory cannot be updated, superseded, invalidated or
    /// deleted by id (``MemoryError/immutable(_:)``). Deleting its scope's memories (or every
    /// memory) still erases it, as a tenant's erasure must.
    public let immutable: Bool

    init(id: UUID, text: String, hash: String, metadata: [String: MetadataValue], scope: MemoryScope,
         createdAt: Date, updatedAt: Date, expiresAt: Date? = nil, validFrom: Date? = nil, validTo: Date? = nil, supersededBy: UUID? = nil, immutable: Bool = false) {
        self.id = id
        self.text = text
        self.hash = hash
        self.metadata = metadata
        self.scope = scope
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.expiresAt = expiresAt
        self.validFrom = validFrom ?? createdAt
        self.validTo = validTo
        self.supersededBy = supersededBy
        self.immutable = immutable
    }

    /// The value a filter compares for `field`: a scope field, a timestamp (seconds since 1970), a
    /// metadata key, or a dotted path into nested metadata objects (`"prefs.food"`).
    public func filterValue(_ field: String) -> MetadataValue? {
        switch field {
        case "user_id": scope.userID.map(MetadataValue.string)
        case "agent_id": scope.agentID.map(MetadataValue.string)
        case "run_id": scope.runID.map(MetadataValue.string)
        case "created_at": .number(createdAt.timeIntervalSince1970)
        case "updated_at": .number(updatedAt.timeIntervalSince1970)
        case "valid_from": .number(validFrom.timeIntervalSince1970)
        case "valid_to": validTo.map { .number($0.timeIntervalSince1970) }
        default: MetadataValue.value(at: field, in: metadata)
        }
    }

    /// Whether the memory has expired at `now`.
    public func isExpired(at now: Date) -> Bool { expiresAt.map { $0 <= now } ?? false }

    /// Whether the fact is still true at `now`: nothing closed its validity, or it closes later.
    public func isCurrent(at now: Date) -> Bool { MemoryTimes(self).admitted(by: .current, now: now.timeIntervalSince1970) }

    /// Whether the fact was true at `instant`: `validFrom <= instant < validTo`.
    public func isValid(at instant: Date) -> Bool { MemoryTimes(self).admitted(by: .asOf(instant), now: instant.timeIntervalSince1970) }

    /// Whether it carries a bound a default listing checks at query time (an expiry or an end of
    /// validity).
    var hasTimeBound: Bool { expiresAt != nil || validTo != nil }
}
