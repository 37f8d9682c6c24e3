import EngramEmbedding
import EngramIndex
import Foundation
import GRDB

extension MemoryStore {
    /// Saves the derived state (the view and the vector indexes) to `index/` in the store
    /// directory, so that the next open maps it instead of decoding the database and rebuilding.
    /// Every file is new and written atomically, and a manifest written last commits them all:
    /// a crash leaves the previous checkpoint in force. Indexes unchanged since the last checkpoint
    /// are not written again, and nothing is written when the last checkpoint is still exact.
    /// Writers wait while the changed index files are written (usually a small flat tail and the
    /// graphs of the tenants written to) and the view's changes are gathered; the view is written
    /// after they resume (a delta of the changes, or all of it from a copy-on-write snapshot when
    /// they pass an eighth of it: see ``ViewBaseline``). Searches never wait.
    /// - Complexity: writes the view and every changed index: up to O(memories · dimension).
    public func checkpoint() throws {
        try checkpointing.withLock { state in
            guard var pending = try writer.withLock({ changes in try changes > 0 ? saveIndexes(&changes, after: state) : nil })
            else { return }
            do {
                let written = try saveView(pending.view, into: &pending.manifest)
                try pending.manifest.commit(to: indexDirectory)
                state = CheckpointState(generation: pending.manifest.generation, baseline: written)
            } catch {
                writer.withLock { $0 += pending.changes }
                throw error
            }
        }
    }

    /// What the last checkpoint committed (kept in memory, so that a checkpoint does not decode
    /// the manifest while writers wait).
    struct CheckpointState {
        /// The generation of the manifest on disk (0: none); the next checkpoint writes one more.
        var generation: UInt64
        /// The full view snapshot that manifest's view is based on, if any.
        var baseline: ViewBaseline?
    }

    /// Writes the view of a checkpoint: the delta snapshot of the memories added since its
    /// baseline and the rows removed from it (listed in `manifest`), or a new baseline.
    /// - Returns: the baseline the manifest now refers to.
    private func saveView(_ changes: ViewBaseline.Changes, into manifest: inout CheckpointManifest) throws -> ViewBaseline {
        switch changes {
        case let .delta(baseline, removed, added):
            manifest.view = baseline.file
            manifest.viewPosition = baseline.position
            manifest.viewRemoved = removed.isEmpty ? nil : removed
            if !added.isEmpty {
                var delta = MemoryView()
                for (row, box) in added { delta.publish(row, box.memory) }
                let file = "view-delta-\(manifest.generation).snapshot"
                try ViewSnapshot.write(delta, position: manifest.position, to: indexDirectory + "/" + file)
                manifest.viewDelta = file
            }
            return baseline
        case let .full(view):
            let file = "view-\(manifest.generation).snapshot"
            let rows = try ViewSnapshot.write(view, position: manifest.position, to: indexDirectory + "/" + file)
            manifest.view = file
            return ViewBaseline(file: file, position: manifest.position, rows: rows)
        }
    }

    /// What a checkpoint still has to write once writers resume.
    private struct PendingCheckpoint {
        var manifest: CheckpointManifest
        var view: ViewBaseline.Changes
        var changes: Int
    }

    /// The part of a checkpoint done with writers excluded: the index files, the position they
    /// reflect, and what the view changed since the last baseline (or a copy-on-write snapshot of all of
    /// it). Takes the changes over (they are given back if the checkpoint fails).
    private func saveIndexes(_ changes: inout Int, after last: CheckpointState) throws -> PendingCheckpoint {
        let position = try pool.read(Self.position)
        let generation = last.generation + 1
        let (flat, graphs) = try index.save(to: indexDirectory, generation: generation)
        let (count, viewChanges) = view.read { current in (current.count, last.baseline?.changes(in: current) ?? .full(current)) }
        let manifest = CheckpointManifest(generation: generation, dimension: embedder.dimension, position: position, count: count,
                                          view: "", flat: flat, graphs: graphs)
        defer { changes = 0 }
        return PendingCheckpoint(manifest: manifest, view: viewChanges, changes: changes)
    }

