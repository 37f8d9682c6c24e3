import EngramIndex
import Foundation

/// One search, over one published state: from the scope and filter to the resolved hits, with no
/// lock taken after the state was read (the vector indexes synchronize themselves). What the
/// state lists is therefore what the search sees from its first step to its last.
struct MemorySearch {
    let state: StoreState
    let vectors: MemoryVectors
    /// The scopes searched (a memory in any of them is a candidate); nil: the whole store (an
    /// export's; searches always name at least one scope).
    let scopes: [MemoryScope]?
    let filter: MemoryFilter
    let now: Date
    /// Which versions of the facts are seen.
    var validity: Validity = .current
    /// Weighs scores by age (see ``recencyFactor(validFrom:)``); nil: no decay.
    var recencyHalfLife: Duration? = nil

    /// The rows the scope and filter allow, partition by partition.
    struct Candidates {
        var parts: [(partition: Partition, rows: [Int64])]
        /// Every allowed row, ascending.
        let rows: [Int64]
        /// For each of `rows` over several partitions, the index of its part (empty for one part).
        private let owners: [Int32]

        /// Candidates of `parts`, each part's rows ascending and none empty.
        init(parts: [(partition: Partition, rows: [Int64])]) {
            self.parts = parts
            guard parts.count > 1 else {
                (rows, owners) = (parts.first?.rows ?? [], [])
                return
            }
            // One sort of (row, part): a search over many partitions (an agent's memories across
            // 2,000 users) then finds a hit's memory with one binary search, not one per partition.
            var owned: [(row: Int64, part: Int32)] = []
            owned.reserveCapacity(parts.reduce(0) { $0 + $1.rows.count })
            for (i, part) in parts.enumerated() { for row in part.rows { owned.append((row, Int32(i))) } }
            owned.sort { $0.row < $1.row }
            (rows, owners) = (owned.map(\.row), owned.map(\.part))
        }

        /// The one partition holding every candidate, if there is one, and whether the
        /// candidates are all of it.
        var single: (partition: Partition, whole: Bool)? {
            guard parts.count == 1 else { return nil }
            return (parts[0].partition, parts[0].rows.count == parts[0].partition.count)
        }

        /// The memory of `row`, if it is a candidate.
        /// - Complexity: O(log candidates).
        func memory(_ row: Int64) -> MemoryRef? {
            guard parts.count > 1 else { return parts.first?.partition.memory(row: row) }
            let i = rows.withUnsafeBufferPointer { SortedRows.lowerBound($0, row) }
            guard i < rows.count, rows[i] == row else { return nil }
            return parts[Int(owners[i])].partition.memory(row: row)
        }
    }

    /// The allowed rows.
    func candidates(includeExpired: Bool = false) -> Candidates {
        func rows(_ p: Partition, _ scope: MemoryScope) -> [Int64] {
            p.rows(in: scope, matching: filter, at: now, includeExpired: includeExpired, validity: validity)
        }
        var parts: [(partition: Partition, rows: [Int64])]
        if let scopes, scopes.count > 1 {
            // A partition several scopes reach (a user and an agent of theirs) is read once, its rows merged.
            var byKey: [ScopeKey: (partition: Partition, lists: [[Int64]])] = [:]
            for scope in scopes {
                for p in state.partitions(holding: scope) { byKey[p.key, default: (p, [])].lists.append(rows(p, scope)) }
            }
            parts = byKey.values.sorted { ($0.partition.key.field, $0.partition.key.value) < ($1.partition.key.field, $1.partition.key.value) }
                .map { ($0.partition, $0.lists.count == 1 ? $0.lists[0] : SortedRows.union($0.lists.map(SortedRows.List.computed))) }
        } else {
            let scope = scopes?.first ?? MemoryScope()
            let partitions = scopes == nil ? Array(state.partitions.values) : state.partitions(holding: scope)
            parts = partitions.map { ($0, rows($0, scope)) }
        }
        parts.removeAll { $0.rows.isEmpty }
        return Candidates(parts: parts)
    }

    /// A search's answer, and the keyword index it built for a partition that had none (for
    /// the store to keep).
    struct Outcome {
        var hits: [MemoryHit]
        /// The row of each hit.
        var rows: [Int64] = []
        var builtKeyword: (partition: Partition, index: KeywordIndex)?
    }

