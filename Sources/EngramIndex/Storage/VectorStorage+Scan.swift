import CEngramKernels

extension VectorStorage {
    /// Offers rows to `top`: the members of `allowed` below `count` (prefetching each next scattered
    /// row while the current one is scored), or every row below `count` when `allowed` is nil.
    /// Rows for which `isLive` returns false are skipped (nil: all rows are live). The exact scan of
    /// both ``FlatIndex`` and ``HNSWIndex``.
    @inline(__always)
    func scan(
        _ query: UnsafePointer<Float>, allowed: Bitset?, count: Int, isLive: ((Int) -> Bool)?,
        distance: DistanceKernels.Function, id: (Int) -> UInt64, into top: inout TopK
    ) {
        func visit(_ slot: Int) {
            if let isLive, !isLive(slot) { return }
            let d = distance(query, row(slot), dimension)
            if d <= top.threshold { top.insert(d, id: id(slot)) }
        }
        if let allowed {
            let rowBytes = dimension * 4
            allowed.forEach(below: count, ahead: { engram_prefetch_range(row($0), rowBytes) }, visit)
        } else {
            for slot in 0..<count { visit(slot) }
        }
    }
}
