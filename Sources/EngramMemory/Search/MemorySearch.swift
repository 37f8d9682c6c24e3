import EngramIndex
import Foundation

/// One search, over one published state: from the scope and filter to the resolved hits, with no
/// lock taken after the state was read (the vector indexes synchronize themselves). What the
/// state lists is therefore what the search sees from its first step to its last.
struct MemorySearch {
    let state: StoreState
    let vectors: MemoryVectors
    /// The scopes searched.
    let reach: Reach
    let filter: MemoryFilter
    let now: Date
    /// Which versions of the facts are seen.
    var validity: Validity = .current
    /// Weighs scores by age (see ``recencyFactor(validFrom:)``); nil: no decay.
    var recencyHalfLife: Duration? = nil

    /// What a search looks in.
    enum Reach {
        /// One scope (held without an array: every search of a user).
        case scope(MemoryScope)
        /// Several scopes, without repeats: a memory in any of them is a candidate.
        case scopes([MemoryScope])
        /// The whole store (an export's; searches always name at least one scope).
        case everything

        /// The reach of `scopes` (repeats dropped).
        static func of(_ scopes: [MemoryScope]) -> Reach { scopes.count == 1 ? .scope(scopes[0]) : .scopes(Array(Set(scopes))) }
    }

    /// The rows the scope and filter allow, partition by partition.
    struct Candidates {
        typealias Part = (partition: Partition, rows: [Int64])
        /// The one part, held without an array (the common case: every search of a user).
        private let only: Part?
        /// Two parts or more.
        private let several: [Part]
        /// Every allowed row, ascending.
        let rows: [Int64]
        /// For each of `rows` over several partitions, the index of its part (empty for one part).
        private let owners: [Int32]

        /// The partitions holding candidates, each with its rows ascending, none empty.
        var parts: [Part] { only.map { [$0] } ?? several }

        /// Candidates of `parts`, each part's rows ascending and none empty.
        init(parts: [Part]) {
            guard parts.count > 1 else {
                self.init(only: parts.first)
                return
            }
            // One sort of (row, part): a search over many partitions (an agent's memories across
            // 2,000 users) then finds a hit's memory with one binary search, not one per partition.
            var owned: [(row: Int64, part: Int32)] = []
            owned.reserveCapacity(parts.reduce(0) { $0 + $1.rows.count })
            for (i, part) in parts.enumerated() { for row in part.rows { owned.append((row, Int32(i))) } }
            owned.sort { $0.row < $1.row }
            self.init(only: nil, several: parts, rows: owned.map(\.row), owners: owned.map(\.part))
        }

        /// Candidates of one part (nil or its rows empty: none).
        init(only part: Part?) {
            let part = part.flatMap { $0.rows.isEmpty ? nil : $0 }
            self.init(only: part, several: [], rows: part?.rows ?? [], owners: [])
        }

        private init(only: Part?, several: [Part], rows: [Int64], owners: [Int32]) {
            (self.only, self.several, self.rows, self.owners) = (only, several, rows, owners)
        }

        /// The one partition holding every candidate, if there is one, and whether the
        /// candidates are all of it.
        var single: (partition: Partition, whole: Bool)? {
            only.map { ($0.partition, $0.rows.count == $0.partition.count) }
        }

        /// The memory of `row`, if it is a candidate.
        /// - Complexity: O(log candidates).
        func memory(_ row: Int64) -> MemoryRef? {
            if let only { return only.partition.memory(row: row) }
            let i = rows.withUnsafeBufferPointer { SortedRows.lowerBound($0, row) }
            guard i < rows.count, rows[i] == row else { return nil }
            return several[Int(owners[i])].partition.memory(row: row)
        }
    }

    /// The allowed rows.
    func candidates(includeExpired: Bool = false) -> Candidates {
        MemorySearchScratch.with { candidates(includeExpired: includeExpired, scratch: $0) }
    }

