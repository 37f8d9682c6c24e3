import EngramSupport
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

/// A search hit: the memory, its score (higher is better: the cosine similarity in vector mode,
/// BM25 in keyword mode, the fused score in hybrid mode) and the scores it was made of.
public struct MemoryHit: Sendable, Hashable {
    public var memory: Memory
    public var score: Float
    public var details = ScoreDetails()
}

/// The scores behind a hit, shaped like Mem0's `score_details`; a score is nil when the hit did
/// not come from that ranking (or, for `semantic`, when no query vector was needed).
public struct ScoreDetails: Sendable, Hashable {
    /// Cosine similarity with the query vector.
    public var semantic: Float?
    /// BM25 score of the query's terms.
    public var keyword: Float?
    /// The fused score (hybrid mode): the weighted sum of the min-max normalized semantic and
    /// keyword scores over the candidates of each ranking.
    public var fused: Float?

    public init(semantic: Float? = nil, keyword: Float? = nil, fused: Float? = nil) {
        self.semantic = semantic
        self.keyword = keyword
        self.fused = fused
    }
}

/// How a text query is matched.
public enum SearchMode: String, Sendable, CaseIterable, Codable {
    /// Embedding similarity only.
    case vector
    /// BM25 over the words of the text only.
    case keyword
    /// Both rankings fused (the default: best on the measured data, see README).
    case hybrid
}

/// One entry of a memory's history.
public struct MemoryEvent: Sendable, Hashable {
    public enum Kind: String, Sendable { case add = "ADD", update = "UPDATE", delete = "DELETE" }
    public var memoryID: UUID
    public var kind: Kind
    public var oldText: String?
    public var newText: String?
    public var at: Date
}

/// Errors of the memory layer.
public enum MemoryError: Error, Equatable, Sendable, CustomStringConvertible {
    case emptyText
    case missingScope
    case invalidMetadata(String)
    case notFound(UUID)
    case invalidParameter(String)
    /// Another process has the store open (its pid, when the system tells it).
    case storeInUse(directory: String, pid: Int)

    public var description: String {
        switch self {
        case .emptyText: "memory text is empty"
        case .missingScope: "a memory needs at least one of user_id, agent_id, run_id"
        case let .invalidMetadata(reason): "invalid metadata: \(reason)"
        case let .notFound(id): "no memory \(id.uuidString.lowercased()) in this scope"
        case let .invalidParameter(reason): "invalid parameter: \(reason)"
        case let .storeInUse(directory, pid):
            "the store \(directory) is open in another process\(pid > 0 ? " (pid \(pid))" : ""): one process at a time, or it would not see the other's changes"
        }
    }
}

extension Date {
    /// The date as the database keeps it (seconds since 1970, a Double): giving a new memory its
    /// dates this way makes the memory an add returns equal to the one read back after a reopen.
    var asStored: Date { Date(timeIntervalSince1970: timeIntervalSince1970) }
}

extension UUID {
    /// The 16 bytes as two integers, for ordering without formatting the string.
    var orderKey: UInt128 {
        withUnsafeBytes(of: uuid) { raw in
            raw.enumerated().reduce(UInt128(0)) { $0 << 8 | UInt128($1.element) }
        }
    }
}
