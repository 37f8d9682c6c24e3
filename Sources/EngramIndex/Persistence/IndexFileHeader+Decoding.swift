import EngramSupport
import CEngramKernels

extension IndexFileHeader {
    /// Decodes and validates the header at the start of `file` (`fileSize` bytes at `raw`).
    /// - Throws: ``EngramError/corruptIndex(path:reason:)`` naming the first check that fails.
    static func decode(_ raw: UnsafeRawPointer, fileSize: Int, path: String) throws -> IndexFileHeader {
        func fail(_ reason: String) -> EngramError { .corruptIndex(path: path, reason: reason) }
        guard fileSize >= size else { throw fail("file is \(fileSize) bytes, shorter than the \(size)-byte header") }
        func get<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> T { T(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: T.self)) }
        guard get(0, UInt64.self) == magic else { throw fail("bad magic: not an Engram index file") }
        let version = get(8, UInt32.self)
        guard version == formatVersion else { throw fail("unsupported format version \(version) (this build reads \(formatVersion))") }
        guard get(12, UInt32.self) == byteOrderMark else { throw fail("byte order mark mismatch") }
        guard get(checksumOffset, UInt64.self) == XXH64.hash(UnsafeRawBufferPointer(start: raw, count: checksumOffset)) else { throw fail("header checksum mismatch") }
        // The rest of the header page is written as zeros and not covered by the checksum: it must stay zero.
        guard UnsafeRawBufferPointer(start: raw + checksumOffset + 8, count: size - checksumOffset - 8).allSatisfy({ $0 == 0 }) else {
            throw fail("header padding is not zero")
        }

        guard let kind = Kind(rawValue: get(16, UInt32.self)) else { throw fail("unknown index kind \(get(16, UInt32.self))") }
        guard let metric = Metric(code: get(20, UInt32.self)) else { throw fail("unknown metric code \(get(20, UInt32.self))") }
        let dimension = Int(get(24, UInt32.self))
        guard (1...65_536).contains(dimension) else { throw fail("dimension \(dimension) out of range") }
        guard Int(get(28, UInt32.self)) == VectorStorage.stride(dimension) else { throw fail("row stride does not match dimension \(dimension)") }
        let slots = get(32, UInt64.self), live = get(40, UInt64.self)
        guard slots < UInt64(UInt32.max), live <= slots else { throw fail("inconsistent counts: \(live) live of \(slots) slots") }
        var header = IndexFileHeader(kind: kind, metric: metric, dimension: dimension, slotCount: Int(slots), liveCount: Int(live))
        header.flags = get(88, UInt32.self)
        guard header.flags & ~(halfVectorsFlag | codesFlag) == 0, kind == .hnsw || header.flags == 0 else { throw fail("unknown flags \(header.flags)") }
        if kind == .hnsw { try header.decodeGraphFields(raw, get: get, fail: fail) }
        try header.decodeSections(raw, fileSize: fileSize, get: get, fail: fail)
        return header
    }

    private mutating func decodeGraphFields(
        _ raw: UnsafeRawPointer, get: (Int, UInt64.Type) -> UInt64, fail: (String) -> EngramError
    ) throws {
        let word = raw.loadUnaligned(fromByteOffset: 48, as: SIMD4<UInt32>.self)
        m = Int(word[0])
        efConstruction = Int(word[1])
        entrySlot = word[2]
        maxLevel = Int(word[3])
        seed = get(64, UInt64.self)
        let upper = get(72, UInt64.self)
        guard (2...256).contains(m) else { throw fail("m \(m) out of range") }
        guard maxLevel <= 32 else { throw fail("max level \(maxLevel) out of range") }
        guard slotCount == 0 ? entrySlot == .max : Int(entrySlot) < slotCount else {
            throw fail("entry point \(entrySlot) outside the graph of \(slotCount) nodes")
        }
        guard upper <= UInt64(UInt32.max) else { throw fail("upper-level link count \(upper) out of range") }
        upperWords = Int(upper)
    }

    private mutating func decodeSections(
        _ raw: UnsafeRawPointer, fileSize: Int, get: (Int, UInt64.Type) -> UInt64, fail: (String) -> EngramError
    ) throws {
        let count = Int(raw.loadUnaligned(fromByteOffset: 80, as: UInt32.self))
        guard count <= Self.maxSections else { throw fail("section count \(count) out of range") }
        var end = Self.size
        for i in 0..<count {
            let base = 96 + 32 * i
            let code = raw.loadUnaligned(fromByteOffset: base, as: UInt32.self)
            guard let id = SectionID(rawValue: code), requiredSections.contains(id) else {
                throw fail("unexpected section id \(code) for this index")
            }
            guard !sections.contains(where: { $0.id == id }) else { throw fail("section \(id.name) appears twice") }
            let offset = get(base + 8, UInt64.self), length = get(base + 16, UInt64.self)
            guard offset % UInt64(Self.alignment) == 0, offset >= UInt64(end) else {
                throw fail("section \(id.name) offset \(offset) is misaligned or overlaps the previous section")
            }
            guard offset <= UInt64(fileSize), length <= UInt64(fileSize) - offset else {
                throw fail("section \(id.name) (\(length) bytes at \(offset)) extends past the end of the \(fileSize)-byte file: truncated?")
            }
            let section = Section(id: id, offset: Int(offset), length: Int(length), checksum: get(base + 24, UInt64.self))
            guard section.length == expectedLength(id) else {
                throw fail("section \(id.name) is \(length) bytes, the counts require \(expectedLength(id))")
            }
            sections.append(section)
            end = section.offset + section.length
        }
        for id in requiredSections where !sections.contains(where: { $0.id == id }) {
            throw fail("required section \(id.name) is missing")
        }
        // The writer pads the last section to the alignment: any other size is a damaged file.
        let expectedSize = (end + Self.alignment - 1) / Self.alignment * Self.alignment
        guard fileSize == expectedSize else {
            throw fail(fileSize < expectedSize
                ? "file is \(fileSize) bytes, its sections end at \(expectedSize): truncated"
                : "file is \(fileSize) bytes, \(fileSize - expectedSize) more than its sections: trailing data")
        }
    }
}
