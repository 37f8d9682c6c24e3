/// Set operations on ascending, duplicate-free row lists: a partition's rows and posting lists.
///
/// Rows are assigned in increasing order, so appends keep a list sorted, and intersections run as
/// merges (or binary searches of the larger list when the sizes differ a lot) without hashing.
enum SortedRows {
    /// A list as the set operations take it: a snapshot's shared list read in place, or a list
    /// computed for one query.
    enum List {
        case shared(SharedArray<Int64>)
        case computed([Int64])

        var count: Int {
            switch self {
            case let .shared(list): list.count
            case let .computed(list): list.count
            }
        }

        func withRows<R>(_ body: (UnsafeBufferPointer<Int64>) throws -> R) rethrows -> R {
            switch self {
            case let .shared(list): try list.withUnsafeBufferPointer(body)
            case let .computed(list): try list.withUnsafeBufferPointer(body)
            }
        }

        var rows: [Int64] { withRows(Array.init) }
    }

    /// The rows in every list (at least one), intersected smallest first.
    static func intersection(of lists: [List]) -> [Int64] {
        let sorted = lists.sorted { $0.count < $1.count }
        guard sorted.count > 1 else { return sorted[0].rows }
        var rows = sorted[0].withRows { a in sorted[1].withRows { b in intersection(a, b) } }
        for list in sorted.dropFirst(2) where !rows.isEmpty {
            rows = rows.withUnsafeBufferPointer { a in list.withRows { b in intersection(a, b) } }
        }
        return rows
    }

    /// The rows in both lists.
    static func intersection(_ a: UnsafeBufferPointer<Int64>, _ b: UnsafeBufferPointer<Int64>) -> [Int64] {
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
    private static func mergeIntersection(_ a: UnsafeBufferPointer<Int64>, _ b: UnsafeBufferPointer<Int64>) -> [Int64] {
        [Int64](unsafeUninitializedCapacity: min(a.count, b.count)) { out, count in
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

    /// The rows in any of the lists.
    static func union(_ lists: [List]) -> [Int64] {
        switch lists.count {
        case 0: []
        case 1: lists[0].rows
        default: Array(Set(lists.flatMap(\.rows))).sorted()
        }
    }

    /// The rows of `list` that are not in `removed` (both ascending).
    static func subtracting(_ removed: [Int64], from list: UnsafeBufferPointer<Int64>) -> [Int64] {
        var out: [Int64] = []
        out.reserveCapacity(list.count)
        var j = 0
        for x in list {
            while j < removed.count, removed[j] < x { j += 1 }
            if j < removed.count, removed[j] == x { continue }
            out.append(x)
        }
        return out
    }

    /// The first index at or after `start` whose row is not below `x`.
    static func lowerBound(_ list: UnsafeBufferPointer<Int64>, _ x: Int64, from start: Int = 0) -> Int {
        var lo = start, hi = list.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if list[mid] < x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
