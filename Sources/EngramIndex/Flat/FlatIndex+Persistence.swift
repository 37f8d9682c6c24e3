extension FlatIndex {
    /// Saves the index to `path` atomically (see ``HNSWIndex/save(to:)``). Searches continue; writers wait.
    public func save(to path: String) throws {
        try lock.withReadLock {
            let n = ids.count
            var header = IndexFileHeader(kind: .flat, metric: metric, dimension: dimension, slotCount: n, liveCount: slotOfID.count)
            header.entrySlot = .max
            let tombstones = live.map { $0 ? UInt8(0) : 1 }
            try ids.withUnsafeBytes { idBytes in
                try tombstones.withUnsafeBytes { tombBytes in
                    try IndexFile.write(path, header: header, sections: [
                        (.vectors, storage.rows.bytes(count: n * storage.stride)), (.ids, idBytes), (.tombstones, tombBytes),
                    ])
                }
            }
        }
    }

    /// Opens a saved flat index by loading it into memory (an exact index reads every row on every
    /// search anyway, and loading keeps it writable). Costs one copy of the vectors.
    /// - Throws: ``EngramError/corruptIndex(path:reason:)`` for a bad header or a file of another kind.
    public static func open(_ path: String) throws -> FlatIndex {
        let (header, file) = try IndexFile.open(path)
        guard header.kind == .flat else { throw EngramError.corruptIndex(path: path, reason: "the file holds a \(header.kind) index, not flat") }
        let index = try FlatIndex(dimension: header.dimension, metric: header.metric)
        let n = header.slotCount
        let ids = UnsafeBufferPointer(start: (file.base + header.section(.ids).offset).assumingMemoryBound(to: UInt64.self), count: n)
        let dead = UnsafeBufferPointer(start: (file.base + header.section(.tombstones).offset).assumingMemoryBound(to: UInt8.self), count: n)
        let rows = (file.base + header.section(.vectors).offset).assumingMemoryBound(to: Float.self)
        try index.lock.withWriteLock {
            try index.storage.reserve(rows: n)
            index.storage.base.update(from: rows, count: n * index.storage.stride)
            index.ids = Array(ids)
            index.live = dead.map { $0 == 0 }
            for slot in 0..<n {
                if index.live[slot], index.slotOfID.updateValue(UInt32(slot), forKey: ids[slot]) != nil {
                    throw EngramError.corruptIndex(path: path, reason: "id \(ids[slot]) appears twice")
                }
                if !index.live[slot] { index.freeSlots.append(UInt32(slot)) }
            }
            guard index.slotOfID.count == header.liveCount else {
                throw EngramError.corruptIndex(path: path, reason: "header says \(header.liveCount) live vectors, the tombstones \(index.slotOfID.count)")
            }
            if header.metric == .l2 {
                index.squaredNorms = (0..<n).map { engramDot(index.storage.row($0), index.storage.row($0), header.dimension) }
            }
        }
        return index
    }
}