    /// Checkpoints when the changes since the open or the last checkpoint would cost the next open
    /// more to catch up than the checkpoint costs to write (a graph insertion costs about a
    /// hundred vector writes). Nothing is lost without it: the database is the record.
    /// - Returns: whether it checkpointed.
    @discardableResult
    public func checkpointIfDue() throws -> Bool {
        let changes = writer.withLock { $0 }
        guard changes > 0, changes * 100 >= view.read(\.count) else { return false }
        try checkpoint()
        return true
    }

    /// Call when done with the store: checkpoints if due (``checkpointIfDue()``).
    public func close() throws { try checkpointIfDue() }

    /// Rebuilds the derived view and vector indexes of the store in `directory` from its database
    /// alone (ignoring any checkpoint) and checkpoints them.
    /// - Returns: the number of memories indexed.
    @discardableResult
    public static func rebuild(directory: String, embedder: any Embedder) throws -> Int {
        try? FileManager.default.removeItem(atPath: directory + "/index")
        let store = try MemoryStore(directory: directory, embedder: embedder)
        try store.checkpoint()
        return store.view.read(\.count)
    }

    var indexDirectory: String { directory + "/index" }

    /// The largest row number the database has assigned (rows are never reused: AUTOINCREMENT).
    static func position(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'memory'") ?? 0
    }

    /// What opening a store derives from its database and checkpoint.
    struct Derived {
        var view: MemoryView
        var index: MemoryIndex
        /// The changes the checkpoint lacked (0 only when it is exact).
        var changes: Int
        /// The manifest's generation and the full view snapshot the checkpoint's view came from.
        var checkpoint: CheckpointState
    }

    /// The view and indexes of the store, from the checkpoint caught up with the database when
    /// there is a usable one, else from the database (indexes from whatever checkpoint files are
    /// usable, compared row by row).
    static func openDerived(_ directory: String, pool: DatabasePool, dimension: Int) throws -> Derived {
        let onDisk = CheckpointManifest.read(directory)
        let manifest = onDisk.flatMap { $0.dimension == dimension ? $0 : nil }
        if let manifest, let opened = try openCheckpoint(manifest, in: directory, pool: pool) { return opened }
        let view = try loadView(pool)
        let (index, changes) = try MemoryIndex.open(directory, manifest: manifest, dimension: dimension, view: view,
                                                    embeddings: { try embeddings(of: $0, in: pool, dimension: dimension) })
        // At least one: whatever the indexes lacked, the checkpoint on disk was not usable as it is.
        return Derived(view: view, index: index, changes: max(1, changes),
                       checkpoint: CheckpointState(generation: onDisk?.generation ?? 0, baseline: nil))
    }

    /// The checkpoint's view and indexes caught up with the database; nil when its files are not
    /// all usable or the database is older than it.
    private static func openCheckpoint(_ manifest: CheckpointManifest, in directory: String, pool: DatabasePool) throws -> Derived? {
        guard let (view, baseline) = try? openView(manifest, in: directory), let index = try? MemoryIndex.load(manifest, in: directory)
        else { return nil }
        var caughtUp = view
        guard let (changes, foreign) = try catchUp(&caughtUp, index, from: manifest.position, pool: pool, dimension: manifest.dimension)
        else { return nil }
        // Deltas against the baseline assume that every row of the view up to its position is one
        // of its rows; rows another writer left (see `catchUp`) break that: the next checkpoint
        // writes a new baseline.
        return Derived(view: caughtUp, index: index, changes: changes,
                       checkpoint: CheckpointState(generation: manifest.generation, baseline: foreign ? nil : baseline))
    }

