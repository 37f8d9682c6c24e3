import CEngramKernels

/// Which nodes a layer search may put in its results (all nodes still guide the traversal).
enum ResultAdmission {
    /// Construction: every node, tombstoned or not, is a valid neighbour.
    case all
    /// Queries: live nodes only.
    case live
    /// Filtered queries: live nodes in the bitset.
    case allowed(Bitset)
    /// Filtered queries with a low pass rate (ACORN-style): only allowed live nodes are expanded,
    /// and a disallowed neighbour is looked through to its own neighbours (two hops), which keeps
    /// the allowed subgraph connected.
    case allowedTwoHop(Bitset)

    @inline(__always)
    func admits(_ slot: UInt32, _ graph: HNSWGraph) -> Bool {
        switch self {
        case .all: true
        case .live: !graph.isDeleted(slot)
        case let .allowed(bits), let .allowedTwoHop(bits): bits.contains(Int(slot)) && !graph.isDeleted(slot)
        }
    }
}

extension HNSWGraph {
    /// Greedy descent from the entry point through the upper levels down to `targetLevel`: returns
    /// the closest node found and its distance. Links to slots at or past `bound` are ignored.
    func descend(
        _ query: TraversalQuery, from start: (slot: UInt32, level: Int), to targetLevel: Int, bound: Int
    ) -> (UInt32, Float) {
        var current = start.slot
        var best = traversalDistance(query, current)
        var level = start.level
        while level > targetLevel {
            var improved = true
            while improved {
                improved = false
                let list = links(current, level: level)
                let n = linkCount(list, level: level)
                for i in stride(from: 1, through: n, by: 1) {
                    let candidate = engram_load_acquire_u32(list + i)
                    guard Int(candidate) < bound else { continue }
                    let d = traversalDistance(query, candidate)
                    if d < best {
                        best = d
                        current = candidate
                        improved = true
                    }
                }
            }
            level -= 1
        }
        return (current, best)
    }

    /// Best-first search of one level from `entry`, keeping the `ef` best admitted nodes in
    /// `scratch.results` (a max-heap: worst on top).
    func searchLayer(
        _ query: TraversalQuery, entry: UInt32, entryDistance: Float, ef: Int, level: Int,
        admission: ResultAdmission, scratch: SearchScratch
    ) {
        _ = scratch.visit(entry)
        scratch.candidates.push(entryDistance, entry)
        if admission.admits(entry, self) { scratch.results.push(entryDistance, entry) }
        let twoHop: Bool = if case .allowedTwoHop = admission { true } else { false }

        while !scratch.candidates.isEmpty {
            let (d, current) = scratch.candidates.pop()
            if scratch.results.count >= ef && d > scratch.results.topDistance { break }
            let list = links(current, level: level)
            let n = linkCount(list, level: level)
            if twoHop {
                for i in stride(from: 1, through: n, by: 1) {
                    let neighbor = engram_load_acquire_u32(list + i)
                    guard Int(neighbor) < scratch.bound else { continue }
                    if admission.admits(neighbor, self) {
                        consider(query, neighbor, ef: ef, level: level, admission: admission, scratch: scratch)
                    } else {
                        expandTwoHop(query, through: neighbor, ef: ef, level: level, admission: admission, scratch: scratch)
                    }
                }
                continue
            }
            // Gather the unvisited neighbours and prefetch all their vectors before computing any
            // distance, so that the cache misses overlap instead of queueing one after another.
            let fresh = scratch.gather(list, count: n)
            for j in 0..<fresh.count { prefetchTraversalRow(fresh[j], for: query) }
            traversalDistances(query, fresh, dots: scratch.dots, into: scratch.distances)
            for j in 0..<fresh.count { offer(fresh[j], distance: scratch.distances[j], ef: ef, level: level, admission: admission, scratch: scratch) }
        }
    }

    /// Offers an unvisited node (already marked visited) at distance `d` to the candidate and result heaps.
    @inline(__always)
    private func offer(_ slot: UInt32, distance d: Float, ef: Int, level: Int, admission: ResultAdmission, scratch: SearchScratch) {
        guard scratch.results.count < ef || d < scratch.results.topDistance else { return }
        scratch.candidates.push(d, slot)
        // Its links are read if it is expanded: start that miss now (+16–30% queries/s on 400k × 384,
        // a hot set 6x the L3; fetching every fresh neighbour's links with its code instead, as
        // links stored beside codes would, was 2–6% slower: Benchmarks/results/hnsw-hot-set-layout.jsonl).
        engram_prefetch_range(links(slot, level: level), (1 + maxM0) * 4)
        guard admission.admits(slot, self) else { return }
        // Full, the heap's worst is farther than d (the guard above): d takes its place, in one
        // sift instead of a push and a pop (+2–4% queries/s at 100 dimensions).
        if scratch.results.count < ef { scratch.results.push(d, slot) } else { scratch.results.replaceTop(d, slot) }
    }

