import Foundation

extension MemoryStore {
    /// Calls `body` with every live (unexpired) memory in `scope` that passes `filter`, oldest
    /// row first, and with its embedding as the record holds it when `withEmbeddings`: what an
    /// export writes, so that adding the memories back with their ids, dates and embeddings
    /// restores them exactly.
    /// - Parameters:
    ///   - scope: only memories inside it (nil: the whole store).
    ///   - filter: Mem0's filter grammar.
    ///   - withEmbeddings: read each memory's embedding from the record (in batches).
    /// - Complexity: O(memories passing), plus one read of the record per 1,000 embeddings.
    public func export(scope: MemoryScope? = nil, filter: MemoryFilter = .all, withEmbeddings: Bool = false,
                       _ body: (Memory, [Float]?) throws -> Void) throws {
        try ensureOpen()
        if let scope { try MemoryValidation.check(scope: scope) }
        let candidates = MemorySearch(state: writer.state, vectors: writer.vectors, reach: scope.map { .scope($0) } ?? .everything, filter: filter, now: Date(), validity: .all).candidates()
        let found = candidates.parts.flatMap { part in
            part.rows.compactMap { row in part.partition.memory(row: row).map { (row: row, memory: $0.memory) } }
        }.sorted { $0.row < $1.row }
        for start in stride(from: 0, to: found.count, by: 1_000) {
            let page = found[start..<min(found.count, start + 1_000)]
            let embeddings = withEmbeddings ? try records.embeddings(of: page.map(\.row)) : nil
            for (i, entry) in page.enumerated() { try body(entry.memory, embeddings?[i]) }
        }
    }
}