    /// The checkpoint's view: its baseline snapshot, less the rows removed since, plus the memories
    /// of its delta snapshot; nil when the files disagree with the manifest or each other.
    private static func openView(_ manifest: CheckpointManifest, in directory: String) throws -> (MemoryView, ViewBaseline)? {
        let base = try ViewSnapshot.load(directory + "/" + manifest.view)
        let basePosition = manifest.viewPosition ?? manifest.position
        guard base.position == basePosition else { return nil }
        let baseline = ViewBaseline(file: manifest.view, position: basePosition, rows: base.rows)
        var view = base.view
        let removed = manifest.viewRemoved ?? []
        guard view.unpublish(removed).count == removed.count else { return nil }
        if let file = manifest.viewDelta {
            let delta = try ViewSnapshot.load(directory + "/" + file)
            guard delta.position == manifest.position, let first = delta.rows.first, let last = delta.rows.last,
                  first > basePosition, last <= manifest.position, view.append(delta.view)
            else { return nil }
        }
        return view.count == manifest.count ? (view, baseline) : nil
    }

    /// Applies what the database changed after `position` to a checkpoint's view and index: rows
    /// added since (read with their embeddings), and rows up to `position` deleted since (found by
    /// counting, so listing the rows is needed only when some were). When listing, rows up to
    /// `position` that the checkpoint lacks are read too: only another writer on the same
    /// database (another process) can leave such rows, and nothing the database holds may go
    /// missing from the view.
    /// - Returns: the number of changes and whether there were rows up to `position` that the
    ///   checkpoint lacked, or nil when the database is older than the checkpoint.
    private static func catchUp(_ view: inout MemoryView, _ index: MemoryIndex, from position: Int64,
                                pool: DatabasePool, dimension: Int) throws -> (changes: Int, foreign: Bool)? {
        let delta = try pool.read { db -> (added: [(Int64, Memory, [Float])], gone: [Int64], foreign: Bool)? in
            guard try Self.position(db) >= position else { return nil }
            var added = try rowsWithEmbeddings(db, dimension: dimension, sql: "WHERE row > ? ORDER BY row", arguments: [position])
            let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM memory") ?? 0
            guard total - added.count != view.count else { return (added, [], false) }
            // The run_id index holds every row (NULLs included) and is the smallest: listing rows
            // through it reads a few MB instead of the whole table.
            let present = Set(try Int64.fetchAll(db, sql: "SELECT row FROM memory INDEXED BY memory_run WHERE row <= ?", arguments: [position]))
            let lacking = present.filter { view.memories[$0] == nil }
            for row in lacking {
                added += try rowsWithEmbeddings(db, dimension: dimension, sql: "WHERE row = ?", arguments: [row])
            }
            return (added, view.memories.keys.filter { !present.contains($0) }, !lacking.isEmpty)
        }
        guard let delta else { return nil }
        let removed = view.unpublish(delta.gone)
        try index.remove(Array(removed.keys), partitions: removed.values.map { MemoryPartition(of: $0.scope) })
        if !delta.added.isEmpty {
            let before = view
            try index.add(delta.added.map(\.0), vectors: delta.added.map(\.2), partitions: delta.added.map { MemoryPartition(of: $0.1.scope) },
                          rowsOf: { before.partitions[$0] ?? [] })
            for (row, memory, _) in delta.added { view.publish(row, memory) }
        }
        return (removed.count + delta.added.count, delta.foreign)
    }

    /// The memories (with their embeddings) of the rows `sql` selects (a WHERE clause and more).
    private static func rowsWithEmbeddings(_ db: Database, dimension: Int, sql: String,
                                           arguments: StatementArguments) throws -> [(Int64, Memory, [Float])] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT \(memoryColumns), embedding FROM memory " + sql), arguments: arguments).map { row in
            let (id, memory) = try decode(row)
            guard let blob = row[11] as Data?, blob.count == dimension * 4 else {
                throw MemoryError.invalidParameter("row \(id) has no embedding of \(dimension) floats")
            }
            return (id, memory, floats(blob))
        }
    }
}
