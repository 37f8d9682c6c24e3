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
        var lists = lists, rows: [Int64] = []
        intersection(of: &lists, appendingTo: &rows)
        return rows
    }

    /// Appends to `out` the rows in every list of `lists` (at least one), intersected smallest
    /// first (`lists` is reordered). Only the first intersection writes new rows; later ones
    /// shrink them in place, so a search with reused buffers allocates nothing here.
    static func intersection(of lists: inout [List], appendingTo out: inout [Int64]) {
        lists.sort { $0.count < $1.count }
        let start = out.count
        guard lists.count > 1 else { return lists[0].withRows { out.append(contentsOf: $0) } }
        out.reserveCapacity(start + lists[0].count)
        lists[0].withRows { a in lists[1].withRows { b in appendIntersection(a, b, to: &out) } }
        for list in lists.dropFirst(2) where out.count > start {
            let kept = out.withUnsafeMutableBufferPointer { rows in
                list.withRows { b in intersectInPlace(UnsafeMutableBufferPointer(rebasing: rows[start...]), b) }
            }
            out.removeLast(out.count - start - kept)
        }
    }

    /// Appends the rows in both lists to `out`.
    private static func appendIntersection(_ a: UnsafeBufferPointer<Int64>, _ b: UnsafeBufferPointer<Int64>, to out: inout [Int64]) {
        let (small, large) = a.count <= b.count ? (a, b) : (b, a)
        guard !small.isEmpty else { return }
        let start = out.count
        // The smaller list copied, then shrunk in place to the rows the larger one has too.
        out.append(contentsOf: small)
        let kept = out.withUnsafeMutableBufferPointer { rows in intersectInPlace(UnsafeMutableBufferPointer(rebasing: rows[start...]), large) }
        out.removeLast(out.count - start - kept)
    }

    /// Keeps at the front of `rows` those also in `other` (both ascending) and returns how many.
    /// Writes never overtake reads, so the rows can be their own output.
    private static func intersectInPlace(_ rows: UnsafeMutableBufferPointer<Int64>, _ other: UnsafeBufferPointer<Int64>) -> Int {
        guard !rows.isEmpty, !other.isEmpty else { return 0 }
        // Galloping pays when |rows| · log|other| is well below |rows| + |other|.
        guard rows.count * 16 < other.count else { return mergeIntersection(rows, other) }
        var k = 0, lo = 0
        for i in 0..<rows.count {
            let x = rows[i]
            lo = lowerBound(other, x, from: lo)
            if lo == other.count { break }
            if other[lo] == x { rows[k] = x; k += 1 }
        }
        return k
    }

    /// Branch-free merge: which side advances is data-dependent and unpredictable, so it is
    /// computed, not branched on (measured 4x faster than the branching merge on 24k × 40k rows).
    private static func mergeIntersection(_ a: UnsafeMutableBufferPointer<Int64>, _ b: UnsafeBufferPointer<Int64>) -> Int {
        var i = 0, j = 0, k = 0
        while i < a.count, j < b.count {
            let x = a[i], y = b[j]
            a[k] = x
            k &+= x == y ? 1 : 0
            i &+= x <= y ? 1 : 0
            j &+= y <= x ? 1 : 0
        }
        return k
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
