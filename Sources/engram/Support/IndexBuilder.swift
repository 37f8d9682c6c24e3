import ArgumentParser
import EngramIndex

/// Builds the index a command asks for, with a progress bar for HNSW.
enum IndexBuilder {
    static func build(
        _ kind: IndexKind, _ base: VectorMatrix, ids: [UInt64]? = nil, metric: Metric, m: Int, efConstruction: Int, threads: Int,
        traversal: Traversal = .auto
    ) throws -> any VectorIndex {
        let ids = ids ?? (0..<UInt64(base.count)).map { $0 }
        switch kind {
        case .flat:
            let flat = try FlatIndex(dimension: base.dimension, metric: metric)
            try flat.add(base, ids: ids)
            return flat
        case .hnsw:
            let hnsw = try HNSWIndex(dimension: base.dimension, metric: metric,
                                     parameters: traversal.applied(to: HNSWParameters(m: m, efConstruction: efConstruction, capacity: base.count)))
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

/// What queries walk an HNSW graph on (`--traversal`).
enum Traversal: String, ExpressibleByArgument, CaseIterable {
    /// The index's default (8-bit codes from 100 dimensions, construction on f16 above 128).
    case auto
    case f32, f16
    /// 8-bit codes (construction on the default).
    case int8

    func applied(to parameters: HNSWParameters) -> HNSWParameters {
        var p = parameters
        switch self {
        case .auto: break
        case .f32: (p.halfPrecisionTraversal, p.int8Traversal) = (false, false)
        case .f16: (p.halfPrecisionTraversal, p.int8Traversal) = (true, false)
        case .int8: p.int8Traversal = true
        }
        return p
    }
}
