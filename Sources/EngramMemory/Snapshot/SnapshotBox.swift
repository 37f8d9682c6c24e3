import Foundation
import Synchronization

/// A memory of a ``ViewSnapshot``, decoded on first use and then kept. Small (two words and a
/// lock) because a store opens with one per memory.
final class SnapshotBox: MemoryView.Box, @unchecked Sendable {  // the cache is behind a mutex
    let snapshot: ViewSnapshot
    let index: Int
    private let decoded = Mutex<MemoryView.StoredBox?>(nil)

    init(_ snapshot: ViewSnapshot, index: Int) {
        self.snapshot = snapshot
        self.index = index
    }

    override var memory: Memory {
        decoded.withLock { cached in
            if let cached { return cached.memory }
            let box = MemoryView.StoredBox(snapshot.memory(index))
            cached = box
            return box.memory
        }
    }
}
