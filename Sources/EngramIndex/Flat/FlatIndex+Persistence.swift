extension FlatIndex {
    /// Saves the index to `path` atomically (see ``HNSWIndex/save(to:)``). Searches continue; writers wait.
    ///
    /// The slots of removed vectors are written as zeros: a removed vector leaves no trace in the file.
    public func save(to path: String) throws {
        try lock.withReadLock {
            let n = ids.count
            var header = IndexFileHeader(kind: .flat, metric: metric, dimension: dimension, slotCount: n, liveCount: slotOfID.count)
            header.entrySlot = .max
            let tombstones = live.map { $0 ? UInt8(0) : 1 }
            // Rows in memory are zeroed at removal; only a mapped file's rows removed since it was opened remain.
            let erased = Dictionary(uniqueKeysWithValues: freeSlots.map(Int.init).filter { !isZero($0) }.map { ($0, Int?.none) })
            try storage.rows.withSavedRows(count: n, stride: storage.stride, replacing: erased) { vectorBytes in
                try ids.withUnsafeBytes { idBytes in
                    try tombstones.withUnsafeBytes { tombBytes in
                        try IndexFile.write(path, header: header, sections: [(.vectors, vectorBytes), (.ids, idBytes), (.tombstones, tombBytes)])
                    }
                }
            }
        }
    }

    /// Whether the row of `slot` is all zeros (as a removed row is, once erased).
    func isZero(_ slot: Int) -> Bool {
        UnsafeBufferPointer(start: storage.row(slot), count: dimension).allSatisfy { $0.bitPattern == 0 }
    }

    /// Opens a saved flat index in place: the vectors are searched where the file is mapped (no
    /// copy, so opening costs the ids and tombstones, not the vectors), and the first add copies
    /// them into memory (the file is never written through the mapping). Removes need no copy.
    /// - Throws: ``EngramError/corruptIndex(path:reason:)`` for a bad header, a file of another kind
    ///   or inconsistent ids and tombstones.
    /// - Complexity: O(count) for the id map; the vectors are read by the searches that need them.
    public static func open(_ path: String) throws -> FlatIndex {
        let (header, file) = try IndexFile.open(path)
        guard header.kind == .flat else { throw EngramError.corruptIndex(path: path, reason: "the file holds a \(header.kind) index, not flat") }
        let n = header.slotCount
        let storage = VectorStorage(dimension: header.dimension, mapping: file, offset: header.section(.vectors).offset, count: n)
        let index = FlatIndex(dimension: header.dimension, metric: header.metric, storage: storage)
        let ids = UnsafeBufferPointer(start: (file.base + header.section(.ids).offset).assumingMemoryBound(to: UInt64.self), count: n)
        let dead = UnsafeBufferPointer(start: (file.base + header.section(.tombstones).offset).assumingMemoryBound(to: UInt8.self), count: n)
        try index.lock.withWriteLock {
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
                index.squaredNorms = (0..<n).map { engramDot(storage.row($0), storage.row($0), header.dimension) }
            }
        }
        return index
    }

    /// Whether the vectors are still read from the file the index was opened from.
    public var isMapped: Bool { lock.withReadLock { storage.rows.isMapped } }

    /// Copies the vectors of an index opened from a file into memory now, so that the first add
    /// does not (an add copies them under the write lock, holding searches up meanwhile). Searches
    /// continue during the copy; only the swap takes the write lock.
    /// - Complexity: one copy of the vectors; nothing when they are in memory already.
    public func loadIntoMemory() throws {
        let (mapped, rows) = lock.withReadLock { (storage, ids.count) }
        guard mapped.rows.isMapped else { return }
        // Mapped rows are never written (an add copies them first), so copying them unlocked is safe.
        let copy = try mapped.copiedToMemory(rows: rows)
        lock.withWriteLock {
            guard storage === mapped else { return }
            storage = copy
            eraseRemovedRows()
        }
    }

    /// Zeroes the rows of the free slots, once the storage is in memory: removed vectors leave no
    /// copy in memory either. Call with the write lock held.
    func eraseRemovedRows() {
        for slot in freeSlots { storage.row(Int(slot)).update(repeating: 0, count: dimension) }
    }
}
