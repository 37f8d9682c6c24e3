import EngramSupport
import CBLAS
import CEngramKernels
import Dispatch

extension FlatIndex {
    /// Below this many queries a batch is answered by one SIMD scan per query; from it on, by
    /// `cblas_sgemm` on blocks. Measured with `engram bench --index flat --batch` on 20k × 384 on an
    /// AMD EPYC (Zen 3): 1 query 511 q/s scan vs 193 sgemm, 2: 640 vs 356, 4: 477 vs 799,
    /// 8: 593 vs 1,203, 64: 494 vs 3,682. Below 4 the packing cost of sgemm is not amortized.
    public static let sgemmCrossover = 4

    /// Queries and rows per sgemm block, chosen by a sweep on the same data (64…512 × 1,024…4,096):
    /// 256 × 1,024 was best (4,800 q/s; 64 × 2,048 gave 3,400, 512 × 4,096 4,560). The 1 MiB score
    /// block stays in L2 while the selection pass reads it back, and 256 queries amortize the packing
    /// of each row block.
    static let queriesPerBlock = 256
    static let rowsPerBlock = 1024

    /// ``search(batch:k:threads:)``: an exact index has no breadth to set.
    public func search(batch queries: VectorMatrix, k: Int, ef: Int?, threads: Int) throws -> [[SearchResult]] {
        try search(batch: queries, k: k, threads: threads)
    }

    /// The `k` nearest stored vectors to each query (row) of `queries`, in query order.
    ///
    /// The results of ``search(_:k:filter:)`` for each row (same ordering, ties and scores), computed
    /// with matrix products for larger batches. Under `l2` a product gives `|q|² + |x|² − 2q·x`,
    /// which loses digits when the vectors are far from the origin compared with their distances
    /// (data with a large common offset); each query's top k is therefore checked against a bound
    /// on that error, re-scored exactly, and the query scanned instead when the bound could change
    /// which vectors are in it.
    ///
    /// - Parameters:
    ///   - queries: rows of ``dimension`` finite floats.
    ///   - k: results per query.
    ///   - threads: worker threads (each runs its own single-threaded BLAS calls).
    /// - Throws: as ``search(_:k:filter:)``.
    /// - Complexity: O(queries · n · dimension), at the speed of `cblas_sgemm`.
    public func search(batch queries: VectorMatrix, k: Int, threads: Int = 1) throws -> [[SearchResult]] {
        guard k > 0 else { throw EngramError.invalidK(k) }
        guard threads > 0 else { throw EngramError.invalidParameter("threads must be positive, got \(threads)") }
        guard queries.dimension == dimension else {
            throw EngramError.dimensionMismatch(expected: dimension, actual: queries.dimension)
        }
        var q = queries.values
        try VectorValidation.prepareRows(&q, dimension: dimension, metric: metric)
        let nq = queries.count
        return try lock.withReadLock {
            guard !slotOfID.isEmpty else { throw EngramError.emptyIndex }
            var results = [[SearchResult]](repeating: [], count: nq)
            let useGEMM = nq >= Self.sgemmCrossover
            if useGEMM { _ = BLASRuntime.singleThreaded }
            let blockSize = useGEMM ? Self.queriesPerBlock : 1
            let blocks = (nq + blockSize - 1) / blockSize
            q.withUnsafeBufferPointer { qbuf in
                results.withUnsafeMutableBufferPointer { out in
                    let out = UnsafeSendable(out)
                    let qbuf = UnsafeSendable(qbuf)
                    parallelFor(blocks, threads: threads) { block in
                        let range = block * blockSize..<min(nq, (block + 1) * blockSize)
                        if useGEMM {
                            gemmSearch(qbuf.value.baseAddress!, range, k: k, into: out.value)
                        } else {
                            for i in range { out.value[i] = scan(qbuf.value.baseAddress! + i * dimension, k: k, allowed: nil) }
                        }
                    }
                }
            }
            return results
        }
    }

