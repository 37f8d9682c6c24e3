import EngramSupport
import Foundation

/// The one writer of a store: it applies committed changes to the derived state, in commit order,
/// and publishes each result as the state searches read.
///
/// A change runs in three steps while no other change runs: the record store commits it (one
/// transaction), the vector indexes and a copy of the state take it in, and the copy is published.
/// Publishing is a pointer swap under a readers-writer lock, so a search never waits for a
/// change, only (for nanoseconds) for the swap. Background work (graph rebuilds, keyword index
/// builds) prepares its result beside the writes and installs it through ``exclusive(_:)``,
/// caught up with whatever changed meanwhile.
///
/// Lock order: `serial` (one change at a time) before `published` (the swap); a checkpoint's
/// own lock (``Checkpointer``) before `serial`. Searches take `published` alone, to read.
final class StoreWriter: Sendable {
    let vectors: MemoryVectors
    private let published: RWLocked<StoreState>
    private let serial: Locked<Ledger>
    /// Where replaced states are released (see ``publish(_:)``).
    private let retirement = DispatchQueue(label: "engram.store.retired-states", qos: .utility)

    /// What the writer keeps beside the state: what the next checkpoint must write.
    struct Ledger: Sendable {
        /// Changes since the last checkpoint (or since the open, beyond what the checkpoint held).
        var changesSinceCheckpoint = 0
        /// Partitions changed since the last checkpoint: their graph files cannot be listed again.
        var changedPartitions = Set<ScopeKey>()
        /// The position of the whole view file the next checkpoint may write a delta against (nil:
        /// it writes a whole view), and the rows at or below it removed since.
        var baseline: Int64?
        var removedFromBaseline: [Int64] = []
        /// Whether a memory was deleted since the baseline was written: the next checkpoint then
        /// writes a whole view if the baseline holds removed rows (a delta would keep them in its base).
        var deletedSinceBaseline = false
        /// Partitions whose graph is being rebuilt.
        var compacting = Set<ScopeKey>()
        /// Where the state stands in the record's change order (what a checkpoint taken now saves).
        var cursor = ChangeCursor(position: 0)
        /// Changes applied so far: equal counts mean an unchanged set of rows.
        var applied = 0

        /// Notes a change applied to the state.
        mutating func record(_ change: RecordChange, _ outcome: StoreState.Applied) {
            applied += 1
            if outcome.deleted { deletedSinceBaseline = true }
            changesSinceCheckpoint += change.size
            for record in change.added {
                changedPartitions.insert(ScopeKey(partitionOf: record.memory.scope))
                // A row at or below the baseline's position that the baseline lacks (committed out
                // of row order, by another writer) cannot be told from the baseline's own rows by
                // position: the next checkpoint writes a whole view.
                if let baseline, record.row <= baseline { self.baseline = nil }
                cursor.position = max(cursor.position, record.row)
            }
            for (row, scope) in change.removed {
                changedPartitions.insert(ScopeKey(partitionOf: scope))
                if let baseline, row <= baseline { removedFromBaseline.append(row) }
            }
        }
    }

    init(state: StoreState, vectors: MemoryVectors, ledger: Ledger) {
        self.vectors = vectors
        published = RWLocked(state)
        serial = Locked(ledger)
    }

    /// The state searches read now.
    var state: StoreState { published.read { $0 } }

    /// Commits a change and applies it: `commit` runs one record-store transaction and returns
    /// what it changed; the new state is published before this returns (read-your-writes).
    /// - Returns: `commit`'s result and the partitions whose graphs are due for a rebuild.
    func perform<R>(_ commit: () throws -> (RecordChange, R)) throws -> (result: R, due: [ScopeKey]) {
        try serial.withLock { ledger in
            let (change, result) = try commit()
            guard !change.isEmpty else { return (result, []) }
            var next = published.read { $0 }
            let applied = try next.apply(change, vectors: vectors)
            publish(next)
            ledger.record(change, applied)
            let claimed = applied.due.subtracting(ledger.compacting)
            ledger.compacting.formUnion(claimed)
            return (result, Array(claimed))
        }
    }

    /// Runs `body` with no change running, on the state and the ledger; what it leaves in the
    /// state is published.
    func exclusive<R>(_ body: (inout StoreState, inout Ledger) throws -> R) rethrows -> R {
        try serial.withLock { ledger in
            var next = published.read { $0 }
            let result = try body(&next, &ledger)
            publish(next)
            return result
        }
    }

    /// The state and the ledger as they are between two changes.
    func snapshot() -> (state: StoreState, ledger: Ledger) {
        serial.withLock { ledger in (published.read { $0 }, ledger) }
    }

    /// Makes `next` the state searches read. The state it replaces is released on another
    /// thread: freeing what a change replaced (persistent-map nodes, list buffers no state shares
    /// any more) took a tenth of a batch add's time, and neither the writer nor, under the swap's
    /// lock, a reader should wait for it.
    private func publish(_ next: StoreState) {
        var retired = next
        published.write { swap(&$0, &retired) }
        retirement.async { [retired] in withExtendedLifetime(retired) {} }
        retired = StoreState()
    }

    /// Changes since the last checkpoint.
    var changesSinceCheckpoint: Int { serial.withLock { $0.changesSinceCheckpoint } }
}
