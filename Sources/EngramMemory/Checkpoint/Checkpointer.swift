import EngramIndex
import EngramSupport
import Foundation

/// Writes the checkpoints of a store into its `index/` directory and remembers the last one.
///
/// A checkpoint saves the derived state, so that the next open maps it and catches up with the
/// record instead of rebuilding it. Checkpoints run one at a time (this type's lock, taken before
/// the writer's). Writers wait only while the mutable indexes (the flat vectors' changed part and
/// the changed graphs) are written and the view's changes are measured; the view files are
/// written after they resume, from the immutable state of that moment. Searches never wait.
final class Checkpointer: Sendable {
    let directory: String
    private let committed: Locked<Committed>

    /// What the last committed checkpoint holds, kept in memory so that a checkpoint never reads
    /// its manifest while writers wait.
    struct Committed: Sendable {
        /// The manifest's generation (0: none); the next checkpoint writes one more.
        var generation: UInt64 = 0
        /// The whole view file the manifest's view is based on, its position and its memories.
        var baseline: (file: String, position: Int64, count: Int)?
        /// Each partition's graph file, as listed.
        var graphFiles: [ScopeKey: String] = [:]
    }

    /// A delta is kept while the baseline's rows removed plus the rows added since are at most
    /// 1/viewDeltaFraction of the baseline. Every checkpoint rewrites the whole delta, so a larger
    /// fraction writes fewer baselines but longer deltas: with checkpoints every c changes on n
    /// memories, about n/(2·c·f) + f rows are written per change, least near f = √(n/2c): 7 when
    /// checkpoints come every n/100 changes, as ``MemoryStore/checkpointIfDue()`` makes them.
    static let viewDeltaFraction = 8

    init(directory: String, committed: Committed) {
        self.directory = directory
        self.committed = Locked(committed)
    }

    /// Runs `body` on the index files the checkpoint on disk lists (the flat vectors' and each
    /// graph's; none without a readable manifest), with checkpoints excluded, so that the files
    /// stay as listed meanwhile.
    func withListedFiles<R>(_ body: (_ vectorFiles: [String], _ graphFiles: [ScopeKey: String]) throws -> R) rethrows -> R {
        try committed.withLock { _ in
            let manifest = CheckpointManifest.read(directory)
            return try body(manifest?.vectors.files.filter { !$0.isEmpty } ?? [],
                            Dictionary((manifest?.graphs ?? []).map { ($0.partition, $0.file) }, uniquingKeysWith: { a, _ in a }))
        }
    }

    /// The bytes of the files the checkpoint on disk lists, its manifest included (0: none).
    /// Without the lock (a checkpoint holds it for seconds; a metrics scrape must not wait): the
    /// manifest is replaced atomically, and a file a newer checkpoint removed meanwhile counts 0.
    func listedBytes() -> Int {
        (CheckpointManifest.read(directory)?.files ?? []).reduce(0) { sum, file in
            let attributes = try? FileManager.default.attributesOfItem(atPath: directory + "/" + file)
            return sum + ((attributes?[.size] as? Int) ?? 0)
        }
    }

