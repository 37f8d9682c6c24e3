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
    /// this fraction of the baseline: opening decodes the delta's memories one by one, so a larger
    /// delta costs the next open more than rewriting the baseline costs the checkpoint.
    static let deltaFraction = 8

    /// What `view` removed from the baseline and added after it (ascending), or nil when that is
    /// too much for a delta.
    func delta(to view: MemoryView) -> (removed: [Int64], added: [Int64])? {
        let removed = rows.filter { view.memories[$0] == nil }
        let added = view.memories.keys.filter { $0 > position }
        guard (removed.count + added.count) * Self.deltaFraction <= rows.count else { return nil }
        return (removed, added.sorted())
    }
}
