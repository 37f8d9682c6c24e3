import EngramSupport
import EngramIndex
import Foundation

/// The vector side of a store, derived from the database: an exact flat index over every memory,
/// and an HNSW graph for each partition with more than ``graphThreshold`` memories.
///
/// A scoped query whose allowed rows are few is answered by an exact scan of just those rows; one
/// over a large partition searches that partition's graph (whose planner still scans exactly when
/// the filter leaves few rows). Graphs are built only for tenants large enough to need one, so
/// most adds cost a copy into the flat index, not a graph insertion.
final class MemoryIndex: @unchecked Sendable {  // `graphs` is RWLocked; FlatIndex and HNSWIndex are thread-safe
    /// Partitions above this size get a graph (below it, exact scans are as fast as a graph search).
    static let graphThreshold = HNSWIndex.exactScanLimit
    /// efConstruction 100 builds about twice as fast as 200 for a small recall cost that the
    /// search breadth makes up.
    static let graphParameters = HNSWParameters(m: 16, efConstruction: 100)
    /// HNSW search breadth. On debian-known-item's short out-of-distribution queries 96 lost two
    /// points of hit@10 against an exact scan; 128 stays within one (README, "Hybrid search").
    static let searchBreadth = 128

    let dimension: Int
    let vectors: MemoryVectors
    let graphs: RWLocked<[MemoryPartition: HNSWIndex]>
    /// The checkpoint files that hold a partition's graph exactly as it is now (a change forgets
    /// the entry), so that a checkpoint lists them again instead of rewriting them.
    let unchangedGraphFiles = Locked([MemoryPartition: String]())
    /// Partitions whose graph is being rebuilt without its tombstones.
    let compacting = Locked(Set<MemoryPartition>())

    init(dimension: Int, vectors: MemoryVectors? = nil, graphs: [MemoryPartition: HNSWIndex] = [:]) throws {
        self.dimension = dimension
        self.vectors = try vectors ?? MemoryVectors(dimension: dimension)
        self.graphs = RWLocked(graphs)
    }

    /// Indexes committed rows. `rowsOf` gives the rows a partition already has (for a partition
    /// that crosses the threshold and gets its graph now).
    func add(_ rows: [Int64], vectors: [[Float]], partitions: [MemoryPartition], rowsOf: (MemoryPartition) -> [Int64]) throws {
        guard !rows.isEmpty else { return }
        changed(Set(partitions))
        try self.vectors.add(rows, vectors: VectorMatrix(dimension: dimension, values: vectors.flatMap { $0 }))
        var byPartition: [MemoryPartition: [Int]] = [:]
        for (i, p) in partitions.enumerated() { byPartition[p, default: []].append(i) }
        for (partition, members) in byPartition {
            if let graph = graphs.read({ $0[partition] }) {
                try graph.add(VectorMatrix(dimension: dimension, values: members.flatMap { vectors[$0] }), ids: members.map { UInt64(rows[$0]) },
                              threads: Self.threads(for: members.count))
            } else if rowsOf(partition).count + members.count > Self.graphThreshold {
                try buildGraph(partition, rows: rowsOf(partition) + members.map { rows[$0] })
            }
        }
    }

    /// Builds the graph of a partition from the flat index's vectors.
    func buildGraph(_ partition: MemoryPartition, rows: [Int64]) throws {
        changed([partition])
        let graph = try freshGraph(rows: rows)
        graphs.write { $0[partition] = graph }
    }

    /// A new graph of those of `rows` the flat index holds (no lock needed: safe beside writes).
    func freshGraph(rows: [Int64]) throws -> HNSWIndex {
        let graph = try HNSWIndex(dimension: dimension, metric: .cosine, parameters: Self.graphParameters)
        var values: [Float] = [], ids: [UInt64] = []
        values.reserveCapacity(rows.count * dimension)
        for row in rows {
            guard let vector = vectors.vector(row) else { continue }
            values += vector
            ids.append(UInt64(row))
        }
        try graph.add(VectorMatrix(dimension: dimension, values: values), ids: ids, threads: Self.threads(for: ids.count))
        return graph
    }

    /// The partitions among `partitions` whose graphs hold more tombstones (removed or replaced
    /// nodes, still traversed) than live nodes, and are not being rebuilt yet; they are marked as
    /// being rebuilt.
    func claimCompactions(_ partitions: Set<MemoryPartition>) -> [MemoryPartition] {
        let graphs = graphs.read { $0 }
        let due = partitions.filter { p in graphs[p].map { $0.tombstoneCount > $0.count } ?? false }
        return compacting.withLock { busy in
            let claimed = due.filter { !busy.contains($0) }
            busy.formUnion(claimed)
            return Array(claimed)
        }
    }

    /// Puts a rebuilt graph in place of `partition`'s, caught up with its current `rows` (nil, or
    /// too few rows: the partition goes back to exact scans). Call with writers excluded.
    func install(_ fresh: HNSWIndex?, partition: MemoryPartition, rows: [Int64]) throws {
        defer { compacting.withLock { _ = $0.remove(partition) } }
        changed([partition])
        guard let fresh, rows.count > Self.graphThreshold else {
            graphs.write { $0[partition] = nil }
            return
        }
        _ = try catchUp(fresh, rows: rows)
        graphs.write { $0[partition] = fresh }
    }

    /// Forgets rows (ids the indexes do not hold are skipped).
    func remove(_ rows: [Int64], partitions: [MemoryPartition]) throws {
        guard !rows.isEmpty else { return }
        changed(Set(partitions))
        let graphs = graphs.read { $0 }
        for (row, partition) in zip(rows, partitions) {
            try vectors.remove(row)
            if let graph = graphs[partition], graph.contains(id: UInt64(row)) { try graph.remove(id: UInt64(row)) }
        }
    }

    /// Forgets the unchanged files of `partitions`' graphs (before changing them).
    private func changed(_ partitions: Set<MemoryPartition>) {
        unchangedGraphFiles.withLock { files in
            for partition in partitions { files[partition] = nil }
        }
    }

    /// The `k` rows among `rows` (ascending, all in `partition` when it is given) nearest to `query`.
    /// `wholePartition`: `rows` are all of the partition's rows, so the graph needs no filter.
    func search(_ query: [Float], k: Int, rows: [Int64], partition: MemoryPartition?, wholePartition: Bool) throws -> [SearchResult] {
        let ids = rows.map(UInt64.init)
        if rows.count > HNSWIndex.exactScanLimit, let partition, let graph = graphs.read({ $0[partition] }) {
            let ef = max(k, Self.searchBreadth)
            return try graph.search(query, k: k, ef: ef, filter: wholePartition ? nil : SearchFilter(allowing: ids))
        }
        return try vectors.search(query, k: k, rows: rows)
    }

    /// Cosine similarities of `query` with the stored vectors of `rows` (rows not indexed are absent).
    func similarities(_ query: [Float], rows: [Int64]) throws -> [Int64: Float] {
        guard !rows.isEmpty else { return [:] }
        return Dictionary(try vectors.scores(query, rows: rows).map { (Int64($0.id), $0.score) }, uniquingKeysWith: { a, _ in a })
    }

    static func threads(for count: Int) -> Int { count >= 64 ? ProcessInfo.processInfo.activeProcessorCount : 1 }
}
