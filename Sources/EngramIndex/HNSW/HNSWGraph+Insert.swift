import CEngramKernels

extension HNSWGraph {
    /// Allocates a slot for `id` and writes its vector and level; the node is not yet linked.
    /// An existing node with the same id is tombstoned (vectors are never rewritten in place, so
    /// concurrent searches never read a torn vector). Returns the new slot and its level.
    func allocate(_ vector: UnsafePointer<Float>, id: UInt64) throws -> (UInt32, Int) {
        try allocation.withLock { a in
            let slot = a.nodeCount
            guard slot < capacity else { throw EngramError.capacityExceeded(limit: capacity) }
            let level = randomLevel(for: slot)
            let upperWords = level * (1 + m)
            try vectors.reserve(rows: slot + 1)
            try level0.reserve((slot + 1) * (1 + maxM0))
            for array in [levels, nodeLocks, tombstones] as [ReservedArray<UInt8>] { try array.reserve(slot + 1) }
            try upperOffset.reserve(slot + 1)
            try externalIDs.reserve(slot + 1)
            try halfVectors?.reserve((slot + 1) * vectors.stride)
            try codeStorage?.reserve((slot + 1) * dimension)
            try codeNorms?.reserve(slot + 1)
            try upperLinks.reserve(a.upperUsed + upperWords)
            vectors.row(slot).update(from: vector, count: dimension)
            if let halfVectors {
                let half = halfVectors.base + slot * vectors.stride
                engram_f32_to_f16(vector, half, dimension)
                if !halfIsFaithful(vector, half) { halfEnabled.store(false, ordering: .relaxed) }
            }
            if let quantizer = quantizer.value, !encodeCode(slot, with: quantizer) { codesEnabled.store(false, ordering: .relaxed) }
            levels.base[slot] = UInt8(level)
            upperOffset.base[slot] = UInt32(a.upperUsed)
            externalIDs.base[slot] = id
            a.upperUsed += upperWords
            a.nodeCount += 1
            a.layoutVersion &+= 1
            if let old = a.slotOfID.updateValue(UInt32(slot), forKey: id) {
                engram_store_release_u8(tombstones.base + Int(old), 1)
                a.tombstoneCount += 1
            } else {
                a.liveCount += 1
            }
            return (UInt32(slot), level)
        }
    }

    /// Links an allocated node into the graph (Malkov–Yashunin insertion with the heuristic neighbour
    /// selection). Safe to run concurrently with other inserts and with searches.
    func link(_ slot: UInt32, level: Int) {
        if let top = entryPoint, level <= top.level {
            link(slot, level: level, from: top)
            return
        }
        // This node may raise the top level: such inserts are serialized, so that each starts from
        // the current top and publishes itself as the entry point only once fully linked.
        entryLock.withLock { _ in
            guard let top = entryPoint else {
                entry.store(UInt64(level) << 32 | UInt64(slot), ordering: .releasing)
                return
            }
            link(slot, level: level, from: top)
            if level > top.level { entry.store(UInt64(level) << 32 | UInt64(slot), ordering: .releasing) }
        }
    }

    private func link(_ slot: UInt32, level: Int, from top: (slot: UInt32, level: Int)) {
        // Two phases: first the new node's own lists on every level, then the reverse links that make
        // it reachable. A search can therefore only ever arrive at a node whose lists are complete
        // (reverse-linking level by level would expose it on an upper level while its level-0 list is
        // still empty, and a search descending onto it would find almost nothing).
        var chosen: [(level: Int, neighbors: [(Float, UInt32)])] = []
        scratch.withScratch(nodeCount: nodeCount) { scratch in
            // The walk runs on what queries walk (the codes once fitted); the candidates it finds
            // are re-scored exactly, so the links are chosen on f32 (or f16) distances.
            let query = traversalQuery(vector(slot), scratch: scratch)
            var (entrySlot, entryDistance) = descend(query, from: top, to: level, bound: nodeCount)
            for l in stride(from: min(level, top.level), through: 0, by: -1) {
                scratch.begin(nodeCount: nodeCount)
                searchLayer(query, entry: entrySlot, entryDistance: entryDistance, ef: efConstruction, level: l,
                            admission: .all, scratch: scratch)
                var found = neighbourCandidates(scratch, of: slot, exact: query.code != nil)
                if let nearest = found.first { (entrySlot, entryDistance) = (nearest.1, traversalDistance(query, nearest.1)) }
                if l == 0 { checkHalfResolution(slot, neighbours: found) }
                keepDiverse(&found, limit: m)
                setLinks(slot, level: l, to: found)
                chosen.append((l, found))
            }
        }
        for (l, neighbors) in chosen {
            for (_, neighbor) in neighbors { addLink(from: neighbor, to: slot, level: l) }
        }
    }