    /// Checkpoints the store unless nothing changed since the last checkpoint.
    /// - Returns: whether a checkpoint was written.
    @discardableResult
    func checkpoint(_ writer: StoreWriter, dimension: Int) throws -> Bool {
        try committed.withLock { committed in
            try MemoryError.reportingIO { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
            guard let frozen = try writer.exclusive({ state, ledger in
                try freeze(state, &ledger, after: committed, dimension: dimension, vectors: writer.vectors)
            }) else { return false }
            do {
                var manifest = frozen.manifest
                manifest.view = try writeView(frozen)
                try manifest.commit(to: directory)
                committed.generation = manifest.generation
                committed.graphFiles = Dictionary(manifest.graphs.map { ($0.partition, $0.file) }, uniquingKeysWith: { a, _ in a })
                if case .whole = frozen.view {
                    committed.baseline = (manifest.view.base, manifest.position, frozen.state.count)
                }
                // After the commit: until then, the files of the last checkpoint must stay as they were.
                try writer.vectors.eraseRemoved(in: directory)
                return true
            } catch {
                writer.exclusive { _, ledger in ledger.restore(frozen.taken) }
                throw error
            }
        }
    }

    /// What a checkpoint still has to write once writers resume.
    private struct Frozen {
        var state: StoreState
        var manifest: CheckpointManifest
        var view: ViewPlan
        var taken: Taken
    }

    enum ViewPlan {
        /// A whole view file.
        case whole
        /// A delta against the baseline: the rows removed from it, and how many were added since.
        case delta(baseline: (file: String, position: Int64, count: Int), removed: [Int64], added: Int)
    }

    /// What the checkpoint takes from the ledger, given back if it fails.
    struct Taken {
        var changes: Int
        var partitions: Set<ScopeKey>
        var baselineMoved: Bool
    }

    /// The part of a checkpoint done with writers excluded: the mutable index files, the position
    /// they reflect and the plan for the view. Nil when nothing changed.
    private func freeze(_ state: StoreState, _ ledger: inout StoreWriter.Ledger, after committed: Committed,
                        dimension: Int, vectors: MemoryVectors) throws -> Frozen? {
        guard ledger.changesSinceCheckpoint > 0 else { return nil }
        let cursor = ledger.cursor, position = ledger.cursor.position
        let generation = committed.generation + 1
        let vectorSegment = try vectors.save(to: directory, generation: generation, position: position)
        let graphs = try saveGraphs(state, changed: ledger.changedPartitions, listed: committed.graphFiles, generation: generation)
        let view = plan(state, ledger, baseline: committed.baseline)
        let taken = Taken(changes: ledger.changesSinceCheckpoint, partitions: ledger.changedPartitions, baselineMoved: { if case .whole = view { true } else { false } }())
        ledger.changesSinceCheckpoint = 0
        ledger.changedPartitions = []
        if case .whole = view {
            ledger.baseline = position
            ledger.removedFromBaseline = []
            ledger.deletedSinceBaseline = false
        }
        let manifest = CheckpointManifest(generation: generation, dimension: dimension, cursor: cursor, count: state.count,
                                          view: Segment(base: "", basePosition: position), vectors: vectorSegment, graphs: graphs)
        return Frozen(state: state, manifest: manifest, view: view, taken: taken)
    }

    /// A delta against the baseline while the changes since it are small, else a whole view.
    private func plan(_ state: StoreState, _ ledger: StoreWriter.Ledger, baseline: (file: String, position: Int64, count: Int)?) -> ViewPlan {
        guard let baseline, ledger.baseline == baseline.position,
              FileManager.default.fileExists(atPath: directory + "/" + baseline.file) else { return .whole }
        let added = state.partitions.values.reduce(0) { sum, p in
            sum + p.count - p.rows.withUnsafeBufferPointer { SortedRows.lowerBound($0, baseline.position + 1) }
        }
        let removed = ledger.removedFromBaseline
        // Deleted memories must leave the files: a baseline that still holds removed rows is rewritten.
        guard !(ledger.deletedSinceBaseline && !removed.isEmpty) else { return .whole }
        guard !Segment.needsNewBase(baseCount: baseline.count, removed: removed.count, added: added, fraction: Self.viewDeltaFraction)
        else { return .whole }
        return .delta(baseline: baseline, removed: removed, added: added)
    }

    /// Writes the graphs changed since they were last listed; lists the others again.
    private func saveGraphs(_ state: StoreState, changed: Set<ScopeKey>, listed: [ScopeKey: String], generation: UInt64) throws
        -> [CheckpointManifest.Graph] {
        try state.partitions.values.compactMap { partition in
            guard let graph = partition.graph, graph.count > 0 else { return nil }
            if !changed.contains(partition.key), let file = listed[partition.key],
               FileManager.default.fileExists(atPath: directory + "/" + file) {
                return CheckpointManifest.Graph(partition: partition.key, file: file)
            }
            let file = "graph-" + ContentHash.of(partition.key.field + "\u{0}" + partition.key.value) + "-\(generation).engram"
            try MemoryError.reportingIO { try graph.save(to: directory + "/" + file) }
            return CheckpointManifest.Graph(partition: partition.key, file: file)
        }
    }

    /// Writes the view files of a frozen checkpoint.
    /// - Returns: the view's segment.
    private func writeView(_ frozen: Frozen) throws -> Segment {
        let generation = frozen.manifest.generation, position = frozen.manifest.position
        let partitions = Array(frozen.state.partitions.values)
        switch frozen.view {
        case .whole:
            let file = "view-\(generation).snapshot"
            try ViewFile.write(partitions, above: nil, position: position, to: directory + "/" + file)
            return Segment(base: file, basePosition: position)
        case let .delta(baseline, removed, added):
            let file = added > 0 ? "view-delta-\(generation).snapshot" : nil
            if let file { try ViewFile.write(partitions, above: baseline.position, position: position, to: directory + "/" + file) }
            return Segment(base: baseline.file, basePosition: baseline.position, removed: removed, delta: file)
        }
    }
}

extension StoreWriter.Ledger {
    /// Gives back what a failed checkpoint took: its changes are still to be written, and a
    /// baseline it did not commit cannot be a delta's base.
    mutating func restore(_ taken: Checkpointer.Taken) {
        changesSinceCheckpoint += taken.changes
        changedPartitions.formUnion(taken.partitions)
        if taken.baselineMoved { baseline = nil }
    }
}
