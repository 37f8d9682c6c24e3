import CBLAS
import Dispatch

extension FlatIndex {
    /// Below this many queries a batch is answered by one SIMD scan per query; from it on, by
    /// `cblas_sgemm` on blocks. Measured with `engram bench --index flat --batch` on 20k × 384
    /// (see README): sgemm wins from about this size on, where its packing cost is amortized.
    public static let sgemmCrossover = 16

    /// Queries per sgemm block: with ``rowsPerBlock`` it keeps the score block (64 × 2048 floats,
    /// 512 KiB) in L2 while the selection pass reads it back.
    static let queriesPerBlock = 64
    static let rowsPerBlock = 2048

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
    /// pass compares 16 at a time against the current threshold and only survivors are examined.
    @inline(__always)
    private func select(_ dots: UnsafePointer<Float>, count: Int, firstSlot: Int, queryNorm: Float, into top: inout TopK) {
        let isL2 = metric == .l2
        let hasHoles = !freeSlots.isEmpty
        func offer(_ j: Int) {
            let slot = firstSlot + j
            guard !hasHoles || live[slot] else { return }
            let d = isL2 ? queryNorm + squaredNorms[slot] - 2 * dots[j] : -dots[j]
            if d <= top.threshold { top.insert(d, id: ids[slot]) }
        }
        var j = 0
        if !isL2 {
            let raw = UnsafeRawPointer(dots)
            while j + 16 <= count {
                // -dot <= threshold  <=>  dot >= -threshold
                let v = raw.loadUnaligned(fromByteOffset: j * 4, as: SIMD16<Float>.self)
                if any(v .>= SIMD16(repeating: -top.threshold)) {
                    for t in j..<j + 16 { offer(t) }
                }
                j += 16
            }
        }
        while j < count { offer(j); j += 1 }
    }
}

/// Runs `body(i)` for `i` in `0..<iterations` on up to `threads` threads.
func parallelFor(_ iterations: Int, threads: Int, _ body: @Sendable (Int) -> Void) {
    let workers = min(threads, iterations)
    guard workers > 1 else {
        for i in 0..<iterations { body(i) }
        return
    }
    // Workers pull the next iteration from a shared counter, so uneven iterations balance.
    let next = AtomicCounter()
    DispatchQueue.concurrentPerform(iterations: workers) { _ in
        while true {
            let i = next.increment()
            guard i < iterations else { return }
            body(i)
        }
    }
}

/// Carries a value the caller promises is used safely across threads (disjoint writes, or reads of
/// data that outlives the parallel loop).
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