    /// The hits for `query` (its text, its embedding: nil only for a keyword search without a
    /// threshold), best first.
    func run(_ query: String, vector: [Float]?, limit: Int, threshold: Float?, mode: SearchMode) throws -> Outcome {
        let candidates = candidates()
        guard !candidates.rows.isEmpty else { return Outcome(hits: []) }
        let depth = mode == .vector && threshold == nil && recencyHalfLife == nil ? limit : max(limit, ScoreFusion.depth)
        let semantic = try vector.map { try vectorHits($0, candidates, limit: mode == .keyword ? 0 : depth) } ?? []
        let (keyword, built) = mode == .vector ? ([], nil) : keywordHits(query, candidates, limit: depth)
        var ranked = ScoreFusion.rank(semantic: semantic, keyword: keyword, mode: mode)
        if let vector, let threshold {
            let missing = ranked.filter { $0.details.semantic == nil }.map(\.row)
            let scores = Dictionary(try vectors.scores(vector, rows: missing).map { (Int64($0.id), $0.score) }, uniquingKeysWith: { a, _ in a })
            ranked = ranked.compactMap { hit in
                var hit = hit
                hit.details.semantic = hit.details.semantic ?? scores[hit.row]
                return (hit.details.semantic ?? -.infinity) >= threshold ? hit : nil
            }
        }
        if recencyHalfLife != nil { ranked = weighedByRecency(ranked, candidates) }
        var outcome = Outcome(hits: [], builtKeyword: built)
        outcome.hits.reserveCapacity(min(limit, ranked.count))
        outcome.rows.reserveCapacity(min(limit, ranked.count))
        for r in ranked {
            guard outcome.hits.count < limit else { break }
            guard let memory = candidates.memory(r.row)?.memory else { continue }
            outcome.hits.append(MemoryHit(memory: memory, score: r.score, details: r.details))
            outcome.rows.append(r.row)
        }
        return outcome
    }

    /// `ranked` with each score weighed by its memory's recency factor, best first again (ties to
    /// the smaller row). A negative score (a cosine) is divided by the factor instead, so that an
    /// older memory never gains from its age.
    private func weighedByRecency(_ ranked: [ScoreFusion.Ranked], _ c: Candidates) -> [ScoreFusion.Ranked] {
        ranked.map { hit in
            var hit = hit
            guard let times = c.memory(hit.row)?.times else { return hit }
            let factor = recencyFactor(validFrom: times.validFrom)
            hit.score = hit.score >= 0 ? hit.score * factor : hit.score / factor
            hit.details.recency = factor
            return hit
        }.sorted { $0.score != $1.score ? $0.score > $1.score : $0.row < $1.row }
    }

    /// 2^(−age / half-life), the age measured from the memory's `validFrom` to the as-of instant
    /// (or now); a fact dated after that instant counts as new (age 0).
    func recencyFactor(validFrom: Double) -> Float {
        guard let halfLife = recencyHalfLife else { return 1 }
        let age = max(0, validity.reference(now: now).timeIntervalSince1970 - validFrom)
        let seconds = Double(halfLife.components.seconds) + Double(halfLife.components.attoseconds) / 1e18
        return Float(exp2(-age / seconds))
    }

    /// The nearest allowed rows: from the partition's graph when it has one and the candidates
    /// are many (its planner still scans exactly when a filter leaves few), else an exact scan.
    private func vectorHits(_ vector: [Float], _ c: Candidates, limit: Int) throws -> [SearchResult] {
        guard limit > 0 else { return [] }
        if let (partition, whole) = c.single, let graph = partition.graph, c.rows.count > HNSWIndex.exactScanLimit {
            // A graph searched whole may meet rows a write has indexed but not yet published; a
            // few spare results keep the answer full when those are dropped.
            return try graph.search(vector, k: whole ? limit + 8 : limit, ef: max(limit, PartitionGraph.searchBreadth),
                                    filter: whole ? nil : SearchFilter(allowing: c.rows.map(UInt64.init)))
        }
        return try vectors.search(vector, k: limit, rows: c.rows)
    }

    /// BM25 hits among the candidates: from the partition's keyword index (built now over the
    /// whole partition if it has none yet, so that scores do not depend on whether its background
    /// build has finished), or, for a scope spanning partitions, from an index of the candidates.
    private func keywordHits(_ query: String, _ c: Candidates, limit: Int)
        -> ([(row: Int64, score: Float)], (partition: Partition, index: KeywordIndex)?) {
        guard let (partition, whole) = c.single else {
            let index = KeywordIndex(documents: c.rows.compactMap { row in c.memory(row).map { (row, $0.memory.text) } })
            return (index.search(query, allowed: nil, limit: limit), nil)
        }
        let allowed = whole ? nil : c.rows
        if let index = partition.keyword { return (index.search(query, allowed: allowed, limit: limit), nil) }
        let index = KeywordIndex(documents: partition.texts)
        return (index.search(query, allowed: allowed, limit: limit), (partition, index))
    }
}
