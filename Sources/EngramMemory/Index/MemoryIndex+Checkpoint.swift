import EngramIndex
import Foundation

extension MemoryIndex {
    /// What a checkpoint directory holds besides the index files: which graph file is which
    /// partition's. Written last, atomically.
    struct Manifest: Codable {
        var version = 1
        var dimension: Int
        var graphs: [Entry]
        struct Entry: Codable {
            var partition: MemoryPartition
            var file: String
        }
    }

    /// Saves the indexes into `directory` (each file atomically, the manifest last) and removes
    /// graph files no longer listed. Call with writers excluded.
    func save(to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try flat.save(to: directory + "/flat.engram")
        var entries: [Manifest.Entry] = []
        for (partition, graph) in graphs.read({ $0 }) where graph.count > 0 {
            let file = "graph-" + MemoryStore.contentHash(partition.field + "\u{0}" + partition.value) + ".engram"
            try graph.save(to: directory + "/" + file)
            entries.append(Manifest.Entry(partition: partition, file: file))
        }
        let manifest = try JSONEncoder().encode(Manifest(dimension: dimension, graphs: entries))
        try FileIO.writeAtomically(directory + "/manifest.json") { write in try manifest.withUnsafeBytes { try write($0) } }
        let listed = Set(entries.map(\.file))
        for file in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        where file.hasPrefix("graph-") && !listed.contains(file) {
            try? FileManager.default.removeItem(atPath: directory + "/" + file)
        }
    }

    /// Opens the checkpoint in `directory` and catches it up with `view` (the database's
    /// contents): rows the checkpoint lacks are added (their vectors from `embeddings`), rows it
    /// has that are gone are removed. A missing or unreadable checkpoint is rebuilt from scratch
    /// the same way. Embeddings of a row never change (a re-embedded memory gets a new row), so
    /// the set of rows a checkpoint holds is exactly the store position it covers.
    /// - Returns: the index and how many rows differed from the checkpoint.
    static func open(_ directory: String, dimension: Int, view: MemoryView,
                     embeddings: ([Int64]) throws -> [[Float]]) throws -> (MemoryIndex, changes: Int) {
        let (flat, graphs) = loadCheckpoint(directory, dimension: dimension)
        let index = try MemoryIndex(dimension: dimension, flat: flat, graphs: graphs)
        var changes = try index.catchUp(flat: view, embeddings: embeddings)
        for (partition, rows) in view.partitions {
            if let graph = index.graphs.read({ $0[partition] }) {
                changes += try index.catchUp(graph, rows: rows)
            } else if rows.count > graphThreshold {
                try index.buildGraph(partition, rows: rows)
                changes += rows.count
            }
        }
        index.graphs.write { graphs in graphs = graphs.filter { view.partitions[$0.key] != nil } }
        return (index, changes)
    }

    /// The checkpointed indexes, or empty ones when there is no usable checkpoint.
    private static func loadCheckpoint(_ directory: String, dimension: Int) -> (FlatIndex?, [MemoryPartition: HNSWIndex]) {
        guard let data = FileManager.default.contents(atPath: directory + "/manifest.json"),
              let manifest = try? JSONDecoder().decode(Manifest.self, from: data), manifest.dimension == dimension,
              let flat = try? FlatIndex.open(directory + "/flat.engram"), flat.dimension == dimension, flat.metric == .cosine
        else { return (nil, [:]) }
        var graphs: [MemoryPartition: HNSWIndex] = [:]
        for entry in manifest.graphs {
            if let graph = try? HNSWIndex.open(directory + "/" + entry.file), graph.dimension == dimension, graph.metric == .cosine {
                graphs[entry.partition] = graph
            }
        }
        return (flat, graphs)
    }

    private func catchUp(flat view: MemoryView, embeddings: ([Int64]) throws -> [[Float]]) throws -> Int {
        let held = Set(flat.liveIDs.map(Int64.init))
        let missing = view.memories.keys.filter { !held.contains($0) }.sorted()
        let extra = held.filter { view.memories[$0] == nil }
        for row in extra { try flat.remove(id: UInt64(row)) }
        for chunk in stride(from: 0, to: missing.count, by: 10_000) {
            let rows = Array(missing[chunk..<min(missing.count, chunk + 10_000)])
            try flat.add(VectorMatrix(dimension: dimension, values: embeddings(rows).flatMap { $0 }), ids: rows.map(UInt64.init))
        }
        return missing.count + extra.count
    }

    private func catchUp(_ graph: HNSWIndex, rows: [Int64]) throws -> Int {
        let held = Set(graph.liveIDs.map(Int64.init))
        let wanted = Set(rows)
        let missing = rows.filter { !held.contains($0) }
        let extra = held.filter { !wanted.contains($0) }
        for row in extra { try graph.remove(id: UInt64(row)) }
        if !missing.isEmpty {
            var values: [Float] = []
            for row in missing { values += try flat.vector(id: UInt64(row)) }
            try graph.add(VectorMatrix(dimension: dimension, values: values), ids: missing.map(UInt64.init), threads: Self.threads(for: missing.count))
        }
        return missing.count + extra.count
    }
}
