/// A fixed-size set of slot numbers, one bit each.
package struct Bitset: Sendable, Equatable {
    @usableFromInline var words: [UInt64]
    /// The number of slots the set can hold (`0..<capacity`).
    package let capacity: Int

    package init(capacity: Int) {
        self.capacity = capacity
        words = Array(repeating: 0, count: (capacity + 63) >> 6)
    }

    @inlinable @inline(__always)
    package func contains(_ slot: Int) -> Bool {
        slot < capacity && words[slot >> 6] & (1 << UInt64(slot & 63)) != 0
    }

    package mutating func insert(_ slot: Int) {
        precondition(slot >= 0 && slot < capacity, "slot out of range")
        words[slot >> 6] |= 1 << UInt64(slot & 63)
    }

    package mutating func remove(_ slot: Int) {
        guard slot >= 0 && slot < capacity else { return }
        words[slot >> 6] &= ~(1 << UInt64(slot & 63))
    }

    /// The number of members (population count).
    package var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// Members below `limit` in increasing order; `ahead(next)` is called for the following member
    /// before `body(current)` runs, so the caller can prefetch what `next` will need while it works
    /// on `current` (scattered rows otherwise cost one full cache miss each, one after another).
    package func forEach(below limit: Int, ahead: (Int) -> Void, _ body: (Int) -> Void) {
        var pending = -1
        forEach { slot in
            guard slot < limit else { return }
            ahead(slot)
            if pending >= 0 { body(pending) }
            pending = slot
        }
        if pending >= 0 { body(pending) }
    }

    /// Members in increasing order.
    package func forEach(_ body: (Int) throws -> Void) rethrows {
        for (w, word) in words.enumerated() {
            var bits = word
            while bits != 0 {
                try body(w << 6 | bits.trailingZeroBitCount)
                bits &= bits &- 1
            }
        }
    }
}
