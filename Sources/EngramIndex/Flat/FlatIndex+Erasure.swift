import EngramSupport

extension FlatIndex {
    /// Overwrites with zeros, in place in the flat index file at `path`, the vectors of the items
    /// with `ids` that it holds, and rewrites the file's checksums to match: for a file kept in use
    /// while the items are removed from it elsewhere (a list of removed ids beside it), so that
    /// none of their values remain in it. The ids and tombstones are left as they are. Rows already
    /// zero, and ids the file does not hold, are skipped; an index mapped from the file sees the
    /// zeros.
    ///
    /// Not atomic: a crash part way leaves rows zeroed under the old checksum, which
    /// ``IndexFile/verify(_:)`` reports; the rows written are the ones being erased either way.
    /// - Returns: how many rows it zeroed.
    /// - Throws: ``EngramError/corruptIndex(path:reason:)`` for a file that is not a valid flat
    ///   index, ``EngramError/io(path:operation:errno:)``.
    /// - Complexity: O(slots) to find the rows, plus one pass over the vectors for the checksum
    ///   when any row changed.
    @discardableResult
    package static func eraseVectors(ids: some Sequence<UInt64>, inFileAt path: String) throws -> Int {
        let wanted = Set(ids)
        guard !wanted.isEmpty else { return 0 }
        let (header, file) = try IndexFile.open(path)
        guard header.kind == .flat else { throw EngramError.corruptIndex(path: path, reason: "the file holds a \(header.kind) index, not flat") }
        let vectors = header.section(.vectors), rowBytes = header.stride * 4
        let storedIDs = UnsafeBufferPointer(start: (file.base + header.section(.ids).offset).assumingMemoryBound(to: UInt64.self),
                                            count: header.slotCount)
        let slots = (0..<header.slotCount).filter { slot in
            wanted.contains(storedIDs[slot])
                && !UnsafeRawBufferPointer(start: file.base + vectors.offset + slot * rowBytes, count: rowBytes).allSatisfy { $0 == 0 }
        }
        guard !slots.isEmpty else { return 0 }
        let zeros = [UInt8](repeating: 0, count: rowBytes)
        try EngramError.reportingIO { try FileIO.patch(path, slots.map { (vectors.offset + $0 * rowBytes, zeros) }) }
        // The mapping shows what was just written (one page cache): the checksum is of the new rows.
        var patched = header
        let index = patched.sections.firstIndex { $0.id == .vectors }!
        patched.sections[index].checksum = XXH64.hash(UnsafeRawBufferPointer(start: file.base + vectors.offset, count: vectors.length))
        try EngramError.reportingIO { try FileIO.patch(path, [(0, patched.encoded())]) }
        return slots.count
    }
}
