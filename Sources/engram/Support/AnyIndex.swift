import EngramIndex

/// A flat or HNSW index behind one set of calls, for the commands that take either.
enum AnyIndex: Sendable {
    case flat(FlatIndex)
    case hnsw(HNSWIndex)

    /// Opens an index file the way library users do (HNSW mapped in place, flat loaded).
    static func open(_ path: String) throws -> AnyIndex {
        switch try IndexFile.inspect(path).kind {
        case .flat: .flat(try FlatIndex.open(path))
        case .hnsw: .hnsw(try HNSWIndex.open(path))
        }
    }

    func save(to path: String) throws {
        switch self {
        case let .flat(index): try index.save(to: path)
        case let .hnsw(index): try index.save(to: path)
        }
    }

    var kind: IndexKind {
        switch self {
        case .flat: .flat
        case .hnsw: .hnsw
        }
    }

    var count: Int {
        switch self {
        case let .flat(index): index.count
        case let .hnsw(index): index.count
        }
    }

    static func build(
        _ kind: IndexKind, _ base: VectorMatrix, ids: [UInt64]? = nil, metric: Metric, m: Int, efConstruction: Int, threads: Int
    ) throws -> AnyIndex {
        let ids = ids ?? (0..<UInt64(base.count)).map { $0 }
        switch kind {
        case .flat:
            let flat = try FlatIndex(dimension: base.dimension, metric: metric)
            try flat.add(base, ids: ids)
            return .flat(flat)
        case .hnsw:
            let hnsw = try HNSWIndex(dimension: base.dimension, metric: metric,
                                     parameters: HNSWParameters(m: m, efConstruction: efConstruction, capacity: base.count))
            let bar = Progress.Bar("building hnsw", total: base.count)
            try hnsw.add(base, ids: ids, threads: threads) { bar.update($0) }
            return .hnsw(hnsw)
        }
    }

    func search(_ query: [Float], k: Int, ef: Int?, filter: SearchFilter?) throws -> [SearchResult] {
        switch self {
        case let .flat(index): try index.search(query, k: k, filter: filter)
        case let .hnsw(index): try index.search(query, k: k, ef: ef, filter: filter)
        }
    }

    func searchBatch(_ queries: VectorMatrix, k: Int, threads: Int) throws -> [[SearchResult]] {
        switch self {
        case let .flat(index): return try index.search(batch: queries, k: k, threads: threads)
        case .hnsw: throw EngramError.invalidParameter("--batch is for the flat index")
        }
    }

    func filter(allowing ids: [UInt64]) -> SearchFilter {
        switch self {
        case let .flat(index): index.filter(allowing: ids)
        case let .hnsw(index): index.filter(allowing: ids)
        }
    }

    func plan(for filter: SearchFilter, ef: Int?) -> String {
        switch self {
        case .flat: "flatScan"
        case let .hnsw(index): index.plan(for: filter, ef: ef ?? 64).rawValue
        }
    }
}

/// One line of a filtered benchmark file.
struct FilterSpec: Decodable {
    struct Query: Decodable {
        let query: Int
        let topk: [Int]
    }
    let name: String
    let allowed: [UInt64]
    let queries: [Query]

    static func read(_ path: String) throws -> [FilterSpec] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let decoder = JSONDecoder()
        return try text.split(separator: "\n").map { try decoder.decode(FilterSpec.self, from: Data($0.utf8)) }
    }
}

import Foundation
