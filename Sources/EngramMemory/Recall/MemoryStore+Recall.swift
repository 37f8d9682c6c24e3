import EngramIndex
import Foundation

extension MemoryStore {
    /// The memories in `scope` that best answer `query`, as a context that fits `budgetTokens`:
    /// the best candidates of a search, re-ranked by maximal marginal relevance (near-duplicates
    /// dropped), each a line dated by when it became true (`[2026-03-04] prefers tea`), taken in
    /// that order while they fit. The best memory is always there when its line fits alone.
    /// - Parameters:
    ///   - query: what the model is about to answer.
    ///   - scope: at least one field set.
    ///   - filter: Mem0's filter grammar.
    ///   - budgetTokens: the most tokens the context may take (positive).
    ///   - options: versions seen, recency, mode, λ, the token counter.
    /// - Throws: ``MemoryError`` for a bad budget, λ or scope; embedder errors.
    /// - Complexity: one search of `options.candidates`, then O(candidates²) similarity work.
    public func recall(_ query: String, scope: MemoryScope, filter: MemoryFilter = .all, budgetTokens: Int,
                       options: RecallOptions = RecallOptions()) async throws -> Recall {
        let vector = try await embedder.embed([query])[0]
        return try recall(query, vector: vector, scope: scope, filter: filter, budgetTokens: budgetTokens, options: options)
    }

    /// ``recall(_:scope:filter:budgetTokens:options:)`` with the query's embedding given.
    public func recall(_ query: String, vector: [Float], scope: MemoryScope, filter: MemoryFilter = .all, budgetTokens: Int,
                       options: RecallOptions = RecallOptions()) throws -> Recall {
        try ensureOpen()
        guard budgetTokens > 0 else { throw MemoryError.invalidParameter("the token budget must be positive") }
        guard (0...1).contains(options.lambda) else { throw MemoryError.invalidParameter("λ must lie in 0...1") }
        try MemoryValidation.check(scope: scope)
        try MemoryValidation.check(vectors: [vector], count: 1, dimension: embedder.dimension)
        if let halfLife = options.recencyHalfLife, halfLife <= .zero { throw MemoryError.invalidParameter("the recency half-life must be positive") }
        let search = MemorySearch(state: writer.state, vectors: writer.vectors, reach: .scope(scope), filter: filter, now: Date(),
                                  validity: options.validity, recencyHalfLife: options.recencyHalfLife)
        let outcome = try search.run(query, vector: vector, limit: max(1, options.candidates), threshold: nil, mode: options.mode, keepRows: true)
        if let built = outcome.builtKeyword { installKeyword(built.index, builtFrom: built.partition) }
        let order = Self.diversified(outcome.hits, vectors: outcome.rows.map { writer.vectors.vector($0) }, options: options)
        return Self.packed(order, budget: budgetTokens, counter: options.counter)
    }

    /// `hits` in maximal-marginal-relevance order: each next one maximizes
    /// λ·relevance − (1 − λ)·(its greatest cosine with those chosen), relevance being the score
    /// over the best score; near-duplicates of a chosen one left out.
    static func diversified(_ hits: [MemoryHit], vectors: [[Float]?], options: RecallOptions) -> [MemoryHit] {
        guard let best = hits.map(\.score).max(), best > 0 else { return hits }
        var left = Array(hits.indices), chosen: [Int] = []
        var closest = [Float](repeating: -1, count: hits.count)  // greatest cosine with a chosen hit
        while !left.isEmpty {
            let pick = left.max { a, b in value(a) < value(b) || (value(a) == value(b) && a > b) }!
            left.removeAll { $0 == pick }
            chosen.append(pick)
            guard let v = vectors[pick] else { continue }
            for i in left { if let w = vectors[i] { closest[i] = max(closest[i], cosine(v, w)) } }
            left.removeAll { closest[$0] >= options.duplicateSimilarity }
        }
        func value(_ i: Int) -> Float { options.lambda * hits[i].score / best - (1 - options.lambda) * max(0, closest[i]) }
        return chosen.map { hits[$0] }
    }

    /// The hits' lines in order, each taken when the context still fits `budget` with it.
    static func packed(_ hits: [MemoryHit], budget: Int, counter: any TokenCounter) -> Recall {
        var lines: [String] = [], taken: [MemoryHit] = [], tokens = 0
        for hit in hits {
            let line = "[\(day(hit.memory.validFrom))] " + hit.memory.text.replacingOccurrences(of: "\n", with: " ")
            let count = counter.count((lines + [line]).joined(separator: "\n"))
            guard count <= budget else { continue }
            lines.append(line)
            taken.append(hit)
            tokens = count
        }
        return Recall(context: lines.joined(separator: "\n"), memories: taken, tokens: tokens)
    }

    private static func day(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: .gmt).year().month().day())
    }
}
