import EngramSupport
import Foundation
import HashTreeCollections

extension ViewFile {
    /// What a view file holds: the store position it reflects and its partitions, whose memories
    /// are decoded on first use.
    struct Contents {
        var position: Int64
        var partitions: [Partition]
        var file: ViewFile
    }

    /// Maps the view file at `path` and builds its partitions, checking every record's bounds.
    /// - Throws: ``Damaged`` when the file is missing, truncated, of another version, fails its
    ///   checksum or is inconsistent (it never reads outside the file, whatever the file says).
    /// - Complexity: O(memories + posting entries), with no memory decoded.
    static func load(_ path: String) throws -> Contents {
        let mapped: MappedFile
        do { mapped = try MappedFile(path: path) } catch { throw Damaged(path: path, reason: "\(error)") }
        func fail(_ reason: String) -> Damaged { Damaged(path: path, reason: reason) }
        var header = BinaryReader(mapped.base, from: 0, to: mapped.size)
        guard let magicBytes = try? header.take(magic.count), UnsafeRawBufferPointer(start: magicBytes, count: magic.count).elementsEqual(magic)
        else { throw fail("not a view file") }
        guard let version = try? header.integer(UInt32.self), version == Self.version else { throw fail("unknown version") }
        guard let _ = try? header.integer(UInt32.self), let length = try? header.integer(UInt64.self),
              let checksum = try? header.integer(UInt64.self), length == UInt64(mapped.size - headerSize)
        else { throw fail("truncated (\(mapped.size) bytes)") }
        guard XXH64.hash(UnsafeRawBufferPointer(start: mapped.base + headerSize, count: Int(length))) == checksum
        else { throw fail("checksum mismatch") }
        do {
            return try read(mapped)
        } catch {
            throw fail("inconsistent payload")
        }
    }

    private static func read(_ mapped: MappedFile) throws -> Contents {
        var r = BinaryReader(mapped.base, from: headerSize, to: mapped.size)
        let position = try r.integer(Int64.self)
        let n = try r.count(width: 8 + 16 + 8)
        let rows = try r.take(n * 8), ids = try r.take(n * 16), offsets = try r.take(n * 8)
        let layout = try PartitionLayout.read(&r, memories: n)
        let recordsLength = try r.count(width: 1)
        let recordsStart = r.offset
        _ = try r.take(recordsLength)
        guard r.offset == mapped.size else { throw BinaryReader.Truncated() }
        let file = ViewFile(file: mapped, count: n, rows: rows - mapped.base, ids: ids - mapped.base, offsets: offsets - mapped.base,
                            records: recordsStart..<recordsStart + recordsLength)
        // Checking every record and building the partitions are independent: on two threads,
        // opening takes the longer of the two.
        nonisolated(unsafe) var partitions: [Partition] = []
        nonisolated(unsafe) var failure: (any Error)?
        DispatchQueue.concurrentPerform(iterations: 2) { part in
            do {
                if part == 0 { partitions = try layout.partitions(of: file) } else { try file.checkRecords() }
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        return Contents(position: position, partitions: partitions, file: file)
    }

    /// Throws unless the rows ascend, the ids are distinct and every record holds exactly its fields.
    private func checkRecords() throws {
        var seen = Set<UUID>(minimumCapacity: count)
        for i in 0..<count {
            guard i == 0 || row(i) > row(i - 1), seen.insert(id(i)).inserted else { throw BinaryReader.Truncated() }
            _ = try record(i)
        }
    }
}

/// The partition section of a view file, read but not yet built into partitions.
private struct PartitionLayout: @unchecked Sendable {  // immutable; `members` points into the mapped file, which outlives it
    struct Entry {
        var key: ScopeKey
        var expiring: Int
        var members: UnsafeRawPointer
        var memberCount: Int
        var postings: [(field: String, lists: [(PostingKey, [Int64])])]
    }

    var entries: [Entry]

    static func read(_ r: inout BinaryReader, memories n: Int) throws -> PartitionLayout {
        var entries: [Entry] = []
        var total = 0
        for _ in 0..<(try r.count(width: 16)) {
            let key = ScopeKey(field: try r.string(), value: try r.string())
            let expiring = Int(try r.integer(UInt64.self))
            let m = try r.count(width: 4)
            let members = try r.take(m * 4)
            var postings: [(String, [(PostingKey, [Int64])])] = []
            for _ in 0..<(try r.count(width: 12)) {
                let field = try r.string()
                var lists: [(PostingKey, [Int64])] = []
                for _ in 0..<(try r.count(width: 9)) { lists.append((try postingKey(&r), try ascending(r.rows()))) }
                postings.append((field, lists))
            }
            guard expiring <= m else { throw BinaryReader.Truncated() }
            total += m
            entries.append(Entry(key: key, expiring: expiring, members: members, memberCount: m, postings: postings))
        }
        guard total == n else { throw BinaryReader.Truncated() }
        return PartitionLayout(entries: entries)
    }

    private static func postingKey(_ r: inout BinaryReader) throws -> PostingKey {
        switch try r.integer(UInt8.self) {
        case 0: .string(try r.string())
        case 1: .number(try r.double())
        case 2: .bool(try r.integer(UInt8.self) != 0)
        case 3: .null
        default: throw BinaryReader.Truncated()
        }
    }

    private static func ascending(_ rows: [Int64]) throws -> [Int64] {
        for i in rows.indices.dropFirst() where rows[i] <= rows[i - 1] { throw BinaryReader.Truncated() }
        return rows
    }

    /// The partitions, each member checked: in range, ascending, and in one partition only.
    func partitions(of file: ViewFile) throws -> [Partition] {
        var claimed = [Bool](repeating: false, count: file.count)
        return try entries.map { entry in
            var rows: [Int64] = [], memories: [MemoryRef] = []
            rows.reserveCapacity(entry.memberCount)
            memories.reserveCapacity(entry.memberCount)
            for j in 0..<entry.memberCount {
                let i = Int(UInt32(littleEndian: entry.members.loadUnaligned(fromByteOffset: j * 4, as: UInt32.self)))
                guard i < file.count, !claimed[i], rows.last.map({ $0 < file.row(i) }) ?? true else { throw BinaryReader.Truncated() }
                claimed[i] = true
                rows.append(file.row(i))
                memories.append(.stored(StoredMemory(file, index: i)))
            }
            var postings = TreeDictionary<String, TreeDictionary<PostingKey, SharedArray<Int64>>>()
            for (field, lists) in entry.postings {
                var keyed = TreeDictionary<PostingKey, SharedArray<Int64>>()
                for (key, rows) in lists { keyed[key] = SharedArray(rows) }
                postings[field] = keyed
            }
            return Partition(key: entry.key, rows: SharedArray(rows), memories: SharedArray(memories), postings: postings,
                             boundedCount: entry.expiring)
        }
    }
}
