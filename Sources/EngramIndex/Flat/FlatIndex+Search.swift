extension FlatIndex {
    /// The `k` nearest stored vectors to `query`, best first (ties broken by the smaller id).
    ///
    /// - Parameters:
    ///   - query: a vector of ``dimension`` finite floats.
    ///   - k: how many results; fewer are returned when fewer items are live (and pass `filter`).
    ///   - filter: only items it allows are returned (see ``filter(allowing:)``).
    /// - Returns: results with scores in the metric's natural sense (see ``Metric``).
    /// - Throws: ``EngramError/invalidK(_:)``, ``EngramError/emptyIndex``, ``EngramError/staleFilter``
    ///   and the vector errors of ``add(_:id:)``.
    /// - Complexity: O(n · dimension) for n stored vectors; O(allowed · dimension) with a filter.
    public func search(_ query: [Float], k: Int, filter: SearchFilter? = nil) throws -> [SearchResult] {
        guard k > 0 else { throw EngramError.invalidK(k) }
        let q = try VectorValidation.prepared(query, dimension: dimension, metric: metric)
        return try lock.withReadLock {
            try checkSearchable(filter)
            return q.withUnsafeBufferPointer { scan($0.baseAddress!, k: k, filter: filter) }
        }
    }

    /// Throws unless the index has live items and `filter` matches its slot layout. Call under the lock.
    func checkSearchable(_ filter: SearchFilter?) throws {
        guard !slotOfID.isEmpty else { throw EngramError.emptyIndex }
        if let filter, filter.layoutVersion != layoutVersion { throw EngramError.staleFilter }
    }

    /// The SIMD scan for one prepared query. Call under the read lock.
    func scan(_ query: UnsafePointer<Float>, k: Int, filter: SearchFilter?) -> [SearchResult] {
        let distance = DistanceKernels.active.function(for: metric)
        let storage = storage
        let hasHoles = !freeSlots.isEmpty
        return ids.withUnsafeBufferPointer { ids in
            live.withUnsafeBufferPointer { live in
                TopK.withTemporary(k: min(k, slotOfID.count)) { top in
                    storage.scan(query, allowed: filter?.allowed, count: ids.count,
                                 isLive: hasHoles || filter != nil ? { live[$0] } : nil,
                                 distance: distance, id: { ids[$0] }, into: &top)
                    return top.results(metric: metric)
                }
            }
        }
    }
}
