import EngramIndex
import EngramSupport
import Foundation

extension Checkpointer {
    /// What opening a store derives from its record and its last checkpoint.
    struct Opened {
        var state: StoreState
        var vectors: MemoryVectors
        var ledger: StoreWriter.Ledger
        var committed: Committed
    }

    /// The derived state of the store whose checkpoints are in `directory`: the checkpoint caught
    /// up with the record when there is a usable one, else rebuilt from the record (reusing
    /// whatever index files of the checkpoint still open).
    /// - Parameter progress: told what the open is doing, now and then (a rebuild from a large
    ///   record takes minutes).
    static func open(_ directory: String, records: any RecordStore, dimension: Int, progress: OpenProgressHandler? = nil) throws -> Opened {
        let manifest = CheckpointManifest.read(directory).flatMap { $0.dimension == dimension ? $0 : nil }
        if let manifest, let opened = try? openCheckpoint(manifest, in: directory, records: records, progress: progress) { return opened }
        return try rebuild(directory, manifest: manifest, records: records, dimension: dimension, progress: progress)
    }

    /// The checkpoint's state and indexes caught up with the record; throws when its files are
    /// not all usable or the record is older than it.
    private static func openCheckpoint(_ manifest: CheckpointManifest, in directory: String, records: any RecordStore,
                                       progress: OpenProgressHandler?) throws -> Opened {
        let (partitions, baseCount) = try openView(manifest, in: directory)
        let vectors = try MemoryVectors.open(manifest.vectors, in: directory, dimension: manifest.dimension)
        guard vectors.count == manifest.count else { throw ViewFile.Damaged(path: directory, reason: "the vectors do not match the view") }
        var byKey = Dictionary(partitions.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        for entry in manifest.graphs {
            let graph = try HNSWIndex.open(directory + "/" + entry.file)
            guard graph.dimension == manifest.dimension, graph.metric == .cosine, byKey[entry.partition] != nil else {
                throw ViewFile.Damaged(path: directory, reason: "graph \(entry.file) does not fit the checkpoint")
            }
            byKey[entry.partition]?.graph = graph
        }
        var state = StoreState(partitions: Array(byKey.values), position: manifest.position)
        var ledger = StoreWriter.Ledger(baseline: manifest.view.basePosition, removedFromBaseline: manifest.view.removed,
                                        cursor: manifest.cursor)
        progress?(OpenProgress(stage: .catchingUp, done: 0, total: 1))
        let (change, cursor, foreign) = try records.changes(after: manifest.cursor, derived: state)
        // Graphs the catch-up leaves with more tombstones than live nodes are rebuilt in the
        // background once the store is open, like every graph in that state.
        ledger.record(change, try state.apply(change, vectors: vectors))
        progress?(OpenProgress(stage: .catchingUp, done: 1, total: 1))
        ledger.cursor = ChangeCursor(position: max(cursor.position, ledger.cursor.position), horizon: cursor.horizon, seen: cursor.seen)
        // Deltas against the baseline assume that every row of the state up to its position is
        // one of its rows; rows another writer left break that: the next checkpoint writes a whole view.
        if foreign { ledger.baseline = nil }
        let committed = Committed(generation: manifest.generation,
                                  baseline: foreign ? nil : (manifest.view.base, manifest.view.basePosition, baseCount),
                                  graphFiles: Dictionary(manifest.graphs.map { ($0.partition, $0.file) }, uniquingKeysWith: { a, _ in a }))
        return Opened(state: state, vectors: vectors, ledger: ledger, committed: committed)
    }

    /// The checkpoint's partitions: the base view file less the rows removed since, plus the
    /// delta's memories; and how many memories the base file holds.
    private static func openView(_ manifest: CheckpointManifest, in directory: String) throws -> ([Partition], Int) {
        let segment = manifest.view
        let base = try ViewFile.load(directory + "/" + segment.base)
        guard base.position == segment.basePosition else { throw ViewFile.Damaged(path: segment.base, reason: "another position") }
        var partitions = Dictionary(base.partitions.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        var removed: [ScopeKey: [Int64]] = [:]
        for row in segment.removed {
            guard let i = base.file.index(of: row), let record = try? base.file.record(i) else {
                throw ViewFile.Damaged(path: segment.base, reason: "removed row \(row) is not in it")
            }
            removed[ScopeKey(partitionOf: record.scope), default: []].append(row)
        }
        for (key, rows) in removed {
            guard partitions[key]?.remove(rows.sorted()).count == rows.count else { throw ViewFile.Damaged(path: segment.base, reason: "removed rows") }
            if partitions[key]?.count == 0 { partitions[key] = nil }
        }
        if let file = segment.delta {
            let delta = try ViewFile.load(directory + "/" + file)
            guard delta.position == manifest.position, delta.file.count > 0, delta.file.row(0) > segment.basePosition,
                  delta.file.row(delta.file.count - 1) <= manifest.position
            else { throw ViewFile.Damaged(path: file, reason: "it does not follow its base") }
            for later in delta.partitions { partitions[later.key, default: Partition(loadedKey: later.key)].append(contentsOf: later) }
        }
        let all = Array(partitions.values)
        guard all.reduce(0, { $0 + $1.count }) == manifest.count else { throw ViewFile.Damaged(path: directory, reason: "memory count") }
        return (all, base.file.count)
    }

    /// The state rebuilt from the record alone, with the vector indexes of `manifest` that still
    /// open, caught up by comparing rows (nothing of a damaged checkpoint is trusted further).
    private static func rebuild(_ directory: String, manifest: CheckpointManifest?, records: any RecordStore, dimension: Int,
                                progress: OpenProgressHandler?) throws -> Opened {
        // The cursor first: what commits while the memories are read is read again by the next
        // catch-up, and taken in once.
        let cursor = try records.cursor()
        var partitions = try readPartitions(records, progress: progress)
        let vectors = (try? manifest.map { try MemoryVectors.open($0.vectors, in: directory, dimension: dimension) }) ?? nil
        let held = try vectors ?? MemoryVectors(dimension: dimension)
        let changes = try catchUpVectors(held, to: partitions.values, records: records, progress: progress)
        let reused = try buildGraphs(&partitions, reusing: manifest?.graphs ?? [], in: directory, from: held, progress: progress)
        let state = StoreState(partitions: Array(partitions.values), position: cursor.position)
        // At least one change: whatever the indexes lacked, the checkpoint on disk was not usable as it is.
        let ledger = StoreWriter.Ledger(changesSinceCheckpoint: max(1, changes), changedPartitions: Set(partitions.keys), cursor: cursor)
        // The graph files reused are listed, so that the store verifies them (a graph is written anew at the next checkpoint).
        return Opened(state: state, vectors: held, ledger: ledger, committed: Committed(generation: manifest?.generation ?? 0, graphFiles: reused))
    }

    /// Makes `vectors` hold exactly the rows of `partitions` (missing ones read from the record).
    /// - Returns: how many rows differed.
    private static func catchUpVectors(_ vectors: MemoryVectors, to partitions: some Collection<Partition>, records: any RecordStore,
                                       progress: OpenProgressHandler?) throws -> Int {
        let held = Set(vectors.liveRows)
        let wanted = Set(partitions.flatMap(\.rows))
        let extra = held.subtracting(wanted)
        for row in extra { try vectors.remove(row) }
        let missing = wanted.subtracting(held).sorted()
        for start in stride(from: 0, to: missing.count, by: 10_000) {
            let rows = Array(missing[start..<min(missing.count, start + 10_000)])
            try vectors.add(rows, vectors: VectorMatrix(dimension: vectors.dimension, values: records.embeddings(of: rows).flatMap { $0 }))
            progress?(OpenProgress(stage: .readingEmbeddings, done: start + rows.count, total: missing.count))
        }
        return missing.count + extra.count
    }

    /// Every memory of the record, by partition.
    private static func readPartitions(_ records: any RecordStore, progress: OpenProgressHandler?) throws -> [ScopeKey: Partition] {
        let total = try progress.map { _ in try records.memoryCount() } ?? 0
        var partitions: [ScopeKey: Partition] = [:]
        var read = 0
        try records.forEachMemory { row, memory in
            let key = ScopeKey(partitionOf: memory.scope)
            partitions[key, default: Partition(loadedKey: key)].append(row, memory)
            read += 1
            // The count is from a moment earlier: memories added since make `read` pass it.
            if read % 10_000 == 0 { progress?(OpenProgress(stage: .readingMemories, done: read, total: max(read, total))) }
        }
        progress?(OpenProgress(stage: .readingMemories, done: read, total: read))
        return partitions
    }

    /// Gives every partition large enough a graph: the checkpoint's, caught up, where it still
    /// opens; a new one otherwise.
    /// - Returns: the files of the graphs reused.
    private static func buildGraphs(_ partitions: inout [ScopeKey: Partition], reusing listed: [CheckpointManifest.Graph], in directory: String,
                                    from vectors: MemoryVectors, progress: OpenProgressHandler?) throws -> [ScopeKey: String] {
        var reused: [ScopeKey: String] = [:]
        for entry in listed {
            guard let graph = try? HNSWIndex.open(directory + "/" + entry.file), graph.dimension == vectors.dimension, graph.metric == .cosine,
                  let rows = partitions[entry.partition]?.rows, rows.count > StoreState.graphThreshold else { continue }
            try PartitionGraph.catchUp(graph, to: Array(rows), from: vectors)
            partitions[entry.partition]?.graph = graph
            reused[entry.partition] = entry.file
        }
        let due = partitions.filter { $0.value.graph == nil && $0.value.count > StoreState.graphThreshold }
        let total = due.values.reduce(0) { $0 + $1.count }
        var done = 0
        for (key, partition) in due.sorted(by: { $0.value.count > $1.value.count }) {
            progress?(OpenProgress(stage: .buildingGraphs, done: done, total: total))
            partitions[key]?.graph = try PartitionGraph.build(Array(partition.rows), from: vectors)
            done += partition.count
        }
        if total > 0 { progress?(OpenProgress(stage: .buildingGraphs, done: total, total: total)) }
        return reused
    }
}
