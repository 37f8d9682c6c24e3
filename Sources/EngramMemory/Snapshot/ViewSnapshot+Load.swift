import EngramSupport
import EngramIndex
import Foundation

extension ViewSnapshot {
    /// Maps the snapshot at `path` and builds the view it holds; memories are decoded on first use.
    /// - Returns: the view, the store position it reflects and its rows (ascending).
    /// - Throws: ``Damaged`` when the file is missing, truncated, of another version, fails its
    ///   checksum or is inconsistent (never reads outside the file).
    /// - Complexity: O(memories + posting entries), with no per-memory decoding.
    static func load(_ path: String) throws -> (view: MemoryView, position: Int64, rows: [Int64]) {
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch { throw Damaged(path: path, reason: "\(error)") }
        func fail(_ reason: String) -> Damaged { Damaged(path: path, reason: reason) }
        var header = SnapshotReader(file.base, from: 0, to: file.size)
        guard let magicBytes = try? header.take(magic.count), UnsafeRawBufferPointer(start: magicBytes, count: magic.count).elementsEqual(magic)
        else { throw fail("not a view snapshot") }
        guard let version = try? header.integer(UInt32.self), version == Self.version else { throw fail("unknown version") }
        guard let _ = try? header.integer(UInt32.self), let length = try? header.integer(UInt64.self),
              let checksum = try? header.integer(UInt64.self), length == UInt64(file.size - headerSize)
        else { throw fail("truncated (\(file.size) bytes)") }
        guard XXH64.hash(UnsafeRawBufferPointer(start: file.base + headerSize, count: Int(length))) == checksum
        else { throw fail("checksum mismatch") }
        do {
            return try read(file)
        } catch let error as Damaged {
            throw error
        } catch {
            throw fail("inconsistent payload")
        }
    }

    private static func read(_ file: MappedFile) throws -> (view: MemoryView, position: Int64, rows: [Int64]) {
        var r = SnapshotReader(file.base, from: headerSize, to: file.size)
        let position = try r.integer(Int64.self)
        let n = try r.count(width: 8 + 16 + 8)
        let expiring = try r.integer(UInt64.self)
        let rows = try r.take(n * 8), ids = try r.take(n * 16), offsets = try r.take(n * 8)
        var partitions: [MemoryPartition: [Int64]] = [:]
        for _ in 0..<(try r.count(width: 16)) {
            partitions[MemoryPartition(field: try r.string(), value: try r.string())] = try r.rows()
        }
        var postings: [String: [PostingKey: [Int64]]] = [:]
        for _ in 0..<(try r.count(width: 12)) {
            let field = try r.string()
            var lists: [PostingKey: [Int64]] = [:]
            for _ in 0..<(try r.count(width: 9)) { lists[try key(&r)] = try r.rows() }
            postings[field] = lists
        }
        let recordsLength = try r.count(width: 1)
        let recordsStart = r.offset
        _ = try r.take(recordsLength)
        guard r.offset == file.size, expiring <= UInt64(n) else { throw SnapshotReader.Truncated() }
        let snapshot = ViewSnapshot(file: file, count: n, rows: rows - file.base, ids: ids - file.base, offsets: offsets - file.base,
                                    records: recordsStart..<recordsStart + recordsLength)
        // The two maps are independent: built on two threads, opening takes the longer of them.
        nonisolated(unsafe) var memories: [Int64: MemoryView.Box] = [:]
        nonisolated(unsafe) var rowOfID: [UUID: Int64] = [:]
        nonisolated(unsafe) var failure: (any Error)?
        DispatchQueue.concurrentPerform(iterations: 2) { part in
            if part == 0 {
                memories.reserveCapacity(n)
                for i in 0..<n { memories[snapshot.row(i)] = SnapshotBox(snapshot, index: i) }
            } else {
                do {
                    rowOfID.reserveCapacity(n)
                    for i in 0..<n {
                        guard i == 0 || snapshot.row(i) > snapshot.row(i - 1), rowOfID.updateValue(snapshot.row(i), forKey: snapshot.id(i)) == nil else { throw SnapshotReader.Truncated() }
                        try snapshot.check(record: i)
                    }
                } catch {
                    failure = error
                }
            }
        }
        if let failure { throw failure }
        let view = MemoryView(memories: memories, rowOfID: rowOfID, postings: postings, partitions: partitions, expiringCount: Int(expiring))
        return (view, position, (0..<n).map(snapshot.row))
    }

    private static func key(_ r: inout SnapshotReader) throws -> PostingKey {
        switch try r.integer(UInt8.self) {
        case 0: .string(try r.string())
        case 1: .number(try r.double())
        case 2: .bool(try r.integer(UInt8.self) != 0)
        case 3: .null
        default: throw SnapshotReader.Truncated()
        }
    }
}
