import EngramIndex

enum Recall {
    /// Mean over queries of |returned top-k ∩ true top-k| / k.
    static func mean(_ results: [[SearchResult]], truth: [[Int32]], k: Int) -> Double {
        guard !results.isEmpty else { return 0 }
        var total = 0.0
        for (i, hits) in results.enumerated() {
            let expected = Set(truth[i].prefix(k).map { UInt64($0) })
            total += Double(hits.prefix(k).count { expected.contains($0.id) }) / Double(k)
        }
        return total / Double(results.count)
    }
}

extension Recall {
    /// Mean over queries of |returned ∩ truth| / |truth| (filtered ground truth may hold fewer than k).
    static func meanOverTruth(_ results: [[SearchResult]], truth: [[Int32]]) -> Double {
        guard !results.isEmpty else { return 0 }
        var total = 0.0
        for (i, hits) in results.enumerated() {
            let expected = Set(truth[i].map { UInt64($0) })
            total += expected.isEmpty ? 1 : Double(hits.count { expected.contains($0.id) }) / Double(expected.count)
        }
        return total / Double(results.count)
    }
}
