import CEngramKernels
import EngramSupport

/// Per-search working memory, pooled so that a search allocates nothing: a generation-stamped
/// visited set and the two heaps of the best-first search.
///
/// Its stored properties skip Swift's dynamic exclusivity checks (`@exclusivity(unchecked)`): one
/// search at a time owns a scratch, and on 100-d vectors those checks' runtime calls
/// (`swift_beginAccess`/`endAccess`, a thread-local access set) took ~4.5% of search time.
final class SearchScratch: @unchecked Sendable {  // used by one search at a time, handed over through ScratchPool's mutex
    /// visited[slot] == stamp means visited in the current search; bumping the stamp clears the set
    /// in O(1). On wrap-around the tags are zeroed once.
    @exclusivity(unchecked) private var visited: UnsafeMutablePointer<UInt16>
    @exclusivity(unchecked) private var visitedCapacity: Int
    @exclusivity(unchecked) private var stamp: UInt16 = 0
    /// Slots at or past this (nodes added after the search began, or links in a corrupted file)
    /// are never visited.
    @exclusivity(unchecked) private(set) var bound = 0
    @exclusivity(unchecked) var candidates = DistanceHeap(minHeap: true)
    @exclusivity(unchecked) var results = DistanceHeap(minHeap: false)

    init(capacity: Int) {
        visitedCapacity = max(capacity, 1024)
        visited = .allocate(capacity: visitedCapacity)
        visited.initialize(repeating: 0, count: visitedCapacity)
    }

    deinit {
        visited.deallocate()
        codeBuffer?.deallocate()
        gathered.deallocate()
        dots.deallocate()
        distances.deallocate()
        candidates.deallocate()
        results.deallocate()
    }

    /// Starts a new search over `nodeCount` nodes.
    func begin(nodeCount: Int) {
        if nodeCount > visitedCapacity {
            visited.deallocate()
            visitedCapacity = max(nodeCount, visitedCapacity * 2)
            visited = .allocate(capacity: visitedCapacity)
            visited.initialize(repeating: 0, count: visitedCapacity)
            stamp = 0
        }
        stamp &+= 1
        if stamp == 0 {
            visited.update(repeating: 0, count: visitedCapacity)
            stamp = 1
        }
        bound = nodeCount
        candidates.removeAll()
        results.removeAll()
    }

    /// A buffer of at least `count` bytes for the query's code (kept between searches).
    func codeBytes(_ count: Int) -> UnsafeMutablePointer<Int8> {
        if count > codeCapacity {
            codeBuffer?.deallocate()
            codeBuffer = .allocate(capacity: count)
            codeCapacity = count
        }
        return codeBuffer!
    }
    @exclusivity(unchecked) private var codeBuffer: UnsafeMutablePointer<Int8>?
    @exclusivity(unchecked) private var codeCapacity = 0

    /// Marks `slot` visited; returns whether it was new. Slots at or past ``bound`` are reported
    /// as visited, so they are skipped.
    @inline(__always)
    func visit(_ slot: UInt32) -> Bool {
        let i = Int(slot)
        guard i < bound, visited[i] != stamp else { return false }
        visited[i] = stamp
        return true
    }

    /// The not-yet-visited links of a list `[count, links…]`, marked visited, in a reused buffer.
    @inline(__always)
    func gather(_ list: UnsafePointer<UInt32>, count n: Int) -> UnsafeBufferPointer<UInt32> {
        if n > gatherCapacity {
            for buffer in [UnsafeMutableRawPointer(gathered), UnsafeMutableRawPointer(dots), UnsafeMutableRawPointer(distances)] { buffer.deallocate() }
            gatherCapacity = n
            (gathered, dots, distances) = (.allocate(capacity: n), .allocate(capacity: n), .allocate(capacity: n))
        }
        // Branch-free: whether a neighbour was visited is a coin toss to the branch predictor,
        // so every slot is written and the count advances by the test's outcome.
        let (visited, stamp, gathered, bound) = (visited, stamp, gathered, bound)
        var found = 0
        for i in stride(from: 1, through: n, by: 1) {
            let slot = engram_load_acquire_u32(list + i)
            guard Int(slot) < bound else { continue }
            let fresh = visited[Int(slot)] != stamp
            visited[Int(slot)] = stamp
            gathered[found] = slot
            found &+= fresh ? 1 : 0
        }
        return UnsafeBufferPointer(start: gathered, count: found)
    }
    @exclusivity(unchecked) private var gathered = UnsafeMutablePointer<UInt32>.allocate(capacity: 64)
    @exclusivity(unchecked) private var gatherCapacity = 64
    /// The gathered nodes' integer code dots and distances (as many as ``gather(_:count:)`` holds).
    @exclusivity(unchecked) private(set) var dots = UnsafeMutablePointer<Int32>.allocate(capacity: 64)
    @exclusivity(unchecked) private(set) var distances = UnsafeMutablePointer<Float>.allocate(capacity: 64)

