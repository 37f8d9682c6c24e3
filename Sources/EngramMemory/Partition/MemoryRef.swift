import Foundation
import Synchronization

/// A memory as a snapshot holds it: decoded, or a record of a view file, decoded on first use
/// (opening a store decodes none of its memories).
///
/// One word: an array of these costs what an array of references does.
enum MemoryRef: Sendable {
    case decoded(DecodedMemory)
    case stored(StoredMemory)

    init(_ memory: Memory) { self = .decoded(DecodedMemory(memory)) }

    var memory: Memory {
        switch self {
        case let .decoded(box): box.memory
        case let .stored(record): record.memory
        }
    }
}

/// A memory held by reference, so that evaluating a filter over many rows reads it in place
/// instead of copying every field (measured: copies were ~20% of search time).
final class DecodedMemory: Sendable {
    let memory: Memory
    init(_ memory: Memory) { self.memory = memory }
}

/// Record `index` of a view file, decoded once on first use; concurrent first uses may each
/// decode it, and one result is kept.
final class StoredMemory: Sendable {
    let file: ViewFile
    let index: Int
    private let cache = Atomic<Unmanaged<DecodedMemory>?>(nil)

    init(_ file: ViewFile, index: Int) {
        self.file = file
        self.index = index
    }

    deinit { cache.load(ordering: .acquiring)?.release() }

    var memory: Memory {
        if let cached = cache.load(ordering: .acquiring) { return cached.takeUnretainedValue().memory }
        let decoded = Unmanaged.passRetained(DecodedMemory(file.memory(index)))
        let (stored, current) = cache.compareExchange(expected: nil, desired: decoded, ordering: .acquiringAndReleasing)
        if !stored, let current {
            decoded.release()
            return current.takeUnretainedValue().memory
        }
        return decoded.takeUnretainedValue().memory
    }
}
