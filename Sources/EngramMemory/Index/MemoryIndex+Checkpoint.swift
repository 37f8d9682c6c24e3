import EngramSupport
import EngramIndex
import Foundation

extension MemoryIndex {
    /// Saves the indexes into `directory` under names of `generation`, each file atomically; what
    /// a file there already holds is listed as it is instead of written again (a graph unchanged
    /// since it was loaded or saved; the flat vectors' base, see ``MemoryVectors/save(to:generation:)``).
    /// Call with writers excluded.
    /// - Returns: the flat vectors' files and the graphs' entries, for the manifest.
    func save(to directory: String, generation: UInt64) throws -> (flat: MemoryVectors.Files, graphs: [CheckpointManifest.Graph]) {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let flat = try vectors.save(to: directory, generation: generation)
        var files = unchangedGraphFiles.withLock { $0 }
        var entries: [CheckpointManifest.Graph] = []
        for (partition, graph) in graphs.read({ $0 }) where graph.count > 0 {
            let listed = files[partition].flatMap { FileManager.default.fileExists(atPath: directory + "/" + $0) ? $0 : nil }
            let file = try listed ?? {
                let file = "graph-" + ContentHash.of(partition.field + "\u{0}" + partition.value) + "-\(generation).engram"
                try graph.save(to: directory + "/" + file)
                return file
            }()
            files[partition] = file
            entries.append(CheckpointManifest.Graph(partition: partition, file: file))
        }
        unchangedGraphFiles.withLock { $0 = files }
        return (flat, entries)
    }

    /// Every index `manifest` lists, mapped in place.
    /// - Throws: when any of them is missing, damaged or of another shape.
    static func load(_ manifest: CheckpointManifest, in directory: String) throws -> MemoryIndex {
        let (vectors, graphs) = loadFiles(manifest, in: directory)
        guard let vectors, graphs.count == manifest.graphs.count, vectors.count == manifest.count else {
            throw EngramError.corruptIndex(path: directory, reason: "the checkpoint's index files are incomplete")
        }
        let index = try MemoryIndex(dimension: manifest.dimension, vectors: vectors, graphs: graphs)
        index.unchangedGraphFiles.withLock { files in
            for entry in manifest.graphs { files[entry.partition] = entry.file }
        }
        return index
    }

    /// Opens whatever indexes of `manifest` are usable (none without one) and catches them up with
    /// `view` (the database's contents): rows they lack are added (their vectors from
    /// `embeddings`), rows they have that are gone are removed; missing graphs are built. Used
    /// when the checkpoint as a whole is unusable, so it compares row sets instead of trusting it.
    /// - Returns: the index and how many rows differed.
    static func open(_ directory: String, manifest: CheckpointManifest?, dimension: Int, view: MemoryView,
                     embeddings: ([Int64]) throws -> [[Float]]) throws -> (MemoryIndex, changes: Int) {
        let (vectors, graphs) = manifest.map { loadFiles($0, in: directory) } ?? (nil, [:])
        let index = try MemoryIndex(dimension: dimension, vectors: vectors, graphs: graphs)
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

    /// The listed indexes that open with the manifest's dimension and cosine metric.
    private static func loadFiles(_ manifest: CheckpointManifest, in directory: String) -> (MemoryVectors?, [MemoryPartition: HNSWIndex]) {
        func usable(_ dimension: Int, _ metric: Metric) -> Bool { dimension == manifest.dimension && metric == .cosine }
        guard let vectors = try? MemoryVectors.open(manifest.flatFiles, in: directory, dimension: manifest.dimension) else { return (nil, [:]) }
        var graphs: [MemoryPartition: HNSWIndex] = [:]
        for entry in manifest.graphs {
            if let graph = try? HNSWIndex.open(directory + "/" + entry.file), usable(graph.dimension, graph.metric) {
                graphs[entry.partition] = graph
            }
        }
        return (vectors, graphs)
    }

    private func catchUp(flat view: MemoryView, embeddings: ([Int64]) throws -> [[Float]]) throws -> Int {
        let held = Set(vectors.liveRows)
        let missing = view.memories.keys.filter { !held.contains($0) }.sorted()
        let extra = held.filter { view.memories[$0] == nil }
        for row in extra { try vectors.remove(row) }
        for chunk in stride(from: 0, to: missing.count, by: 10_000) {
            let rows = Array(missing[chunk..<min(missing.count, chunk + 10_000)])
            try vectors.add(rows, vectors: VectorMatrix(dimension: dimension, values: embeddings(rows).flatMap { $0 }))
        }
        return missing.count + extra.count
    }

    /// Adds the rows `graph` lacks (vectors from the flat index) and removes those not in `rows`.
    func catchUp(_ graph: HNSWIndex, rows: [Int64]) throws -> Int {
        let held = Set(graph.liveIDs.map(Int64.init))
        let wanted = Set(rows)
        let missing = rows.filter { !held.contains($0) }
        let extra = held.filter { !wanted.contains($0) }
        for row in extra { try graph.remove(id: UInt64(row)) }
        if !missing.isEmpty {
            var values: [Float] = []
            for row in missing {
                guard let vector = vectors.vector(row) else { throw EngramError.unknownID(UInt64(row)) }
                values += vector
            }
            try graph.add(VectorMatrix(dimension: dimension, values: values), ids: missing.map(UInt64.init), threads: Self.threads(for: missing.count))
        }
        return missing.count + extra.count
    }
}
