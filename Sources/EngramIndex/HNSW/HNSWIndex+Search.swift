import EngramSupport
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

    /// When the graph is walked on a copy (8-bit codes or f16), the best `exactDepthFactor · k`
    /// nodes found are re-scored on the f32 vectors, the answer taken from those. The copy's
    /// ranking differs from the exact one only between near-ties: on 20k × 384 MiniLM vectors,
    /// re-scoring 2k gave the same recall@10 as re-scoring all `ef` at every ef from 16 to 128, on
    /// f16 and on codes alike, and at ef 128 cut the mean query time from 0.25 to 0.18 ms on f16
    /// (the f32 rows are the cold ones); +22–35% queries/s at ef 64–128 on codes.
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
        let graph = graph
        return Self.plan(allowed: filter.map { allowedSlots($0, in: graph).count }, ef: ef, nodes: graph.nodeCount)
    }

    /// The plan for `allowed` items (nil: no filter) among `nodes`.
    static func plan(allowed: Int?, ef: Int, nodes: Int) -> SearchPlan {
        guard let allowed else { return .graph }
        let passRate = Double(allowed) / Double(max(1, nodes))
        if allowed <= Self.exactScanLimit || Double(allowed) * passRate <= 30 * Double(ef) { return .exactScan }
        return passRate < Self.twoHopBelow ? .twoHopGraph : .filteredGraph
    }

    /// The `k` approximate nearest live vectors to `query`, best first.
    ///
    /// - Parameters:
    ///   - query: a vector of ``dimension`` finite floats.
    ///   - k: results wanted; fewer only when fewer live items (passing `filter`) exist.
    ///   - ef: the search breadth (at least `k`); larger is slower and more accurate. Default
    ///     `max(k, 64)`.
    ///   - filter: only items it allows are returned (``SearchFilter``); see ``plan(for:ef:)`` for how
    ///     it is searched. If a graph search finds fewer than `k` allowed items, an exact scan of
    ///     the allowed items completes the answer, so a filtered search never comes up short.
    /// - Throws: ``EngramError/invalidK(_:)``, ``EngramError/invalidParameter(_:)`` (ef),
    ///   ``EngramError/emptyIndex`` and the vector errors.
    public func search(_ query: [Float], k: Int, ef: Int? = nil, filter: SearchFilter? = nil) throws -> [SearchResult] {
        guard k > 0 else { throw EngramError.invalidK(k) }
        if let ef, ef <= 0 { throw EngramError.invalidParameter("ef must be positive, got \(ef)") }
        let graph = graph
        let (live, nodes) = graph.allocation.withLock { ($0.liveCount, $0.nodeCount) }
        let metric = metric
        // Slots become results only here, in the one array a search allocates.
        func result(_ distance: Float, _ slot: UInt32) -> SearchResult {
            SearchResult(id: graph.externalIDs.base[Int(slot)], score: metric.score(fromDistance: distance))
        }
        func results(_ found: UnsafeMutableBufferPointer<(Float, UInt32)>) -> [SearchResult] { found.prefix(k).map { result($0.0, $0.1) } }
        return try VectorValidation.withPrepared(query, dimension: dimension, metric: metric) { query -> [SearchResult] in
            guard live > 0 else { throw EngramError.emptyIndex }
            let allowed = filter.map { allowedSlots($0, in: graph) }
            let breadth = max(k, ef ?? max(k, 64))
            let exact = min(breadth, Self.exactDepthFactor * k)
            guard let allowed else { return graph.search(query, ef: breadth, exact: exact, admission: .live, nodes: nodes, results) }
            let plan = Self.plan(allowed: allowed.count, ef: breadth, nodes: nodes)
            guard plan != .exactScan else { return graph.exactScan(query, k: k, allowed: allowed.allowed, nodes: nodes, result) }
            let admission: ResultAdmission = plan == .twoHopGraph ? .allowedTwoHop(allowed.allowed) : .allowed(allowed.allowed)
            return graph.search(query, ef: breadth, exact: exact, admission: admission, nodes: nodes) { hits in
                hits.count >= min(k, allowed.count) ? results(hits) : graph.exactScan(query, k: k, allowed: allowed.allowed, nodes: nodes, result)
            }
        }
    }

    /// ``search(_:k:ef:filter:)`` without a filter for every row of `queries`, `threads` queries at
    /// a time (each query runs on one thread; searches never wait for each other).
    /// - Throws: as ``search(_:k:ef:filter:)``, and ``EngramError/invalidParameter(_:)`` for
    ///   `threads` below 1 or `queries` of another dimension.
    public func search(batch queries: VectorMatrix, k: Int, ef: Int? = nil, threads: Int = 1) throws -> [[SearchResult]] {
        guard threads > 0 else { throw EngramError.invalidParameter("threads must be positive, got \(threads)") }
        guard queries.dimension == dimension else { throw EngramError.dimensionMismatch(expected: dimension, actual: queries.dimension) }
        let results = Locked([[SearchResult]](repeating: [], count: queries.count))
        let failure = Locked<(any Error)?>(nil)
        parallelFor(queries.count, threads: threads) { i in
            do {
                let found = try search(Array(queries[i]), k: k, ef: ef)
                results.withLock { $0[i] = found }
            } catch {
                failure.withLock { $0 = $0 ?? error }
            }
        }
        if let error = failure.withLock({ $0 }) { throw error }
        return results.withLock { $0 }
    }

    /// The scores of `query` against the f32 vectors of `ids`, in the order given (ids not held are left out).
    /// - Complexity: O(ids · dimension).
    public func scores(_ query: [Float], ids wanted: [UInt64]) throws -> [SearchResult] {
        let q = try VectorValidation.prepared(query, dimension: dimension, metric: metric)
        let graph = graph
        let slots = graph.withIDMap { a in wanted.map { a.slotOfID[$0] } }
        return q.withUnsafeBufferPointer { q in
            zip(wanted, slots).compactMap { id, slot in
                slot.map { SearchResult(id: id, score: metric.score(fromDistance: graph.distance(q.baseAddress!, graph.vector($0), dimension))) }
            }
        }
    }
}
