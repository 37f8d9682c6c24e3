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

    /// The `k` nearest stored vectors to each query (row) of `queries`, in query order.
    ///
    /// Exactly the results of ``search(_:k:filter:)`` for each row (same ordering and ties), computed
    /// with matrix products for larger batches.
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
            try checkSearchable(nil)
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
                            for i in range { out.value[i] = scan(qbuf.value.baseAddress! + i * dimension, k: k, filter: nil) }
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
        let qBase = queries + queryRange.lowerBound * dimension
        withUnsafeTemporaryAllocation(of: Float.self, capacity: m * nb) { scores in
        withUnsafeTemporaryAllocation(of: Float.self, capacity: m * kk) { heapD in
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: m * kk) { heapI in
            var tops = (0..<m).map { TopK(k: kk, distances: heapD.baseAddress! + $0 * kk, ids: heapI.baseAddress! + $0 * kk) }
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
            for i in 0..<m { out[queryRange.lowerBound + i] = tops[i].results(metric: metric) }
        }}}
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

