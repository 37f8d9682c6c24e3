import EngramMemory
import EngramSupport
import Foundation

/// Memories and metadata as Mem0 shapes them in JSON.
package enum Mem0JSON {
    /// A memory: id, memory, hash, metadata, score, created_at, updated_at, user_id, agent_id,
    /// run_id, expiration_date, valid_from, valid_to, superseded_by, immutable (absent scope fields and
    /// expiry omitted, the validity fields null when absent; score and score_details only for
    /// search hits).
    package static func item(_ m: Memory, score: Float? = nil, details: ScoreDetails? = nil) -> JSONValue {
        var fields: [(String, JSONValue)] = [
            ("id", .string(m.id.uuidString.lowercased())), ("memory", .string(m.text)), ("hash", .string(m.hash)),
            ("metadata", metadata(m.metadata)),
        ]
        if let score { fields.append(("score", .number(Double(score)))) }
        if let details {
            fields.append(("score_details", .object([("semantic", details.semantic), ("keyword", details.keyword), ("fused", details.fused),
                                                     ("recency", details.recency)]
                .compactMap { name, score in score.map { (name, .number(Double($0))) } })))
        }
        fields += [("created_at", .string(timestamp(m.createdAt))), ("updated_at", .string(timestamp(m.updatedAt)))]
        fields += scope(m.scope)
        if let e = m.expiresAt { fields.append(("expiration_date", .string(timestamp(e)))) }
        fields += [("valid_from", .string(timestamp(m.validFrom))), ("valid_to", .string(m.validTo.map(timestamp))),
                   ("superseded_by", .string(m.supersededBy.map { $0.uuidString.lowercased() })), ("immutable", .bool(m.immutable))]
        return .object(fields)
    }

    /// The scope fields a memory has: user_id, agent_id, run_id (absent ones omitted).
    package static func scope(_ s: MemoryScope) -> [(String, JSONValue)] {
        [("user_id", s.userID), ("agent_id", s.agentID), ("run_id", s.runID)].compactMap { name, id in id.map { (name, .string($0)) } }
    }

    /// Metadata as a JSON object, keys sorted.
    package static func metadata(_ metadata: [String: MetadataValue]) -> JSONValue {
        .object(metadata.keys.sorted().map { ($0, value(metadata[$0]!)) })
    }

    /// A search hit: the item with its `score` and `score_details`.
    package static func item(_ hit: MemoryHit) -> JSONValue { item(hit.memory, score: hit.score, details: hit.details) }

    package static func value(_ v: MetadataValue) -> JSONValue {
        switch v {
        case let .string(s): .string(s)
        case let .number(n): .number(n)
        case let .bool(b): .bool(b)
        case .null: .string(nil)
        case let .strings(a): .array(a.map { .string($0) })
        case let .array(a): .array(a.map(value))
        case let .object(o): metadata(o)
        }
    }

    /// ISO 8601 with milliseconds, UTC (`2026-11-25T23:40:12.123Z`).
    package static func timestamp(_ d: Date) -> String { timestampStyle.format(d) }

    private static let timestampStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    /// Metadata from a decoded JSON object.
    /// - Throws: ``MemoryError/invalidMetadata(_:)`` naming the first unsupported value.
    package static func metadata(_ object: [String: Any]) throws -> [String: MetadataValue] {
        try object.mapValues { raw in
            guard let v = MetadataValue(json: raw) else {
                throw MemoryError.invalidMetadata("values are JSON: strings, numbers, booleans, null, arrays and objects")
            }
            return v
        }
    }

    /// Entry `index` of a memory's history (`id` is the memory's id and the index), with the
    /// memory's user when it has one.
    package static func event(_ e: MemoryEvent, index: Int, userID: String?) -> JSONValue {
        let id = e.memoryID.uuidString.lowercased()
        var fields: [(String, JSONValue)] = [
            ("id", .string("\(id)-\(index)")), ("memory_id", .string(id)), ("old_memory", .string(e.oldText)),
            ("new_memory", .string(e.newText)), ("event", .string(e.kind.rawValue)), ("created_at", .string(timestamp(e.at))),
        ]
        if let userID { fields.append(("user_id", .string(userID))) }
        return .object(fields)
    }

    /// A user, agent or run with memories, as `/v1/entities` lists it.
    package static func entity(_ e: MemoryEntity) -> JSONValue {
        let kinds = ["user_id": "user", "agent_id": "agent", "run_id": "run"]
        return .object([("id", .string(e.id)), ("name", .string(e.id)), ("type", .string(kinds[e.field])), ("total_memories", .int(e.count))])
    }
}