    @inline(__always)
    private func consider(_ query: TraversalQuery, _ slot: UInt32, ef: Int, level: Int, admission: ResultAdmission, scratch: SearchScratch) {
        guard scratch.visit(slot) else { return }
        offer(slot, distance: traversalDistance(query, slot), ef: ef, level: level, admission: admission, scratch: scratch)
    }

    private func expandTwoHop(
        _ query: TraversalQuery, through hop: UInt32, ef: Int, level: Int, admission: ResultAdmission, scratch: SearchScratch
    ) {
        guard scratch.visit(hop) else { return }
        let list = links(hop, level: level)
        let n = linkCount(list, level: level)
        for i in stride(from: 1, through: n, by: 1) {
            let second = engram_load_acquire_u32(list + i)
            if Int(second) < scratch.bound, admission.admits(second, self) { consider(query, second, ef: ef, level: level, admission: admission, scratch: scratch) }
        }
    }

    /// The nodes a layer search kept for the new node `slot` (itself left out), nearest first (ties
    /// to the smaller slot). Read from the heap's storage and sorted once: popping
    /// `efConstruction` results one by one took ~7% of a one-thread build. When the walk ran on
    /// codes (`exact`), only the best ``exactCandidatesPerLink`` · 2m by code distance are kept,
    /// re-scored exactly and sorted again.
    func neighbourCandidates(_ scratch: SearchScratch, of slot: UInt32, exact: Bool) -> [(Float, UInt32)] {
        var found: [(Float, UInt32)] = []
        found.reserveCapacity(scratch.results.count)
        for i in 0..<scratch.results.count where scratch.results.slots[i] != slot {
            found.append((scratch.results.distances[i], scratch.results.slots[i]))
        }
        scratch.results.removeAll()
        func sort() { found.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) } }
        sort()
        guard exact else { return found }
        found.removeLast(max(0, found.count - Self.exactCandidatesPerLink * maxM0))
        for i in found.indices { found[i].0 = distance(between: slot, found[i].1) }
        sort()
        return found
    }

    /// Candidates re-scored per level-0 link when construction walks codes. The heuristic keeps
    /// near, diverse neighbours, and those lie among the nearest few by code distance too: keeping
    /// 3 · 2m of the 200 gave one-thread builds 12–19% shorter (20k × 384 MiniLM, synthetic 768,
    /// 256 and 100-d) with recall@10 at ef 16–64 within ±0.003 of re-scoring all
    /// (`Benchmarks/results/hnsw-construction-rescore.jsonl`).
    static let exactCandidatesPerLink = 3

    /// A query: descend to level 0, then search it with `ef`, admitting per `admission`; calls
    /// `body` with up to `ef` (distance, slot) pairs, best first, in temporary storage (valid in
    /// `body` only, so that a search allocates nothing but its caller's result). When the walk ran
    /// on a copy (8-bit codes or f16), the best `exact` of them are re-scored in full precision
    /// (and re-sorted) and only those are passed. `nodes` is the node count the search may visit
    /// (read once by the caller).
    func search<R>(_ vector: UnsafePointer<Float>, ef: Int, exact: Int, admission: ResultAdmission, nodes bound: Int,
                   _ body: (UnsafeMutableBufferPointer<(Float, UInt32)>) throws -> R) rethrows -> R {
        guard let start = entryPoint else { return try body(UnsafeMutableBufferPointer(start: nil, count: 0)) }
        return try scratch.withScratch(nodeCount: bound) { scratch in
            let query = traversalQuery(vector, scratch: scratch)
            let (entry, d) = descend(query, from: start, to: 0, bound: bound)
            searchLayer(query, entry: entry, entryDistance: d, ef: ef, level: 0, admission: admission, scratch: scratch)
            return try withUnsafeTemporaryAllocation(of: (Float, UInt32).self, capacity: scratch.results.count) { buffer in
                var n = buffer.count
                while !scratch.results.isEmpty {
                    n -= 1
                    buffer.initializeElement(at: n, to: scratch.results.pop())
                }
                guard query.code != nil || halfRows != nil else { return try body(buffer) }
                var found = UnsafeMutableBufferPointer(rebasing: buffer[..<min(exact, buffer.count)])
                // The f32 rows are the cold ones (read only here): start every miss at once.
                for i in found.indices { engram_prefetch_range(vectors.row(Int(found[i].1)), dimension * 4) }
                for i in found.indices { found[i].0 = distance(vector, found[i].1) }
                found.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
                return try body(found)
            }
        }
    }

    /// Exact scan of the live slots of `allowed` below `nodes`: the best `k`, each made into a
    /// result by `result(distance, slot)`, best first (ties to the smaller slot).
    func exactScan(_ query: UnsafePointer<Float>, k: Int, allowed: Bitset, nodes: Int,
                   _ result: (Float, UInt32) -> SearchResult) -> [SearchResult] {
        TopK.withTemporary(k: k) { top in
            // The heap's id field carries the slot here.
            vectors.scan(query, allowed: allowed, count: nodes, isLive: { !self.isDeleted(UInt32($0)) },
                         metric: metric, id: { UInt64($0) }, into: &top)
            return top.drainResults { result($0, UInt32($1)) }
        }
    }
}
