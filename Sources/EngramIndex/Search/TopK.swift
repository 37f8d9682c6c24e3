/// The `k` best (smallest-distance) candidates seen so far, in a bounded binary max-heap whose root
/// is the worst kept candidate.
///
/// Storage is borrowed from the caller (stack or a reused buffer), so a search allocates nothing
/// per candidate. Ties on distance are broken by the smaller id, which makes results deterministic.
struct TopK {
    let k: Int
    private(set) var count = 0
    private let distances: UnsafeMutablePointer<Float>
    private let ids: UnsafeMutablePointer<UInt64>

    init(k: Int, distances: UnsafeMutablePointer<Float>, ids: UnsafeMutablePointer<UInt64>) {
        self.k = k
        self.distances = distances
        self.ids = ids
    }

    /// Runs `body` with a `TopK` on temporary storage.
    static func withTemporary<R>(k: Int, _ body: (inout TopK) throws -> R) rethrows -> R {
        try withUnsafeTemporaryAllocation(of: Float.self, capacity: k) { d in
            try withUnsafeTemporaryAllocation(of: UInt64.self, capacity: k) { i in
                var top = TopK(k: k, distances: d.baseAddress!, ids: i.baseAddress!)
                return try body(&top)
            }
        }
    }

    /// The distance a candidate must beat (or tie with a smaller id) to enter.
    @inline(__always) var threshold: Float { count < k ? .infinity : distances[0] }

    @inline(__always)
    private func worse(_ a: Int, _ b: Int) -> Bool {
        distances[a] > distances[b] || (distances[a] == distances[b] && ids[a] > ids[b])
    }

    /// Offers a candidate; it is kept if it is among the `k` best so far.
    @inline(__always)
    mutating func insert(_ distance: Float, id: UInt64) {
        if count < k {
            distances[count] = distance
            ids[count] = id
            count += 1
            siftUp(count - 1)
        } else if distance < distances[0] || (distance == distances[0] && id < ids[0]) {
            distances[0] = distance
            ids[0] = id
            siftDown(0)
        }
    }

    private mutating func siftUp(_ start: Int) {
        var i = start
        while i > 0 {
            let parent = (i - 1) / 2
            guard worse(i, parent) else { return }
            swapAt(i, parent)
            i = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        while true {
            let l = 2 * i + 1, r = l + 1
            var largest = i
            if l < count && worse(l, largest) { largest = l }
            if r < count && worse(r, largest) { largest = r }
            guard largest != i else { return }
            swapAt(i, largest)
            i = largest
        }
    }

    private func swapAt(_ a: Int, _ b: Int) {
        swap(&distances[a], &distances[b])
        swap(&ids[a], &ids[b])
    }

    /// The kept (distance, id) pairs, best first.
    func sorted() -> [(Float, UInt64)] {
        var out = (0..<count).map { (distances[$0], ids[$0]) }
        out.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
        return out
    }

    /// Whether `id` is kept. - Complexity: O(k).
    func contains(_ id: UInt64) -> Bool {
        for i in 0..<count where ids[i] == id { return true }
        return false
    }

    /// The kept candidates, best first, with scores converted for `metric`, appended to `out`
    /// (which allocates only when it must grow).
    mutating func drainResults(metric: Metric, appendingTo out: inout [SearchResult]) {
        let start = out.count
        out.append(contentsOf: repeatElement(SearchResult(id: 0, score: 0), count: count))
        out.withUnsafeMutableBufferPointer { out in
            drainWorstFirst { out[start + $0] = SearchResult(id: $2, score: metric.score(fromDistance: $1)) }
        }
    }

    /// The kept candidates, best first, with scores converted for `metric`, taken out of the heap:
    /// the result array is the one allocation.
    mutating func drainResults(metric: Metric) -> [SearchResult] {
        drainResults { SearchResult(id: $1, score: metric.score(fromDistance: $0)) }
    }

    /// The kept candidates, best first, each made into a result by `result(distance, id)`, taken
    /// out of the heap: the result array is the one allocation.
    mutating func drainResults(_ result: (Float, UInt64) -> SearchResult) -> [SearchResult] {
        let n = count
        return [SearchResult](unsafeUninitializedCapacity: n) { out, initialized in
            drainWorstFirst { (out.baseAddress! + $0).initialize(to: result($1, $2)) }
            initialized = n
        }
    }

    /// Empties the heap worst first, calling `body(position, distance, id)` with each candidate's
    /// place in best-first order (counting down from the last).
    private mutating func drainWorstFirst(_ body: (Int, Float, UInt64) -> Void) {
        while count > 0 {
            count -= 1
            body(count, distances[0], ids[0])
            if count > 0 {
                distances[0] = distances[count]
                ids[0] = ids[count]
                siftDown(0)
            }
        }
    }
}