    /// The allowed rows, in `scratch`'s buffers for a single scope (which its caller hands back
    /// with ``MemorySearchScratch/rows`` when done with them).
    private func candidates(includeExpired: Bool, scratch: MemorySearchScratch) -> Candidates {
        func rows(_ p: Partition, _ scope: MemoryScope) -> [Int64] {
            p.rows(in: scope, matching: filter, at: now, includeExpired: includeExpired, validity: validity)
        }
        switch reach {
        case let .scopes(scopes):
            // A partition several scopes reach (a user and an agent of theirs) is read once, its rows merged.
            var byKey: [ScopeKey: (partition: Partition, lists: [[Int64]])] = [:]
            for scope in scopes {
                for p in state.partitions(holding: scope) { byKey[p.key, default: (p, [])].lists.append(rows(p, scope)) }
            }
            let parts = byKey.values.sorted { ($0.partition.key.field, $0.partition.key.value) < ($1.partition.key.field, $1.partition.key.value) }
                .map { ($0.partition, $0.lists.count == 1 ? $0.lists[0] : SortedRows.union($0.lists.map(SortedRows.List.computed))) }
            return Candidates(parts: parts.filter { !$0.1.isEmpty })
        case let .scope(scope):
            guard let user = scope.userID else {
                return Candidates(parts: state.partitions(holding: scope).map { ($0, rows($0, scope)) }.filter { !$0.1.isEmpty })
            }
            // A user's memories are one partition's: read into the scratch's buffer, no array of parts.
            guard let partition = state.partition(ofUser: user) else { return Candidates(only: nil) }
            var found = scratch.rows
            scratch.rows = []  // the buffer is the candidates' until handed back
            partition.rows(in: scope, matching: filter, at: now, includeExpired: includeExpired, validity: validity,
                           appendingTo: &found, lists: &scratch.lists)
            return Candidates(only: (partition, found))
        case .everything:
            return Candidates(parts: state.partitions.values.map { ($0, rows($0, MemoryScope())) }.filter { !$0.1.isEmpty })
        }
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
    /// threshold), best first; with their rows when `keepRows`.
    func run(_ query: String, vector: [Float]?, limit: Int, threshold: Float?, mode: SearchMode, keepRows: Bool = false) throws -> Outcome {
        try MemorySearchScratch.with { scratch in
            let candidates = candidates(includeExpired: false, scratch: scratch)
            defer { scratch.rows = candidates.rows }  // the buffer, for the next search
            return try run(query, vector: vector, candidates, limit: limit, threshold: threshold, mode: mode, keepRows: keepRows, scratch: scratch)
        }
    }

    private func run(_ query: String, vector: [Float]?, _ candidates: Candidates, limit: Int, threshold: Float?, mode: SearchMode,
                     keepRows: Bool, scratch: MemorySearchScratch) throws -> Outcome {
        guard !candidates.rows.isEmpty else { return Outcome(hits: []) }
        let depth = mode == .vector && threshold == nil && recencyHalfLife == nil ? limit : max(limit, ScoreFusion.depth)
        if let vector { try vectorHits(vector, candidates, limit: mode == .keyword ? 0 : depth, appendingTo: &scratch.semantic) }
        let (keyword, built) = mode == .vector ? ([], nil) : keywordHits(query, candidates, limit: depth)
        ScoreFusion.rank(semantic: scratch.semantic, keyword: keyword, mode: mode, appendingTo: &scratch.ranked)
        if let vector, let threshold {
            let missing = scratch.ranked.filter { $0.details.semantic == nil }.map(\.row)
            let scores = Dictionary(try vectors.scores(vector, rows: missing).map { (Int64($0.id), $0.score) }, uniquingKeysWith: { a, _ in a })
            scratch.ranked = scratch.ranked.compactMap { hit in
                var hit = hit
                hit.details.semantic = hit.details.semantic ?? scores[hit.row]
                return (hit.details.semantic ?? -.infinity) >= threshold ? hit : nil
            }
        }
        if recencyHalfLife != nil { scratch.ranked = weighedByRecency(scratch.ranked, candidates) }
        var outcome = Outcome(hits: [], builtKeyword: built)
        outcome.hits.reserveCapacity(min(limit, scratch.ranked.count))
        if keepRows { outcome.rows.reserveCapacity(min(limit, scratch.ranked.count)) }
        for r in scratch.ranked {
            guard outcome.hits.count < limit else { break }
            guard let memory = candidates.memory(r.row)?.memory else { continue }
            outcome.hits.append(MemoryHit(memory: memory, score: r.score, details: r.details))
            if keepRows { outcome.rows.append(r.row) }
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

    /// The nearest allowed rows, appended to `hits`: from the partition's graph when it has one
    /// and the candidates are many (its planner still scans exactly when a filter leaves few),
    /// else an exact scan of the candidates' vectors.
    private func vectorHits(_ vector: [Float], _ c: Candidates, limit: Int, appendingTo hits: inout [SearchResult]) throws {
        guard limit > 0 else { return }
        if let (partition, whole) = c.single, let graph = partition.graph, c.rows.count > HNSWIndex.exactScanLimit {
            // A graph searched whole may meet rows a write has indexed but not yet published; a
            // few spare results keep the answer full when those are dropped.
            hits += try graph.search(vector, k: whole ? limit + 8 : limit, ef: max(limit, PartitionGraph.searchBreadth),
                                     filter: whole ? nil : SearchFilter(allowing: c.rows.map(UInt64.init)))
            return
        }
        try vectors.search(vector, k: limit, rows: c.rows, appendingTo: &hits)
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
