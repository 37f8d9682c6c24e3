import EngramIndex

/// How the rankings of a hybrid search become one: a convex combination of min-max normalized
/// scores. Unlike rank fusion it keeps how far apart hits are (a near-tie in one ranking does not
/// weigh a full rank step).
enum ScoreFusion {
    /// Candidates taken from each ranking before fusion.
    static let depth = 100
    /// Weight of the semantic score (the keyword score gets the rest). Equal weights, untuned: on
    /// debian-known-item they beat reciprocal-rank fusion (k 60) by 0.025 MRR@10, and a tuned
    /// weight gains little more (README, "Hybrid search").
    static let semanticWeight: Float = 0.5

    /// A ranked row and its scores.
    struct Ranked {
        var row: Int64
        var score: Float
        var details: ScoreDetails
    }

    /// The final ranking, appended to `ranked`: one list as it is, or both fused; ties to the smaller row.
    static func rank(semantic: [SearchResult], keyword: [(row: Int64, score: Float)], mode: SearchMode,
                     appendingTo ranked: inout [Ranked]) {
        switch mode {
        case .vector:
            for hit in semantic { ranked.append(Ranked(row: Int64(hit.id), score: hit.score, details: ScoreDetails(semantic: hit.score))) }
        case .keyword:
            let semantics = Dictionary(semantic.map { (Int64($0.id), $0.score) }, uniquingKeysWith: { a, _ in a })
            ranked += keyword.map { Ranked(row: $0.row, score: $0.score, details: ScoreDetails(semantic: semantics[$0.row], keyword: $0.score)) }
        case .hybrid:
            var fused: [Int64: Ranked] = [:]
            func add(_ hits: [(row: Int64, score: Float)], weight: Float, _ set: (inout ScoreDetails, Float) -> Void) {
                guard let high = hits.map(\.score).max(), let low = hits.map(\.score).min() else { return }
                for hit in hits {
                    let normalized = high > low ? (hit.score - low) / (high - low) : 1
                    var entry = fused[hit.row] ?? Ranked(row: hit.row, score: 0, details: ScoreDetails())
                    entry.score += weight * normalized
                    set(&entry.details, hit.score)
                    fused[hit.row] = entry
                }
            }
            add(semantic.map { (Int64($0.id), $0.score) }, weight: semanticWeight) { $0.semantic = $1 }
            add(keyword, weight: 1 - semanticWeight) { $0.keyword = $1 }
            ranked += fused.values.map { r in
                var r = r
                r.details.fused = r.score
                return r
            }.sorted { $0.score != $1.score ? $0.score > $1.score : $0.row < $1.row }
        }
    }
}
