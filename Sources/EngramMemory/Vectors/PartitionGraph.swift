import EngramIndex
import Foundation

/// Building and catching up the HNSW graph of a partition from the store's flat vectors.
enum PartitionGraph {
    /// efConstruction 100 builds about twice as fast as 200 for a small recall cost that the
    /// search breadth makes up.
    static let parameters = HNSWParameters(m: 16, efConstruction: 100)
    /// HNSW search breadth. On debian-known-item's short out-of-distribution queries 96 lost two
    /// points of hit@10 against an exact scan; 128 stays within one (README, "Hybrid search").
    static let searchBreadth = 128

    /// A new graph of those of `rows` that `vectors` holds. Reads the vectors beside writes, so
    /// it can run outside the writer; `isCancelled` is asked between batches.
    static func build(_ rows: [Int64], from vectors: MemoryVectors, isCancelled: () -> Bool = { false }) throws -> HNSWIndex? {
        let graph = try HNSWIndex(dimension: vectors.dimension, metric: .cosine, parameters: parameters)
        for start in stride(from: 0, to: rows.count, by: 4_096) {
            if isCancelled() { return nil }
            try add(Array(rows[start..<min(rows.count, start + 4_096)]), to: graph, from: vectors)
        }
        return graph
    }

    /// Adds the rows `graph` lacks among `rows` (vectors from the flat index) and removes those
    /// not in `rows`.
    /// - Returns: how many rows were added or removed.
    @discardableResult
    static func catchUp(_ graph: HNSWIndex, to rows: [Int64], from vectors: MemoryVectors) throws -> Int {
        let held = Set(graph.liveIDs.map(Int64.init)), wanted = Set(rows)
        let extra = held.subtracting(wanted)
        for row in extra { try graph.remove(id: UInt64(row)) }
        let missing = rows.filter { !held.contains($0) }
        try add(missing, to: graph, from: vectors)
        return missing.count + extra.count
    }

    /// Adds `rows` with their vectors from `vectors` (rows it lacks are skipped).
    static func add(_ rows: [Int64], to graph: HNSWIndex, from vectors: MemoryVectors) throws {
        let found = rows.compactMap { row in vectors.vector(row).map { (row, $0) } }
        guard !found.isEmpty else { return }
        try graph.add(VectorMatrix(dimension: vectors.dimension, values: found.flatMap(\.1)), ids: found.map { UInt64($0.0) },
                      threads: threads(for: found.count))
    }

    /// Both cores for batches worth splitting; one for a few rows.
    static func threads(for count: Int) -> Int { count >= 64 ? ProcessInfo.processInfo.activeProcessorCount : 1 }
}
