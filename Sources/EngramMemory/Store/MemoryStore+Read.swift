import EngramIndex
import Foundation
import GRDB

extension MemoryStore {
    /// HNSW search breadth for memory search: recall ≥ 0.98 on the MiniLM benchmark data.
    static let searchBreadth = 96

    /// The memory `id`, if it lies in `scope` (nil: any scope).
    public func get(_ id: UUID, scope: MemoryScope? = nil) throws -> Memory {
        try locate(id, scope: scope).1
    }

    /// Memories in `scope` that pass `filter`, newest first.
    /// - Parameters:
    ///   - includeExpired: expired memories are hidden unless asked for.
    public func list(scope: MemoryScope, filter: MemoryFilter = .all, limit: Int = 100, offset: Int = 0,
                     includeExpired: Bool = false) throws -> (total: Int, memories: [Memory]) {
        guard limit > 0, offset >= 0 else { throw MemoryError.invalidParameter("limit must be positive and offset non-negative") }
        // Newest first; ties by id bytes (formatting uuidString in a comparator costs a printf per call).
        let matching = try candidates(scope: scope, filter: filter, includeExpired: includeExpired).map(\.1)
            .sorted { $0.createdAt != $1.createdAt ? $0.createdAt > $1.createdAt : $0.id.orderKey > $1.id.orderKey }
        return (matching.count, Array(matching.dropFirst(offset).prefix(limit)))
    }

    /// The memories in `scope` most similar to `query`, passing `filter`, best first.
    /// - Parameter threshold: minimum similarity (cosine) a hit must reach.
    public func search(_ query: String, scope: MemoryScope, filter: MemoryFilter = .all, limit: Int = 10,
                       threshold: Float? = nil) async throws -> [MemoryHit] {
        let vector = try await embedder.embed([query])[0]
        return try search(vector: vector, scope: scope, filter: filter, limit: limit, threshold: threshold)
    }

    /// ``search(_:scope:filter:limit:threshold:)`` with a precomputed query vector.
    public func search(vector: [Float], scope: MemoryScope, filter: MemoryFilter = .all, limit: Int = 10,
                       threshold: Float? = nil) throws -> [MemoryHit] {
        guard limit > 0 else { throw MemoryError.invalidParameter("limit must be positive") }
        let allowed = try candidateRows(scope: scope, filter: filter)
        guard !allowed.isEmpty else { return [] }
        let hits = try index.read { index in
            try index.search(vector, k: limit, ef: max(limit, Self.searchBreadth), filter: index.filter(allowing: allowed.lazy.map { UInt64($0) }))
        }
        return state.read { s in
            hits.compactMap { hit in
                guard let memory = s.memories[Int64(hit.id)]?.memory, threshold.map({ hit.score >= $0 }) ?? true else { return nil }
                return MemoryHit(memory: memory, score: hit.score)
            }
        }
    }

    /// The history of `id`, oldest first (deleted memories keep their events, without texts).
    public func history(_ id: UUID, scope: MemoryScope? = nil) throws -> [MemoryEvent] {
        if scope != nil { _ = try locate(id, scope: scope) }
        return try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM history WHERE memory_id = ? ORDER BY seq", arguments: [id.uuidString]).map {
                MemoryEvent(memoryID: id, kind: MemoryEvent.Kind(rawValue: $0["event"])!, oldText: $0["old_text"],
                            newText: $0["new_text"], at: Date(timeIntervalSince1970: $0["at"]))
            }
        }
    }

    /// The rows in `scope` that pass `filter` and have not expired, evaluated in place (no copies of
    /// the memories: a large tenant has tens of thousands).
    func candidateRows(scope: MemoryScope, filter: MemoryFilter) throws -> [Int64] {
        guard !scope.isEmpty else { throw MemoryError.missingScope }
        let now = Date()
        return state.read { s in
            s.memberRows(of: scope).filter { row in
                guard let box = s.memories[row] else { return false }
                return !box.memory.isExpired(at: now) && filter.matches(box.memory)
            }
        }
    }

    /// Rows in `scope` passing `filter` (scope first: a tenant's query never evaluates another's memories).
    func candidates(scope: MemoryScope, filter: MemoryFilter, includeExpired: Bool) throws -> [(Int64, Memory)] {
        guard !scope.isEmpty else { throw MemoryError.missingScope }
        let now = Date()
        let members = state.read { $0.members(of: scope) }
        // Evaluated outside the lock: writers are not held up by a large tenant's filter.
        return members.filter { _, m in (includeExpired || !m.isExpired(at: now)) && filter.matches(m) }
    }
}
