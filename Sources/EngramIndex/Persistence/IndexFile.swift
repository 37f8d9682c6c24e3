import EngramSupport
import CEngramKernels

/// Reading, writing and checking Engram index files.
///
/// - Saving is atomic: a temporary file in the same directory is written, fsynced and renamed over
///   the target, then the directory is fsynced. A crash leaves the old file or the new one.
/// - Opening maps the file read-only and checks only the header (its checksum and every offset,
///   length and count), so it takes the same time for any index size; ``verify(_:)`` also checks
///   every section checksum and the graph's structure.
public enum IndexFile {
    /// Opens the index file at `path` as the index it holds: an HNSW index is used in place
    /// (mapped, header checked), a flat one mapped until its first write.
    /// - Throws: ``EngramError/corruptIndex(path:reason:)`` or ``EngramError/io(path:operation:errno:)``.
    /// - Complexity: O(1) in the index size (a header check).
    public static func open(_ path: String) throws -> any VectorIndex {
        switch try inspect(path).kind {
        case .flat: try FlatIndex.open(path)
        case .hnsw: try HNSWIndex.open(path)
        }
    }

    /// The validated header of the index file at `path`.
    public static func inspect(_ path: String) throws -> IndexFileHeader {
        try open(path).header
    }

    /// Checks everything: the header, every section checksum, and for HNSW every link count and
    /// target, every upper-level offset and level. Returns the header when all pass.
    /// - Throws: ``EngramError/corruptIndex(path:reason:)`` naming the first problem.
    @discardableResult
    public static func verify(_ path: String) throws -> IndexFileHeader {
        let (header, file) = try open(path)
        var end = IndexFileHeader.size
        for section in header.sections {
            // The alignment padding before each section is written as zeros.
            guard UnsafeRawBufferPointer(start: file.base + end, count: section.offset - end).allSatisfy({ $0 == 0 }) else {
                throw EngramError.corruptIndex(path: path, reason: "padding before section \(section.id.name) is not zero")
            }
            let sum = XXH64.hash(UnsafeRawBufferPointer(start: file.base + section.offset, count: section.length))
            guard sum == section.checksum else {
                throw EngramError.corruptIndex(path: path, reason: "section \(section.id.name) checksum mismatch")
            }
            end = section.offset + section.length
        }
        guard UnsafeRawBufferPointer(start: file.base + end, count: file.size - end).allSatisfy({ $0 == 0 }) else {
            throw EngramError.corruptIndex(path: path, reason: "bytes after the last section are not zero")
        }
        if header.kind == .hnsw { try GraphCheck(header: header, file: file).run() }
        return header
    }

    /// Maps `path` and validates its header.
    static func open(_ path: String) throws -> (header: IndexFileHeader, file: MappedFile) {
        let file = try EngramError.reportingIO { try MappedFile(path: path) }
        return (try IndexFileHeader.decode(file.base, fileSize: file.size, path: path), file)
    }

    /// Writes `sections` under `header` to `path` atomically (checksums computed here).
    static func write(_ path: String, header: IndexFileHeader, sections: [(IndexFileHeader.SectionID, UnsafeRawBufferPointer)]) throws {
        var header = header
        header.layOut(sections.map { ($0.0, $0.1.count) },
                      checksums: sections.map { XXH64.hash($0.1) })
        let padding = [UInt8](repeating: 0, count: IndexFileHeader.alignment)
        try EngramError.reportingIO { try FileIO.writeAtomically(path) { sink in
            try header.encoded().withUnsafeBytes { try sink($0) }
            for (_, bytes) in sections {
                if bytes.count > 0 { try sink(bytes) }
                let pad = (IndexFileHeader.alignment - bytes.count % IndexFileHeader.alignment) % IndexFileHeader.alignment
                if pad > 0 { try padding.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0..<pad])) } }
            }
        } }
    }
}

/// The structural checks of `verify` for HNSW files: what a checksum cannot catch in a file that was
/// written wrong (or crafted) with matching checksums.
private struct GraphCheck {
    let header: IndexFileHeader
    let file: MappedFile

    func words(_ id: IndexFileHeader.SectionID) -> UnsafeBufferPointer<UInt32> {
        let s = header.section(id)
        return UnsafeBufferPointer(start: (file.base + s.offset).assumingMemoryBound(to: UInt32.self), count: s.length / 4)
    }

    func run() throws {
        func fail(_ reason: String) -> EngramError { .corruptIndex(path: file.path, reason: reason) }
        let n = header.slotCount, m = header.m
        let level0 = words(.level0Links), upper = words(.upperLinks), offsets = words(.upperOffsets)
        let levels = UnsafeBufferPointer(start: (file.base + header.section(.levels).offset).assumingMemoryBound(to: UInt8.self), count: n)
        for slot in 0..<n {
            try checkList(level0, at: slot * (1 + 2 * m), limit: 2 * m, n: n, node: slot, level: 0)
            let level = Int(levels[slot])
            guard level <= header.maxLevel else { throw fail("node \(slot) has level \(level) above the top \(header.maxLevel)") }
            guard level > 0 else { continue }
            let offset = Int(offsets[slot])
            guard offset <= header.upperWords, level * (1 + m) <= header.upperWords - offset else {
                throw fail("node \(slot) upper-level lists point outside the link arena")
            }
            for l in 1...level { try checkList(upper, at: offset + (l - 1) * (1 + m), limit: m, n: n, node: slot, level: l) }
        }
        if n > 0, Int(levels[Int(header.entrySlot)]) != header.maxLevel {
            throw fail("entry point \(header.entrySlot) is not on the top level \(header.maxLevel)")
        }
    }

    private func checkList(_ words: UnsafeBufferPointer<UInt32>, at start: Int, limit: Int, n: Int, node: Int, level: Int) throws {
        let count = Int(words[start])
        guard count <= limit else {
            throw EngramError.corruptIndex(path: file.path, reason: "node \(node) level \(level) has \(count) links, at most \(limit) allowed")
        }
        for i in 0..<count where Int(words[start + 1 + i]) >= n {
            throw EngramError.corruptIndex(path: file.path, reason: "node \(node) level \(level) links to \(words[start + 1 + i]), outside the graph of \(n) nodes")
        }
    }
}
