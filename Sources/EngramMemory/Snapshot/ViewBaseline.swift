/// The full view snapshot that a checkpoint's view is based on: its file, the store position it
/// reflects and its rows.
///
/// A checkpoint writes a new baseline only when the memories removed from the last one and added
/// since pass a fraction of it; otherwise it writes the added memories alone (a delta snapshot)
/// and lists the removed rows in the manifest, so that the bytes it writes for the view follow the
/// changes, not the size of the store (the same scheme as the flat vectors' base and tail).
struct ViewBaseline: Sendable {
    var file: String
    var position: Int64
    /// Ascending.
    var rows: [Int64]

    /// A delta is kept while the baseline's rows removed plus the rows added since are at most
    /// 1/deltaFraction of the baseline. Every checkpoint rewrites the whole delta, so a larger
    /// fraction writes fewer baselines but longer deltas: with checkpoints every c changes on n
    /// memories, about n/(2·c·f) + f rows are written per change, least near f = √(n/2c): 7 when
    /// checkpoints come every n/100 changes, as ``MemoryStore/checkpointIfDue()`` makes them.
    /// Opening merges a delta without decoding it: at 200k memories a 24k delta left the open at
    /// 0.08 s.
    static let deltaFraction = 8

    /// What a checkpoint writes of a view: all of it (a new baseline), or what it removed from the
    /// baseline and the memories it added since.
    enum Changes {
        case full(MemoryView)
        case delta(of: ViewBaseline, removed: [Int64], added: [(row: Int64, memory: MemoryView.Box)])
    }

    /// The changes of `view` against the baseline; `.full` when there are too many for a delta.
    /// - Complexity: O(rows of the baseline and of `view`), without copying `view` (a write after
    ///   a `.full` copy of a view copies the maps it changes: an add of ~20 ms was seen at 200k).
    func changes(in view: MemoryView) -> Changes {
        let budget = rows.count / Self.deltaFraction
        var added: [(row: Int64, memory: MemoryView.Box)] = []
        for (row, memory) in view.memories where row > position {
            added.append((row, memory))
            if added.count > budget { return .full(view) }
        }
        // Every row of the view up to `position` is one of the baseline's (an open that finds
        // rows another writer left drops its baseline: see `MemoryStore.openCheckpoint`), so the
        // count tells whether any of them are gone.
        guard view.count - added.count != rows.count else { return .delta(of: self, removed: [], added: added.sorted { $0.row < $1.row }) }
        var removed: [Int64] = []
        for row in rows where view.memories[row] == nil {
            removed.append(row)
            if added.count + removed.count > budget { return .full(view) }
        }
        return .delta(of: self, removed: removed, added: added.sorted { $0.row < $1.row })
    }
}
