/// How a checkpoint holds a part of the store that changes by appends and removals (the flat
/// vectors, the view): a base file written whole at `basePosition`, the rows removed from it
/// since, and a delta file of what was added since (every row of it above `basePosition`).
///
/// A checkpoint rewrites the delta (small) and lists the removals, and writes a new base only
/// when the changes outgrow a fraction of it, so that the bytes a checkpoint writes follow the
/// changes, not the size of the store, while the files never hold much more than what is live.
struct Segment: Codable, Equatable, Sendable {
    var base: String
    var basePosition: Int64
    var removed: [Int64] = []
    var delta: String?

    var files: [String] { [base] + (delta.map { [$0] } ?? []) }

    /// Whether `removed` rows gone from a base of `baseCount` plus `added` rows since call for
    /// a new base: more than one `fraction`-th of it.
    static func needsNewBase(baseCount: Int, removed: Int, added: Int, fraction: Int) -> Bool {
        (removed + added) * fraction > baseCount
    }
}
