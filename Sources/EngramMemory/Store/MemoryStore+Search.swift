import EngramIndex
import Foundation

extension MemoryStore {
    /// Candidates taken from each ranking before hybrid fusion.
    static let fusionDepth = 100
    /// Weight of the semantic score in hybrid fusion (the keyword score gets the rest). Equal
    /// weights, untuned: on debian-known-item they beat reciprocal-rank fusion (k 60) by 0.025
    /// MRR@10, and a tuned weight gains little more (README, "Hybrid search").
    static let semanticWeight: Float = 0.5

    /// The memories in `scope` that best match `query`, passing `filter`, best first.
    /// - Parameters:
    ///   - threshold: minimum semantic (cosine) similarity a hit must reach, in every mode.
    ///   - mode: vector, keyword (BM25) or hybrid (both, fused).
    /// - Throws: ``MemoryError`` for a bad limit or an empty scope; embedder errors.
    public func search(_ query: String, scope: MemoryScope, filter: MemoryFilter = .all, limit: Int = 10,
                       threshold: Float? = nil, mode: SearchMode = .hybrid) async throws -> [MemoryHit] {
        let vector = mode != .keyword || threshold != nil ? try await embedder.embed([query])[0] : nil
        return try search(query, vector: vector, scope: scope, filter: filter, limit: limit, threshold: threshold, mode: mode)
    }

    /// ``search(_:scope:filter:limit:threshold:mode:)`` with the query's embedding given (nil only
    /// in keyword mode without a threshold).
    public func search(_ query: String, vector: [Float]?, scope: MemoryScope, filter: MemoryFilter = .all, limit: Int = 10,
                       threshold: Float? = nil, mode: SearchMode = .hybrid) throws -> [MemoryHit] {
        guard limit > 0 else { throw MemoryError.invalidParameter("limit must be positive") }
        guard !scope.isEmpty else { throw MemoryError.missingScope }
        guard vector != nil || (mode == .keyword && threshold == nil) else {
            throw MemoryError.invalidParameter("\(mode) search needs the query's embedding")
        }
        let candidates = candidates(scope: scope, filter: filter)
        guard !candidates.rows.isEmpty else { return [] }
        let depth = mode == .vector && threshold == nil ? limit : max(limit, Self.fusionDepth)
        let semantic = try vector.map { try vectorHits($0, candidates, limit: mode == .keyword ? 0 : depth) } ?? []
        let keyword = mode == .vector ? [] : keywordHits(query, candidates, limit: depth)
        var ranked = Self.rank(semantic: semantic, keyword: keyword, mode: mode)
        if let vector, let threshold {
            let scores = try index.similarities(vector, rows: ranked.filter { $0.details.semantic == nil }.map(\.row))
            ranked = ranked.compactMap { hit in
                var hit = hit
                hit.details.semantic = hit.details.semantic ?? scores[hit.row]
                return (hit.details.semantic ?? -.infinity) >= threshold ? hit : nil
            }
        }
        return Array(resolve(ranked).prefix(limit))
    }

    /// ``search(_:vector:scope:filter:limit:threshold:mode:)`` in vector mode.
    public func search(vector: [Float], scope: MemoryScope, filter: MemoryFilter = .all, limit: Int = 10,
                       threshold: Float? = nil) throws -> [MemoryHit] {
        try search("", vector: vector, scope: scope, filter: filter, limit: limit, threshold: threshold, mode: .vector)
    }

    /// The allowed rows of a query, the partition holding them all (if one does), and whether
    /// they are that whole partition.
    struct Candidates {
        var rows: [Int64]
        var partition: MemoryPartition?
        var wholePartition: Bool
    }

    func candidates(scope: MemoryScope, filter: MemoryFilter) -> Candidates {
        view.read { v in
            let rows = v.rows(in: scope, matching: filter, at: Date())
            let partition = v.partition(covering: scope)
            return Candidates(rows: rows, partition: partition, wholePartition: partition.map { v.partitions[$0]?.count == rows.count } ?? false)
        }
    }

    /// A ranked row and its scores.
    struct RankedRow {
        var row: Int64
        var score: Float
        var details: ScoreDetails
    }

    private func vectorHits(_ vector: [Float], _ c: Candidates, limit: Int) throws -> [SearchResult] {
        guard limit > 0 else { return [] }
        // Unfiltered graph searches may meet rows a concurrent add has indexed but not yet
        // published; a few spare results keep the answer full when those are dropped.
        return try index.search(vector, k: c.wholePartition ? limit + 8 : limit, rows: c.rows, partition: c.partition,
                                wholePartition: c.wholePartition)
    }

