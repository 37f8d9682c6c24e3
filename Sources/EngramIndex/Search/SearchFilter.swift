/// A set of items a search may return, resolved to the index's slots.
///
/// Make one with `filter(allowing:)` on the index that will be searched. It stays valid while that
/// index keeps its slot layout; an index that reuses or compacts slots afterwards rejects it with
/// ``EngramError/staleFilter`` rather than letting it allow the wrong items.
public struct SearchFilter: Sendable {
    /// Allowed slots.
    package let allowed: Bitset
    /// Number of allowed live items when the filter was built.
    public let allowedCount: Int
    package let layoutVersion: UInt64

    package init(allowed: Bitset, allowedCount: Int, layoutVersion: UInt64) {
        self.allowed = allowed
        self.allowedCount = allowedCount
        self.layoutVersion = layoutVersion
    }
}