    /// Scores `queryRange` against every row block with sgemm and keeps each query's top k.
    private func gemmSearch(
        _ queries: UnsafePointer<Float>, _ queryRange: Range<Int>, k: Int,
        into out: UnsafeMutableBufferPointer<[SearchResult]>
    ) {
        let m = queryRange.count, nb = Self.rowsPerBlock, n = ids.count, kk = min(k, slotOfID.count)
        // Under l2 one more is kept, to tell whether the k-th is clear of the rest (see `exactL2`).
        let kept = metric == .l2 ? min(kk + 1, slotOfID.count) : kk
        let qBase = queries + queryRange.lowerBound * dimension
        withUnsafeTemporaryAllocation(of: Float.self, capacity: m * nb) { scores in
        withUnsafeTemporaryAllocation(of: Float.self, capacity: m * kept) { heapD in
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: m * kept) { heapI in
            var tops = (0..<m).map { TopK(k: kept, distances: heapD.baseAddress! + $0 * kept, ids: heapI.baseAddress! + $0 * kept) }
            var queryNorms = [Float](repeating: 0, count: m)
            if metric == .l2 { for i in 0..<m { queryNorms[i] = engramDot(qBase + i * dimension, qBase + i * dimension, dimension) } }
            for start in stride(from: 0, to: n, by: nb) {
                let count = min(nb, n - start)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(count), Int32(dimension),
                            1, qBase, Int32(dimension), storage.row(start), Int32(storage.stride),
                            0, scores.baseAddress!, Int32(nb))
                for i in 0..<m {
                    select(scores.baseAddress! + i * nb, count: count, firstSlot: start,
                           queryNorm: queryNorms[i], into: &tops[i])
                }
            }
            guard metric == .l2 else {
                for i in 0..<m { out[queryRange.lowerBound + i] = tops[i].drainResults(metric: metric) }
                return
            }
            let largestNorm = squaredNorms.max() ?? 0
            for i in 0..<m {
                let query = qBase + i * dimension
                // Rounding errors of a d-term float sum grow like √d·2⁻²⁴ of its size; allow four
                // times that on the three terms' total size, at most 2(|q|² + |x|²). (The worst case,
                // d·2⁻²⁴, sent 1–2% of MiniLM's queries to a scan over near-ties: 12% slower.)
                let error = 4 * Float(dimension).squareRoot() * 0x1p-24 * 2 * (queryNorms[i] + largestNorm)
                out[queryRange.lowerBound + i] = exactL2(query, candidates: tops[i].sorted(), k: kk, error: error)
                    ?? scan(query, k: k, allowed: nil)
            }
        }}}
    }

    /// The top `k` of `candidates` (product distances, best first, one more than `k` when there
    /// are more) re-scored exactly; nil when a product error up to `error` could have changed which
    /// vectors they are, that is when the k-th and the next are within twice `error`.
    private func exactL2(_ query: UnsafePointer<Float>, candidates: [(Float, UInt64)], k: Int, error: Float) -> [SearchResult]? {
        if candidates.count > k, !(candidates[k].0 - candidates[k - 1].0 > 2 * error) { return nil }
        let distance = DistanceKernels.active.function(for: .l2)
        var exact: [(Float, UInt64)] = []
        for (_, id) in candidates.prefix(k) {
            guard let slot = slotOfID[id] else { return nil }
            exact.append((distance(query, storage.row(Int(slot)), dimension), id))
        }
        exact.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
        return exact.map { SearchResult(id: $0.1, score: metric.score(fromDistance: $0.0)) }
    }

    /// Offers one query's block of inner products to its heap. Most entries cannot enter, so a SIMD
    /// pass (`engram_next_candidate`) skips to the next one that can, and only those are examined.
    @inline(__always)
    private func select(_ dots: UnsafePointer<Float>, count: Int, firstSlot: Int, queryNorm: Float, into top: inout TopK) {
        let isL2 = metric == .l2
        let hasHoles = !freeSlots.isEmpty
        squaredNorms.withUnsafeBufferPointer { norms in
            // Key and bound such that key >= bound <=> distance <= threshold:
            // inner product: -dot <= thr <=> dot >= -thr; L2: |q|² + |x|² - 2 q·x <= thr <=> 2 q·x - |x|² >= |q|² - thr.
            let blockNorms = isL2 ? norms.baseAddress! + firstSlot : nil
            var j = 0
            while true {
                let bound = isL2 ? queryNorm - top.threshold : -top.threshold
                j = engram_next_candidate(dots, blockNorms, j, count, bound)
                guard j < count else { return }
                let slot = firstSlot + j
                if !hasHoles || live[slot] {
                    let d = isL2 ? queryNorm + norms[slot] - 2 * dots[j] : -dots[j]
                    if d <= top.threshold { top.insert(d, id: ids[slot]) }
                }
                j += 1
            }
        }
    }
}

