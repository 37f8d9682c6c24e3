extension HNSWGraph {
    /// A writable in-memory copy of `source` (typically a graph mapped from a file).
    convenience init(copying source: HNSWGraph, parameters: HNSWParameters) throws {
        let (n, upperUsed) = source.allocation.withLock { ($0.nodeCount, $0.upperUsed) }
        var p = parameters
        p.capacity = max(parameters.capacity ?? VectorStorage.defaultCapacity(dimension: source.dimension), n)
        p.m = source.m
        p.efConstruction = source.efConstruction
        p.seed = source.seed
        p.halfPrecisionTraversal = source.halfVectors != nil
        p.int8Traversal = source.codeStorage != nil
        try self.init(dimension: source.dimension, metric: source.metric, parameters: p, generation: source.generation)
        try vectors.reserve(rows: n)
        try level0.reserve(n * (1 + maxM0))
        try upperLinks.reserve(upperUsed)
        for array in [levels, nodeLocks, tombstones] as [ReservedArray<UInt8>] { try array.reserve(n) }
        try upperOffset.reserve(n)
        try externalIDs.reserve(n)
        vectors.base.update(from: source.vectors.base, count: n * vectors.stride)
        level0.base.update(from: source.level0.base, count: n * (1 + maxM0))
        upperLinks.base.update(from: source.upperLinks.base, count: upperUsed)
        upperOffset.base.update(from: source.upperOffset.base, count: n)
        levels.base.update(from: source.levels.base, count: n)
        tombstones.base.update(from: source.tombstones.base, count: n)
        externalIDs.base.update(from: source.externalIDs.base, count: n)
        if let halfVectors, let sourceHalf = source.halfVectors {
            try halfVectors.reserve(n * vectors.stride)
            halfVectors.base.update(from: sourceHalf.base, count: n * vectors.stride)
        }
        if let codeStorage, let codeNorms, let sourceCodes = source.codeStorage, let sourceNorms = source.codeNorms,
           source.codesEnabled.load(ordering: .acquiring) {
            try codeStorage.reserve(n * dimension)
            try codeNorms.reserve(n)
            codeStorage.base.update(from: sourceCodes.base, count: n * dimension)
            codeNorms.base.update(from: sourceNorms.base, count: n)
            codesEnabled.store(true, ordering: .releasing)
        }
        // Fitted but turned off stays off: the copy does not fit again.
        if codeStorage != nil, let fitted = source.quantizer.value { quantizer.publish(fitted) }
        let state = source.withIDMap { $0 }
        allocation.withLock { $0 = state }
        entry.store(source.entry.load(ordering: .acquiring), ordering: .releasing)
    }

    /// The header fields and the sections of this graph, for saving. The caller excludes writers.
    func withSections<R>(_ body: (IndexFileHeader, [(IndexFileHeader.SectionID, UnsafeRawBufferPointer)]) throws -> R) rethrows -> R {
        let a = allocation.withLock { $0 }
        let top = entryPoint
        var header = IndexFileHeader(kind: .hnsw, metric: metric, dimension: dimension, slotCount: a.nodeCount, liveCount: a.liveCount)
        header.m = m
        header.efConstruction = efConstruction
        header.entrySlot = top?.slot ?? .max
        header.maxLevel = top?.level ?? 0
        header.seed = seed
        header.upperWords = a.upperUsed
        let codes = codesEnabled.load(ordering: .acquiring) ? quantizer.value : nil
        header.flags = (halfVectors == nil ? 0 : IndexFileHeader.halfVectorsFlag) | (codes == nil ? 0 : IndexFileHeader.codesFlag)
        let n = a.nodeCount, stride = vectors.stride
        let erased = a.tombstoneCount == 0 ? [:] : standIns(nodeCount: n)
        return try vectors.rows.withSavedRows(count: n, stride: stride, replacing: erased) { vectorBytes in
            func sections(_ half: UnsafeRawBufferPointer?) throws -> R {
                try withCodeSections(codes, count: n, replacing: erased) { codeSections in
                    try body(header, [
                        (.vectors, vectorBytes),
                        (.ids, externalIDs.bytes(count: n)),
                        (.tombstones, tombstones.bytes(count: n)),
                        (.level0Links, level0.bytes(count: n * (1 + maxM0))),
                        (.upperOffsets, upperOffset.bytes(count: n)),
                        (.levels, levels.bytes(count: n)),
                        (.upperLinks, upperLinks.bytes(count: a.upperUsed)),
                    ] + (half.map { [(.halfVectors, $0)] } ?? []) + codeSections)
                }
            }
            guard let halfVectors else { return try sections(nil) }
            return try halfVectors.withSavedRows(count: n, stride: stride, replacing: erased) { try sections($0) }
        }
    }

    /// The code sections (codes, norms, the quantizer's table) when `quantizer` is given; a removed
    /// node's code and norm are its stand-in's, as its vector is (see `standIns`).
    private func withCodeSections<R>(_ quantizer: ScalarQuantizer?, count n: Int, replacing erased: [Int: Int?],
                                     _ body: ([(IndexFileHeader.SectionID, UnsafeRawBufferPointer)]) throws -> R) rethrows -> R {
        guard let quantizer, let codeStorage, let codeNorms else { return try body([]) }
        let table = quantizer.centers + quantizer.scales + [quantizer.errorBound]
        return try codeStorage.withSavedRows(count: n, stride: dimension, replacing: erased) { codes in
            try codeNorms.withSavedRows(count: n, stride: 1, replacing: erased) { norms in
                try table.withUnsafeBytes { try body([(.codes, codes), (.codeNorms, norms), (.codeQuantizer, $0)]) }
            }
        }
    }

    /// What a saved file holds in place of each removed node's vector: the vector of its first
    /// live neighbor on level 0 (zeros when it has none). The node stays in the graph, since
    /// searches route through it, so its vector must stay near where it was; a neighbor's is, and
    /// it is a copy of a vector the file holds anyway, so nothing of the removed one is written.
    /// Chosen afresh at every save, from the nodes live then.
    private func standIns(nodeCount n: Int) -> [Int: Int?] {
        var chosen: [Int: Int?] = [:]
        for slot in 0..<n where tombstones.base[slot] != 0 {
            let list = links(UInt32(slot), level: 0)
            let neighbors = UnsafeBufferPointer(start: list + 1, count: linkCount(list, level: 0))
            // updateValue: assigning a nil stand-in through the subscript would drop the entry.
            chosen.updateValue(neighbors.first { Int($0) < n && tombstones.base[Int($0)] == 0 }.map(Int.init), forKey: slot)
        }
        return chosen
    }

    /// Maps the sections a search reads (see ``HNSWIndex/warmUp()``), most-read first: the walk's
    /// links and vectors, then the full-precision rows only its best candidates are re-scored on.
    func populateSearchedSections() {
        upperOffset.populate()
        upperLinks.populate()
        level0.populate()
        tombstones.populate()
        externalIDs.populate()
        halfVectors?.populate()
        codeStorage?.populate()
        codeNorms?.populate()
        vectors.rows.populate()
    }
}
