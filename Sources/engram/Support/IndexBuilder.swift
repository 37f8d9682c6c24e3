import EngramIndex

/// Builds the index a command asks for, with a progress bar for HNSW.
enum IndexBuilder {
    static func build(
        _ kind: IndexKind, _ base: VectorMatrix, ids: [UInt64]? = nil, metric: Metric, m: Int, efConstruction: Int, threads: Int
    ) throws -> any VectorIndex {
        let ids = ids ?? (0..<UInt64(base.count)).map { $0 }
        switch kind {
        case .flat:
            let flat = try FlatIndex(dimension: base.dimension, metric: metric)
            try flat.add(base, ids: ids)
            return flat
        case .hnsw:
            let hnsw = try HNSWIndex(dimension: base.dimension, metric: metric,
                                     parameters: HNSWParameters(m: m, efConstruction: efConstruction, capacity: base.count))
            let bar = Progress.Bar("building hnsw", total: base.count)
            try hnsw.add(base, ids: ids, threads: threads) { bar.update($0) }
            return hnsw
        }
    }

    /// How an index will run a filtered search (HNSW's planner; a flat index always scans).
    static func plan(_ index: any VectorIndex, for filter: SearchFilter, ef: Int?) -> String {
        (index as? HNSWIndex)?.plan(for: filter, ef: ef ?? 64).rawValue ?? "flatScan"
    }
}