    /// The heuristic of Malkov & Yashunin (algorithm 4): walking candidates from nearest, keep one
    /// only if it is closer to the base node than to every neighbour already kept. This spreads links
    /// across directions instead of clustering them. `candidates` (distance to the base node, slot)
    /// must be sorted nearest first; the kept ones are compacted to its front, in place.
    func keepDiverse(_ candidates: inout [(Float, UInt32)], limit: Int) {
        guard candidates.count > limit else { return }
        var kept = 0
        for i in candidates.indices where kept < limit {
            let candidate = candidates[i]
            var diverse = true
            for j in 0..<kept where distance(between: candidate.1, candidates[j].1) < candidate.0 {
                diverse = false
                break
            }
            if diverse {
                candidates[kept] = candidate
                kept += 1
            }
        }
        candidates.removeLast(candidates.count - kept)
    }

    /// Sets a new node's list on `level`. Links already there (only possible if the node were
    /// reachable early) are merged, not overwritten.
    private func setLinks(_ slot: UInt32, level: Int, to neighbors: [(Float, UInt32)]) {
        let limit = level == 0 ? maxM0 : m
        withNodeLock(slot) {
            let list = links(slot, level: level)
            let existing = Int(list[0])
            guard existing > 0 else { return writeList(list, neighbors) }
            var merged = neighbors
            for i in 1...existing where !merged.contains(where: { $0.1 == list[i] }) {
                merged.append((distance(between: slot, list[i]), list[i]))
            }
            merged.sort { $0.0 < $1.0 }
            keepDiverse(&merged, limit: limit)
            writeList(list, merged)
        }
    }

    /// Writes a list's links before its count, each with release order, for lock-free readers.
    private func writeList(_ list: UnsafeMutablePointer<UInt32>, _ neighbors: [(Float, UInt32)]) {
        for (i, n) in neighbors.enumerated() { engram_store_release_u32(list + 1 + i, n.1) }
        engram_store_release_u32(list, UInt32(neighbors.count))
    }

    /// Adds the reverse link `from → to`; a full list is re-pruned with the same heuristic.
    private func addLink(from node: UInt32, to new: UInt32, level: Int) {
        let limit = level == 0 ? maxM0 : m
        withNodeLock(node) {
            let list = links(node, level: level)
            let n = Int(list[0])
            if n < limit {
                engram_store_release_u32(list + 1 + n, new)
                engram_store_release_u32(list, UInt32(n + 1))
                return
            }
            var candidates = [(distance(between: node, new), new)]
            candidates.reserveCapacity(n + 1)
            for i in 1...n { candidates.append((distance(between: node, list[i]), list[i])) }
            candidates.sort { $0.0 < $1.0 }
            keepDiverse(&candidates, limit: limit)
            writeList(list, candidates)
        }
    }

    /// Counts `slot` as one f16 cannot tell from its nearest neighbours — its rounding error
    /// (squared) above 2⁻¹² of the squared distance to the nearest distinct neighbour, so walk
    /// distances near it could be off by several percent — and turns the f16 walk off once more
    /// than one node in 64 is such. That happens to data far from the origin compared with its
    /// spread (f16 keeps 11 bits of each coordinate, not of the differences: points at 100 ± 0.1
    /// reached recall 0.86 on the f16 walk); a few near-duplicates alone do not turn it off.
    private func checkHalfResolution(_ slot: UInt32, neighbours: [(Float, UInt32)]) {
        guard let halfVectors else { return }
        let l2 = DistanceKernels.active.function(for: .l2)
        let x = vectors.row(Int(slot))
        guard let gap = neighbours.prefix(4).lazy.map({ l2(x, self.vectors.row(Int($0.1)), self.dimension) }).first(where: { $0 > 0 }) else { return }
        let error = DistanceKernels.active.halfFunction(for: .l2)(x, halfVectors.base + Int(slot) &* vectors.stride, dimension)
        guard !(error <= gap * 0x1p-12) else { return }
        let unresolved = halfUnresolved.add(1, ordering: .relaxed).newValue
        if unresolved >= 8, unresolved * 64 > Int(slot) + 1 { halfEnabled.store(false, ordering: .relaxed) }
    }
}
