extension FlatIndex {
    /// The `k` nearest stored vectors to `query`, best first (ties broken by the smaller id).
    ///
    /// - Parameters:
    ///   - query: a vector of ``dimension`` finite floats.
    ///   - k: how many results; fewer are returned when fewer items are live (and pass `filter`).
    ///   - filter: only items it allows are returned (see ``SearchFilter``).
    /// - Returns: results with scores in the metric's natural sense (see ``Metric``).
    /// - Throws: ``EngramError/invalidK(_:)``, ``EngramError/emptyIndex`` and the vector errors of
    ///   ``add(_:id:)``.
    /// - Complexity: O(n · dimension) for n stored vectors; O(allowed · dimension) with a filter.
    public func search(_ query: [Float], k: Int, filter: SearchFilter? = nil) throws -> [SearchResult] {
        guard k > 0 else { throw EngramError.invalidK(k) }
        return try VectorValidation.withPrepared(query, dimension: dimension, metric: metric) { q in
            try lock.withReadLock {
                guard !slotOfID.isEmpty else { throw EngramError.emptyIndex }
                let allowed = filter.map { $0.allowedSlots(under: layout, capacity: ids.count, slot: { slotOfID[$0] }).allowed }
                return scan(q, k: k, allowed: allowed)
            }
        }
    }

    /// ``search(_:k:filter:)``: an exact index has no breadth to set.
    public func search(_ query: [Float], k: Int, ef: Int?, filter: SearchFilter?) throws -> [SearchResult] {
        try search(query, k: k, filter: filter)
    }

    /// The scores of `query` against the vectors of `ids`, in the order given (ids not held are
    /// left out), with the SIMD kernels of a scan.
    /// - Complexity: O(ids · dimension).
    public func scores(_ query: [Float], ids wanted: [UInt64]) throws -> [SearchResult] {
        let q = try VectorValidation.prepared(query, dimension: dimension, metric: metric)
        let distance = DistanceKernels.active.function(for: metric)
        return lock.withReadLock {
            q.withUnsafeBufferPointer { q in
                wanted.compactMap { id in
                    slotOfID[id].map { SearchResult(id: id, score: metric.score(fromDistance: distance(q.baseAddress!, storage.row(Int($0)), dimension))) }
                }
            }
        }
    }

    /// The `k` nearest to `query` among the vectors of `ids` that this index or `other` holds,
    /// appended to `results` best first (ties to the smaller id): a search over a few chosen
    /// items of a large index, with no bitset over the index and no result array of its own.
    /// A vector held by both indexes (as while items move from one to the other) counts once.
    /// - Parameters:
    ///   - other: a second index of the same dimension and metric, or nil.
    /// - Throws: ``EngramError/invalidK(_:)`` and the vector errors of ``add(_:id:)``.
    /// - Complexity: O(ids · dimension).
    package func nearest(_ query: [Float], k: Int, among ids: UnsafeBufferPointer<UInt64>, alsoIn other: FlatIndex? = nil,
                         appendingTo results: inout [SearchResult]) throws {
        guard k > 0 else { throw EngramError.invalidK(k) }
        precondition(other.map { $0.dimension == dimension && $0.metric == metric } ?? true, "indexes of another kind")
        guard !ids.isEmpty else { return }
        try VectorValidation.withPrepared(query, dimension: dimension, metric: metric) { q in
            TopK.withTemporary(k: min(k, ids.count)) { top in
                offer(q, among: ids, skipHeld: false, to: &top)
                other?.offer(q, among: ids, skipHeld: true, to: &top)
                top.drainResults(metric: metric, appendingTo: &results)
            }
        }
    }

    /// Offers each of `ids` held here to `top`, leaving out those it holds when `skipHeld`.
    private func offer(_ query: UnsafePointer<Float>, among ids: UnsafeBufferPointer<UInt64>, skipHeld: Bool, to top: inout TopK) {
        lock.withReadLock {
            guard !slotOfID.isEmpty else { return }  // (an empty second index is common: no lookups)
            let storage = storage
            self.ids.withUnsafeBufferPointer { idOfSlot in
                // The slots first, a chunk at a time, so that the scan can prefetch the next row.
                withUnsafeTemporaryAllocation(of: UInt32.self, capacity: min(ids.count, 256)) { slots in
                    for start in stride(from: 0, to: ids.count, by: slots.count) {
                        var n = 0
                        for id in ids[start..<min(ids.count, start + slots.count)] {
                            guard let slot = slotOfID[id] else { continue }
                            slots[n] = slot
                            n += 1
                        }
                        storage.scan(query, slots: UnsafeBufferPointer(rebasing: slots[..<n]), metric: metric, id: { idOfSlot[$0] },
                                     skipHeld: skipHeld, into: &top)
                    }
                }
            }
        }
    }

    /// The SIMD scan for one prepared query over the `allowed` slots (nil: all). Call under the read lock.
    func scan(_ query: UnsafePointer<Float>, k: Int, allowed: Bitset?) -> [SearchResult] {
        let storage = storage
        return ids.withUnsafeBufferPointer { ids in
            live.withUnsafeBufferPointer { live in
                TopK.withTemporary(k: min(k, slotOfID.count)) { top in
                    storage.scan(query, allowed: allowed, count: ids.count,
                                 isLive: { live[$0] },
                                 metric: metric, id: { ids[$0] }, into: &top)
                    return top.drainResults(metric: metric)
                }
            }
        }
    }
}
