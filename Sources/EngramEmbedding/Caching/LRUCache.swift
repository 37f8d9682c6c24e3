/// A fixed-capacity map that forgets its least recently used entry to make room.
///
/// Entries live in one array linked through indexes (no allocation per entry after the first
/// `capacity` insertions); the dictionary maps a key to its slot.
struct LRUCache<Key: Hashable, Value> {
    private struct Entry {
        var key: Key
        var value: Value
        var older: Int32, newer: Int32
    }

    let capacity: Int
    private var slots: [Key: Int32] = [:]
    private var entries: [Entry] = []
    /// The most and the least recently used entry (-1: none).
    private var newest: Int32 = -1, oldest: Int32 = -1

    /// - Parameter capacity: entries kept (at least 1).
    init(capacity: Int) {
        self.capacity = max(1, capacity)
        slots.reserveCapacity(self.capacity)
    }

    var count: Int { entries.count }

    /// The value of `key`, which becomes the most recently used.
    /// - Complexity: O(1).
    mutating func value(_ key: Key) -> Value? {
        guard let slot = slots[key] else { return nil }
        promote(slot)
        return entries[Int(slot)].value
    }

    /// Stores `value` for `key` as the most recently used, evicting the least recently used entry
    /// when full.
    /// - Complexity: O(1).
    mutating func insert(_ value: Value, for key: Key) {
        if let slot = slots[key] {
            entries[Int(slot)].value = value
            promote(slot)
            return
        }
        let slot: Int32
        if entries.count < capacity {
            slot = Int32(entries.count)
            entries.append(Entry(key: key, value: value, older: -1, newer: -1))
        } else {
            slot = oldest
            unlink(slot)
            slots[entries[Int(slot)].key] = nil
            entries[Int(slot)] = Entry(key: key, value: value, older: -1, newer: -1)
        }
        slots[key] = slot
        pushNewest(slot)
    }

    private mutating func promote(_ slot: Int32) {
        guard slot != newest else { return }
        unlink(slot)
        pushNewest(slot)
    }

    private mutating func unlink(_ slot: Int32) {
        let (older, newer) = (entries[Int(slot)].older, entries[Int(slot)].newer)
        if older >= 0 { entries[Int(older)].newer = newer } else { oldest = newer }
        if newer >= 0 { entries[Int(newer)].older = older } else { newest = older }
    }

    private mutating func pushNewest(_ slot: Int32) {
        entries[Int(slot)].older = newest
        entries[Int(slot)].newer = -1
        if newest >= 0 { entries[Int(newest)].newer = slot }
        newest = slot
        if oldest < 0 { oldest = slot }
    }
}
