/// Set operations on ascending, duplicate-free row lists: the posting lists of the memory view.
///
/// Rows are SQLite's AUTOINCREMENT keys, so appends keep a list sorted, and intersections run as
/// merges (or binary searches of the larger list when the sizes differ a lot) without hashing.
enum SortedRows {
    /// The rows in both lists.
    static func intersection(_ a: [Int64], _ b: [Int64]) -> [Int64] {
        let (small, large) = a.count <= b.count ? (a, b) : (b, a)
        guard !small.isEmpty else { return [] }
        // Galloping pays when |small| · log|large| is well below |small| + |large|.
        if small.count * 16 < large.count {
            var out: [Int64] = []
            var lo = 0
            for x in small {
                lo = lowerBound(large, x, from: lo)
                if lo == large.count { break }
                if large[lo] == x { out.append(x) }
            }
            return out
        }
        return mergeIntersection(a, b)
    }

    /// Branch-free merge: which side advances is data-dependent and unpredictable, so it is
    /// computed, not branched on (measured 4x faster than the branching merge on 24k × 40k rows).
    private static func mergeIntersection(_ a: [Int64], _ b: [Int64]) -> [Int64] {
        [Int64](unsafeUninitializedCapacity: min(a.count, b.count)) { out, count in
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    var i = 0, j = 0, k = 0
                    while i < a.count, j < b.count {
                        let x = a[i], y = b[j]
                        out[k] = x
                        k &+= x == y ? 1 : 0
                        i &+= x <= y ? 1 : 0
                        j &+= y <= x ? 1 : 0
                    }
                    count = k
                }
            }
        }
    }

    /// The rows in every list (at least one), intersected smallest first.
    static func intersection(of lists: [[Int64]]) -> [Int64] {
        let sorted = lists.sorted { $0.count < $1.count }
        var rows = sorted[0]
        for list in sorted.dropFirst() where !rows.isEmpty { rows = intersection(rows, list) }
        return rows
    }

    /// The rows in any of the lists.
    static func union(_ lists: [[Int64]]) -> [Int64] {
        switch lists.count {
        case 0: []
        case 1: lists[0]
        default: Array(Set(lists.joined())).sorted()
        }
    }

    /// Inserts `row` keeping the order (an append when it is the largest, the common case).
    static func insert(_ row: Int64, into list: inout [Int64]) {
        if let last = list.last, last >= row {
            let i = lowerBound(list, row, from: 0)
            if i < list.count, list[i] == row { return }
            list.insert(row, at: i)
        } else {
            list.append(row)
        }
    }

    /// Removes `row` if present.
    static func remove(_ row: Int64, from list: inout [Int64]) {
        let i = lowerBound(list, row, from: 0)
        if i < list.count, list[i] == row { list.remove(at: i) }
    }

    /// The first index at or after `start` whose row is not below `x`.
    static func lowerBound(_ list: [Int64], _ x: Int64, from start: Int) -> Int {
        var lo = start, hi = list.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if list[mid] < x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
