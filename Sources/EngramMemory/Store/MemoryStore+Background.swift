import EngramIndex
import Foundation

extension MemoryStore {
    /// What opening leaves for later, in the background: rebuilding the graphs the catch-up left
    /// with more tombstones than live nodes, building the keyword indexes of the partitions
    /// loaded from the checkpoint (largest first, so that a tenant's first keyword query rarely
    /// builds its own), and copying the mapped flat index into memory (so that the first add
    /// does not hold searches up while it copies).
    func finishOpeningInBackground() {
        // First: the graph rebuilds below read the flat vectors.
        background.start { [weak self] in try? self?.verifyIndexFilesOnce(isCancelled: { Task.isCancelled }) }
        let due = writer.exclusive { state, ledger in
            let due = state.partitions.values.filter { p in p.graph.map { $0.tombstoneCount > $0.count } ?? false }.map(\.key)
            ledger.compacting.formUnion(due)
            return due
        }
        for key in due { compactInBackground(key) }
        let writer = writer, done = backgroundOpeningDone
        background.start {
            // Last on the lane: the check and the rebuilds started above have run by then.
            defer { done.withLock { $0 = true } }
            let pending = writer.state.partitions.values.filter { $0.keyword == nil }.sorted { $0.count > $1.count }.map(\.key)
            for key in pending {
                if Task.isCancelled { return }
                guard let partition = writer.state.partitions[key], partition.keyword == nil else { continue }
                let index = KeywordIndex(documents: partition.texts)
                Self.install(index, builtFrom: partition, into: writer)
            }
            if !Task.isCancelled { try? writer.vectors.base.loadIntoMemory() }
        }
    }

    /// Keeps a keyword index a search built for a partition that had none.
    func installKeyword(_ index: KeywordIndex, builtFrom partition: Partition) {
        Self.install(index, builtFrom: partition, into: writer)
    }

    /// Installs `index`, built from `snapshot`, as its partition's keyword index, caught up with
    /// what changed since (unless the partition has one by now).
    private static func install(_ index: KeywordIndex, builtFrom snapshot: Partition, into writer: StoreWriter) {
        writer.exclusive { state, _ in
            guard var current = state.partitions[snapshot.key], current.keyword == nil else { return }
            var index = index
            let now = Set(current.rows), then = Set(snapshot.rows)
            index.remove(snapshot.texts { !now.contains($0) })
            index.add(current.texts { !then.contains($0) })
            current.keyword = index
            state.partitions[snapshot.key] = current
        }
    }

    /// Rebuilds the graph of partition `key` without its tombstones, in the background: built
    /// from the vectors beside the writes, then installed with writers excluded, caught up with
    /// what changed meanwhile. Amortized, a removal costs about one graph insertion.
    func compactInBackground(_ key: ScopeKey) {
        let writer = writer
        background.start { Self.rebuildGraph(key, in: writer, isCancelled: { Task.isCancelled }) }
    }

    /// Replaces the graph of partition `key` with one built from the flat vectors: built beside
    /// the writes, then installed with writers excluded, caught up with what changed meanwhile.
    /// - Returns: whether it replaced the graph (false when cancelled or failed: the old graph stays).
    @discardableResult
    static func rebuildGraph(_ key: ScopeKey, in writer: StoreWriter, isCancelled: () -> Bool = { false }) -> Bool {
        let snapshot = writer.state.partitions[key]
        let fresh: HNSWIndex?
        if let snapshot, snapshot.count > StoreState.graphThreshold {
            fresh = try? PartitionGraph.build(Array(snapshot.rows), from: writer.vectors, isCancelled: isCancelled)
        } else {
            fresh = nil
        }
        return writer.exclusive { state, ledger in
            ledger.compacting.remove(key)
            guard var current = state.partitions[key] else { return true }
            if current.count <= StoreState.graphThreshold {
                current.graph = nil
            } else if let fresh, (try? PartitionGraph.catchUp(fresh, to: Array(current.rows), from: writer.vectors)) != nil {
                current.graph = fresh
            } else {
                return false  // due again at its next removal
            }
            ledger.changedPartitions.insert(key)
            state.partitions[key] = current
            return true
        }
    }

    /// Follows the changes other nodes commit to a shared record: woken by the record's
    /// notifications (or every second), it reads the change feed and applies what this store
    /// lacks through the writer. A database that is down is retried; nothing is lost meanwhile,
    /// since the feed is read from where the store stands.
    func followInBackground() {
        let records = records
        background.start(on: .following) { [weak self] in
            while !Task.isCancelled {
                await records.waitForChanges(timeout: .seconds(1))
                guard !Task.isCancelled, let self else { return }
                if let due = try? self.catchUp() { for key in due { self.compactInBackground(key) } }
            }
        }
    }

    /// Applies what the record holds that the state lacks, from the state's cursor.
    ///
    /// The feed is read without holding the writer, so that local writes never wait for it (nor,
    /// when the database stops answering, for its timeout); it is read again under the writer
    /// only if a local write was applied meanwhile, since the read could not account for it (it
    /// might return a memory deleted since).
    /// - Returns: the partitions whose graphs it made due for a rebuild.
    func catchUp() throws -> [ScopeKey] {
        let started = ContinuousClock.now
        let before = writer.snapshot()
        let read = try records.changes(after: before.ledger.cursor, derived: before.state)
        let due = try applyCaughtUp(read, before: before)
        caughtUp.withLock { $0 = max($0, started) }
        return due
    }

    private func applyCaughtUp(_ read: (change: RecordChange, cursor: ChangeCursor, lateRows: Bool),
                               before: (state: StoreState, ledger: StoreWriter.Ledger)) throws -> [ScopeKey] {
        try writer.exclusive { state, ledger in
            let (change, cursor, late) = ledger.applied == before.ledger.applied
                ? read : try records.changes(after: ledger.cursor, derived: state)
            let applied = try state.apply(change, vectors: writer.vectors)
            let due = applied.due.subtracting(ledger.compacting)
            ledger.compacting.formUnion(due)
            ledger.record(change, applied)
            ledger.cursor = ChangeCursor(position: max(cursor.position, ledger.cursor.position), horizon: cursor.horizon, seen: cursor.seen)
            if late { ledger.baseline = nil }
            return Array(due)
        }
    }
}
