import EngramSupport
import EngramIndex
import Foundation

extension ViewSnapshot {
    /// Saves `view` atomically to `path` (temp file, fsync, rename, fsync of the directory).
    /// Memories still undecoded from an earlier snapshot are copied as bytes.
    /// - Parameter position: the store position the view reflects (the largest row number assigned).
    /// - Returns: the rows written, ascending.
    /// - Complexity: O(memories + posting entries).
    @discardableResult
    static func write(_ view: MemoryView, position: Int64, to path: String) throws -> [Int64] {
        let rows = view.memories.keys.sorted()
        var records = SnapshotWriter()
        var payload = SnapshotWriter()
        payload.append(position)
        payload.append(UInt64(rows.count))
        payload.append(UInt64(view.expiringCount))
        for row in rows { payload.append(row) }
        var offsets: [UInt64] = []
        offsets.reserveCapacity(rows.count)
        for row in rows {
            let box = view.memories[row]!
            offsets.append(UInt64(records.bytes.count))
            if let lazy = box as? SnapshotBox {
                withUnsafeBytes(of: lazy.snapshot.id(lazy.index).uuid) { payload.append(raw: $0) }
                records.append(raw: lazy.snapshot.recordBytes(lazy.index))
            } else {
                withUnsafeBytes(of: box.memory.id.uuid) { payload.append(raw: $0) }
                encode(box.memory, into: &records)
            }
        }
        for offset in offsets { payload.append(offset) }
        payload.append(UInt64(view.partitions.count))
        for (partition, rows) in view.partitions {
            payload.append(partition.field)
            payload.append(partition.value)
            payload.append(rows)
        }
        payload.append(UInt64(view.postings.count))
        for (field, lists) in view.postings {
            payload.append(field)
            payload.append(UInt64(lists.count))
            for (key, rows) in lists {
                append(key, to: &payload)
                payload.append(rows)
            }
        }
        payload.append(UInt64(records.bytes.count))
        records.bytes.withUnsafeBytes { payload.append(raw: $0) }
        try save(payload.bytes, to: path)
        return rows
    }

    private static func append(_ key: PostingKey, to w: inout SnapshotWriter) {
        switch key {
        case let .string(s): w.append(UInt8(0)); w.append(s)
        case let .number(n): w.append(UInt8(1)); w.append(n)
        case let .bool(b): w.append(UInt8(2)); w.append(UInt8(b ? 1 : 0))
        case .null: w.append(UInt8(3))
        }
    }

    private static func save(_ payload: [UInt8], to path: String) throws {
        var header = SnapshotWriter()
        magic.withUnsafeBytes { header.append(raw: $0) }
        header.append(version)
        header.append(UInt32(0))
        header.append(UInt64(payload.count))
        payload.withUnsafeBytes { header.append(XXH64.hash($0)) }
        try FileIO.writeAtomically(path) { write in
            try header.bytes.withUnsafeBytes { try write($0) }
            try payload.withUnsafeBytes { try write($0) }
        }
    }
}
