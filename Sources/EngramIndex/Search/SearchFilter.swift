import EngramSupport

/// The items a search may return: a set of external ids, resolved to slots by the index that runs
/// the search, under that search's own lock.
///
/// Make one from ids with ``init(allowing:)`` and pass it to any index. An index's
/// `filter(allowing:)` also resolves the ids to that index's slots once, so that searching that
/// index many times with one filter (a benchmark, a planner) does not resolve them each time.
/// Every search checks that resolution: when it was made by another index, or the index has given
/// a slot to a different item since (a reused slot, a compaction), the search resolves the ids
/// again. A filter therefore never allows the wrong items and never goes stale; there is nothing to
/// retry.
public struct SearchFilter: Sendable {
    /// The allowed ids, as given (unknown ids and repeats allow nothing more).
    public let ids: [UInt64]
    /// The ids resolved to the slots of one index at one layout.
    package let resolution: Resolution?

    /// A filter's ids as slots of one index.
    package struct Resolution: Sendable {
        /// The index and the layout (slot assignment) it was resolved under.
        package let layout: IndexLayout
        package let allowed: Bitset
        /// Allowed live items at resolution.
        package let allowedCount: Int

        package init(layout: IndexLayout, allowed: Bitset, allowedCount: Int) {
            self.layout = layout
            self.allowed = allowed
            self.allowedCount = allowedCount
        }
    }

    /// A filter allowing `ids`.
    /// - Complexity: O(ids); resolving it costs one hash lookup per id, on the first search.
    public init(allowing ids: some Sequence<UInt64>) {
        self.ids = ids as? [UInt64] ?? Array(ids)
        resolution = nil
    }

    package init(ids: [UInt64], resolution: Resolution) {
        self.ids = ids
        self.resolution = resolution
    }

    /// The number of allowed live items when the index that made this filter resolved it; nil
    /// when no index has (``init(allowing:)``).
    public var allowedCount: Int? { resolution?.allowedCount }
}

/// Which index, and which assignment of its slots to items: a resolved filter is valid exactly while
/// both are unchanged.
package struct IndexLayout: Sendable, Equatable {
    /// Unique per index object for the life of the process (never reused, unlike an address).
    package let index: UInt64
    /// Bumped whenever a slot goes to a different item.
    package let version: UInt64

    package init(index: UInt64, version: UInt64) {
        self.index = index
        self.version = version
    }

    private static let counter = AtomicCounter()

    /// A new index identity.
    package static func newIndex() -> UInt64 { UInt64(counter.add(1)) }
}

extension SearchFilter {
    /// The allowed slots under `layout`: the stored resolution when it is for `layout`, else the
    /// ids resolved now with `slot` (the index's id map, read under the caller's lock).
    package func allowedSlots(under layout: IndexLayout, capacity: Int, slot: (UInt64) -> UInt32?) -> (allowed: Bitset, count: Int) {
        if let resolution, resolution.layout == layout { return (resolution.allowed, resolution.allowedCount) }
        return Self.resolve(ids, capacity: capacity, slot: slot)
    }

    /// `ids` as a set of slots, with how many live items it allows.
    package static func resolve(_ ids: [UInt64], capacity: Int, slot: (UInt64) -> UInt32?) -> (allowed: Bitset, count: Int) {
        var bits = Bitset(capacity: capacity)
        var n = 0
        for id in ids {
            guard let s = slot(id), !bits.contains(Int(s)) else { continue }
            bits.insert(Int(s))
            n += 1
        }
        return (bits, n)
    }
}
