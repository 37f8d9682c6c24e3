extension HNSWIndex {
    /// How a search will run, chosen per query from the filter's pass rate.
    public enum SearchPlan: String, Sendable {
        /// No filter: plain graph search skipping tombstones.
        case graph
        /// Exact scan over the allowed items: cheaper than a graph search when they are few.
        case exactScan
        /// Graph search admitting only allowed items to the results (high pass rates).
        case filteredGraph
        /// ACORN-style search expanding two hops through disallowed nodes (low pass rates).
        case twoHopGraph
    }

    /// Filters allowing at most this many items are always scanned exactly.
    public static let exactScanLimit = 2_000

    /// When the graph is walked on f16 copies, the best `exactDepthFactor · k` nodes found are
    /// re-scored on the f32 vectors, the answer taken from those. f16 keeps 11 significant bits, so
    /// its ranking differs from the exact one only between near-ties: on 20k × 384 MiniLM vectors,
    /// re-scoring the best k gave the same recall@10 as re-scoring all `ef` at every ef from 16 to 128,
    /// and at ef 128 cut the mean query time from 0.25 to 0.18 ms (the f32 rows are the cold ones).
    static let exactDepthFactor = 2

    /// Pass rates (allowed / nodes) below this use the two-hop expansion.
    public static let twoHopBelow = 0.2

    /// The plan ``search(_:k:ef:filter:)`` will use for `filter` at breadth `ef`.
    ///
    /// Cost model, fitted on 20k × 384 MiniLM vectors (`engram bench --filtered`, see README): an
    /// unfiltered graph search at breadth `ef` computes about `30·ef` distances; a filtered one about
    /// that divided by the pass rate; an exact scan one per allowed item. The exact scan is chosen
    /// when it is the cheaper: `allowed ≤ 30·ef / passRate`.
    public func plan(for filter: SearchFilter?, ef: Int = 64) -> SearchPlan {
        Self.plan(for: filter, ef: ef, nodes: graph.nodeCount)
    }

    static func plan(for filter: SearchFilter?, ef: Int, nodes: Int) -> SearchPlan {
        guard let filter else { return .graph }
        let allowed = Double(filter.allowedCount)
        let passRate = allowed / Double(max(1, nodes))
        if filter.allowedCount <= Self.exactScanLimit || allowed * passRate <= 30 * Double(ef) { return .exactScan }
        return passRate < Self.twoHopBelow ? .twoHopGraph : .filteredGraph
    }

    /// The `k` approximate nearest live vectors to `query`, best first.
    ///
    /// - Parameters:
    ///   - k: results wanted; fewer only when fewer live items (passing `filter`) exist.
    ///   - ef: the search breadth (at least `k`); larger is slower and more accurate. Default
    ///     `max(k, 64)`.
    ///   - filter: only items it allows are returned; see ``plan(for:)`` for how it is searched. If a
    ///     graph search finds fewer than `k` allowed items, an exact scan of the allowed items
    ///     completes the answer, so a filtered search never comes up short.
    /// - Throws: ``EngramError/invalidK(_:)``, ``EngramError/invalidParameter(_:)`` (ef),
    ///   ``EngramError/emptyIndex``, ``EngramError/staleFilter`` and the vector errors.
    public func search(_ query: [Float], k: Int, ef: Int? = nil, filter: SearchFilter? = nil) throws -> [SearchResult] {
        guard k > 0 else { throw EngramError.invalidK(k) }
        if let ef, ef <= 0 { throw EngramError.invalidParameter("ef must be positive, got \(ef)") }
        let q = try VectorValidation.prepared(query, dimension: dimension, metric: metric)
        let graph = graph
        let (live, nodes) = graph.allocation.withLock { ($0.liveCount, $0.nodeCount) }
        guard live > 0 else { throw EngramError.emptyIndex }
        if let filter, filter.layoutVersion != graph.generation { throw EngramError.staleFilter }
        let breadth = max(k, ef ?? max(k, 64))
        let exact = min(breadth, Self.exactDepthFactor * k)
        let found = q.withUnsafeBufferPointer { buf -> [(Float, UInt32)] in
            let query = buf.baseAddress!
            let plan = Self.plan(for: filter, ef: breadth, nodes: nodes)
            switch plan {
            case .graph:
                return graph.search(query, ef: breadth, exact: exact, admission: .live, nodes: nodes)
            case .exactScan:
                return graph.exactScan(query, k: k, allowed: filter!.allowed, nodes: nodes)
            case .filteredGraph, .twoHopGraph:
                let admission: ResultAdmission = plan == .twoHopGraph ? .allowedTwoHop(filter!.allowed) : .allowed(filter!.allowed)
                let hits = graph.search(query, ef: breadth, exact: exact, admission: admission, nodes: nodes)
                return hits.count >= min(k, filter!.allowedCount) ? hits : graph.exactScan(query, k: k, allowed: filter!.allowed, nodes: nodes)
            }
        }
        return found.prefix(k).map { SearchResult(id: graph.externalIDs.base[Int($0.1)], score: metric.score(fromDistance: $0.0)) }
    }
}

