import CEngramKernels

extension VectorStorage {
    /// Rows a block scan scores before offering them (its distances stay on the stack, in L1).
    static let scanBlock = 128

    /// Offers rows to `top`: the members of `allowed` below `count` (prefetching each next scattered
    /// row while the current one is scored), or every row below `count` when `allowed` is nil
    /// (scored `scanBlock` consecutive rows at a time by the metric's block kernel).
    /// Rows for which `isLive` returns false are skipped (asked only of rows close enough to enter
    /// `top`, or of allowed rows). The exact scan of both ``FlatIndex`` and ``HNSWIndex``.
    @inline(__always)
    func scan(
        _ query: UnsafePointer<Float>, allowed: Bitset?, count: Int, isLive: (Int) -> Bool,
        metric: Metric, id: (Int) -> UInt64, into top: inout TopK
    ) {
        guard let allowed else { return scanAll(query, count: count, isLive: isLive, metric: metric, id: id, into: &top) }
        let distance = DistanceKernels.active.function(for: metric), rowBytes = dimension * 4
        allowed.forEach(below: count, ahead: { engram_prefetch_range(row($0), rowBytes) }) { slot in
            guard isLive(slot) else { return }
            let d = distance(query, row(slot), dimension)
            if d <= top.threshold { top.insert(d, id: id(slot)) }
        }
    }

    /// Offers the rows of `slots` to `top` as the allowed rows of ``scan(_:allowed:count:isLive:metric:id:into:)``
    /// are (each next row prefetched while the current one is scored), leaving out a row whose id
    /// `top` already holds when `skipHeld` (the same item met in a second index).
    func scan(_ query: UnsafePointer<Float>, slots: UnsafeBufferPointer<UInt32>, metric: Metric, id: (Int) -> UInt64,
              skipHeld: Bool, into top: inout TopK) {
        let distance = DistanceKernels.active.function(for: metric), rowBytes = dimension * 4
        for j in slots.indices {
            if j + 1 < slots.count { engram_prefetch_range(row(Int(slots[j + 1])), rowBytes) }
            let slot = Int(slots[j]), d = distance(query, row(slot), dimension)
            if d <= top.threshold, !skipHeld || !top.contains(id(slot)) { top.insert(d, id: id(slot)) }
        }
    }

    @inline(__always)
    private func scanAll(
        _ query: UnsafePointer<Float>, count: Int, isLive: (Int) -> Bool, metric: Metric, id: (Int) -> UInt64, into top: inout TopK
    ) {
        let kernel = DistanceKernels.active.scanFunction(for: metric)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: Self.scanBlock) { block in
            let distances = block.baseAddress!
            for start in Swift.stride(from: 0, to: count, by: Self.scanBlock) {
                let n = min(Self.scanBlock, count - start)
                kernel(query, row(start), stride, dimension, n, distances)
                for j in 0..<n where distances[j] <= top.threshold && isLive(start + j) {
                    top.insert(distances[j], id: id(start + j))
                }
            }
        }
    }
}