    @inline(__always)
    func prefetchVisited(_ slot: UInt32) {
        if Int(slot) < visitedCapacity { engram_prefetch(visited + Int(slot)) }
    }
}

/// A stack of reusable ``SearchScratch`` objects shared by the threads searching one graph.
final class ScratchPool: Sendable {
    private let free = Locked<[SearchScratch]>([])

    func withScratch<R>(nodeCount: Int, _ body: (SearchScratch) throws -> R) rethrows -> R {
        let scratch = free.withLock { $0.popLast() } ?? SearchScratch(capacity: nodeCount)
        defer { free.withLock { $0.append(scratch) } }
        scratch.begin(nodeCount: nodeCount)
        return try body(scratch)
    }
}

/// A binary heap of (distance, slot) on storage it owns and reuses across searches.
struct DistanceHeap {
    private(set) var distances: UnsafeMutablePointer<Float>
    private(set) var slots: UnsafeMutablePointer<UInt32>
    private var capacity = 64
    private(set) var count = 0
    /// true: the root is the smallest distance; false: the largest.
    let minHeap: Bool

    init(minHeap: Bool) {
        self.minHeap = minHeap
        distances = .allocate(capacity: 64)
        slots = .allocate(capacity: 64)
    }

    // Owned by one SearchScratch for its whole life; freed with it.
    func deallocate() {
        distances.deallocate()
        slots.deallocate()
    }

    var isEmpty: Bool { count == 0 }
    @inline(__always) var topDistance: Float { distances[0] }
    @inline(__always) var topSlot: UInt32 { slots[0] }

    mutating func removeAll() { count = 0 }

    @inline(__always)
    private func above(_ a: Float, _ b: Float) -> Bool { minHeap ? a < b : a > b }

    mutating func push(_ d: Float, _ s: UInt32) {
        if count == capacity { grow() }
        var i = count
        count += 1
        while i > 0 {
            let parent = (i - 1) >> 1
            guard above(d, distances[parent]) else { break }
            distances[i] = distances[parent]
            slots[i] = slots[parent]
            i = parent
        }
        distances[i] = d
        slots[i] = s
    }

    @discardableResult
    mutating func pop() -> (Float, UInt32) {
        let top = (distances[0], slots[0])
        count -= 1
        if count > 0 { siftDown(distances[count], slots[count]) }
        return top
    }

    /// Replaces the root with `(d, s)`: a pop and a push in one sift (the bounded result heap's
    /// step: a push and then a pop sift twice).
    /// - Precondition: not empty.
    mutating func replaceTop(_ d: Float, _ s: UInt32) { siftDown(d, s) }

    /// Puts `(d, s)` at the root and sifts it down.
    @inline(__always)
    private mutating func siftDown(_ d: Float, _ s: UInt32) {
        var i = 0
        while true {
            let l = 2 * i + 1
            guard l < count else { break }
            let r = l + 1
            let c = r < count && above(distances[r], distances[l]) ? r : l
            guard above(distances[c], d) else { break }
            distances[i] = distances[c]
            slots[i] = slots[c]
            i = c
        }
        distances[i] = d
        slots[i] = s
    }

    private mutating func grow() {
        let newCapacity = capacity * 2
        let d = UnsafeMutablePointer<Float>.allocate(capacity: newCapacity)
        let s = UnsafeMutablePointer<UInt32>.allocate(capacity: newCapacity)
        d.update(from: distances, count: count)
        s.update(from: slots, count: count)
        distances.deallocate()
        slots.deallocate()
        distances = d
        slots = s
        capacity = newCapacity
    }
}
