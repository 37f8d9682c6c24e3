import EngramIndex
import Foundation
import GRDB

extension MemoryStore {
    /// The number of memories in the store (all scopes, expired ones included).
    public var count: Int { view.read(\.count) }

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
        guard !scope.isEmpty else { throw MemoryError.missingScope }
        // Newest first; ties by id bytes (formatting uuidString in a comparator costs a printf per call).
        let matching = view.read { v in
            v.rows(in: scope, matching: filter, at: Date(), includeExpired: includeExpired).compactMap { v.memories[$0] }
        }.sorted { a, b in
            let (x, y) = (a.memory, b.memory)
            return x.createdAt != y.createdAt ? x.createdAt > y.createdAt : x.id.orderKey > y.id.orderKey
        }
        return (matching.count, matching.dropFirst(offset).prefix(limit).map(\.memory))
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
        guard !scope.isEmpty else { throw MemoryError.missingScope }
        let (rows, partition, whole) = view.read { v in
            let rows = v.rows(in: scope, matching: filter, at: Date())
            let partition = v.partition(covering: scope)
            return (rows, partition, partition.map { v.partitions[$0]?.count == rows.count } ?? false)
        }
        guard !rows.isEmpty else { return [] }
        // Unfiltered graph searches may meet rows a concurrent add has indexed but not yet
        // published; a few spare results keep the answer at `limit` when they are dropped.
        let hits = try index.search(vector, k: whole ? limit + 8 : limit, rows: rows, partition: partition, wholePartition: whole)
        return view.read { v in
            hits.lazy.compactMap { hit in
                guard let memory = v.memories[Int64(hit.id)]?.memory, threshold.map({ hit.score >= $0 }) ?? true else { return nil }
                return MemoryHit(memory: memory, score: hit.score)
            }.prefix(limit).map { $0 }
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
}