    /// BM25 hits among the candidates, from the partition's keyword index (built on first use),
    /// or, for a scope spanning partitions, from an index of the candidates made for this query.
    private func keywordHits(_ query: String, _ c: Candidates, limit: Int) -> [(row: Int64, score: Float)] {
        guard let partition = c.partition else {
            return view.read { v in
                var index = KeywordIndex()
                for row in c.rows { if let box = v.memories[row] { index.add(row, text: box.memory.text) } }
                return index.search(query, allowed: nil, limit: limit)
            }
        }
        prepareKeywordIndex(partition)
        return view.read { v in v.keyword[partition]?.search(query, allowed: c.wholePartition ? nil : c.rows, limit: limit) ?? [] }
    }

    /// What opening leaves for later, on a background thread: building the keyword indexes of the
    /// partitions loaded at open (largest first, so that a tenant's first keyword query rarely
    /// waits; one arriving first builds its own), then copying the mapped flat index into memory
    /// (so that the first add does not hold searches up while it copies).
    func finishOpeningInBackground() {
        let pending = view.read { v in v.partitions.filter { v.keyword[$0.key] == nil }.sorted { $0.value.count > $1.value.count }.map(\.key) }
        Thread.detachNewThread { [weak self] in
            for partition in pending {
                guard let self else { return }
                self.prepareKeywordIndex(partition)
            }
            try? self?.index.vectors.base.loadIntoMemory()
        }
    }

    /// Builds a partition's keyword index outside the view's lock (a large tenant takes a while),
    /// then installs it, caught up with whatever changed meanwhile.
    func prepareKeywordIndex(_ partition: MemoryPartition) {
        guard view.read({ $0.keyword[partition] == nil }) else { return }
        let snapshot = view.read { v in (v.partitions[partition] ?? []).compactMap { row in v.memories[row].map { (row, $0.memory.text) } } }
        var index = KeywordIndex()
        for (row, text) in snapshot { index.add(row, text: text) }
        view.write { v in
            guard v.keyword[partition] == nil, let rows = v.partitions[partition] else { return }
            let current = Set(rows)
            index.remove(snapshot.filter { !current.contains($0.0) }.map { (row: $0.0, text: $0.1) })
            let before = Set(snapshot.map(\.0))
            for row in rows where !before.contains(row) { if let box = v.memories[row] { index.add(row, text: box.memory.text) } }
            v.keyword[partition] = index
        }
    }

    /// The final ranking: one list as it is, or both fused.
    private static func rank(semantic: [SearchResult], keyword: [(row: Int64, score: Float)], mode: SearchMode) -> [RankedRow] {
        switch mode {
        case .vector:
            return semantic.map { RankedRow(row: Int64($0.id), score: $0.score, details: ScoreDetails(semantic: $0.score)) }
        case .keyword:
            let semantics = Dictionary(semantic.map { (Int64($0.id), $0.score) }, uniquingKeysWith: { a, _ in a })
            return keyword.map { RankedRow(row: $0.row, score: $0.score, details: ScoreDetails(semantic: semantics[$0.row], keyword: $0.score)) }
        case .hybrid:
            // Convex combination of min-max normalized scores: unlike rank fusion it keeps how far
            // apart hits are (a near-tie in one ranking does not weigh a full rank step).
            var fused: [Int64: RankedRow] = [:]
            func add(_ hits: [(row: Int64, score: Float)], weight: Float, _ set: (inout ScoreDetails, Float) -> Void) {
                guard let high = hits.map(\.score).max(), let low = hits.map(\.score).min() else { return }
                for hit in hits {
                    let normalized = high > low ? (hit.score - low) / (high - low) : 1
                    fused[hit.row, default: RankedRow(row: hit.row, score: 0, details: ScoreDetails())].score += weight * normalized
                    set(&fused[hit.row]!.details, hit.score)
                }
            }
            add(semantic.map { (Int64($0.id), $0.score) }, weight: semanticWeight) { $0.semantic = $1 }
            add(keyword, weight: 1 - semanticWeight) { $0.keyword = $1 }
            return fused.values.map { r in
                var r = r
                r.details.fused = r.score
                return r
            }.sorted { $0.score != $1.score ? $0.score > $1.score : $0.row < $1.row }
        }
    }

    /// The memories of ranked rows (rows deleted meanwhile are dropped).
    private func resolve(_ ranked: [RankedRow]) -> [MemoryHit] {
        view.read { v in
            ranked.compactMap { r in v.memories[r.row].map { MemoryHit(memory: $0.memory, score: r.score, details: r.details) } }
        }
    }
}
