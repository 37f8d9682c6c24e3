import EngramSupport
import Foundation

extension ViewFile {
    /// Writes the memories of `partitions` whose rows are above `floor` (nil: all of them) to
    /// `path`, atomically (temp file, fsync, rename, fsync of the directory): a whole view, or the
    /// delta of the memories added since a base file of position `floor`. Memories still
    /// undecoded from an earlier file are copied as bytes.
    /// - Parameter position: the store position the partitions reflect.
    /// - Returns: the number of memories written.
    /// - Complexity: O(memories written + their posting entries + partitions).
    @discardableResult
    static func write(_ partitions: [Partition], above floor: Int64?, position: Int64, to path: String) throws -> Int {
        // Each partition's members above the floor, then every member in row order.
        let starts = partitions.map { p in floor.map { f in p.rows.withUnsafeBufferPointer { SortedRows.lowerBound($0, f + 1) } } ?? 0 }
        var members: [(row: Int64, partition: Int, index: Int)] = []
        for (p, partition) in partitions.enumerated() {
            for i in starts[p]..<partition.count { members.append((partition.rows[i], p, i)) }
        }
        members.sort { $0.row < $1.row }
        var recordIndex: [[UInt32]] = partitions.map { _ in [] }
        var payload = BinaryWriter(), records = BinaryWriter()
        payload.append(position)
        payload.append(UInt64(members.count))
        for member in members { payload.append(member.row) }
        var offsets: [UInt64] = []
        offsets.reserveCapacity(members.count)
        for (i, member) in members.enumerated() {
            recordIndex[member.partition].append(UInt32(i))
            offsets.append(UInt64(records.bytes.count))
            switch partitions[member.partition].memories[member.index] {
            case let .stored(stored):
                withUnsafeBytes(of: stored.file.id(stored.index).uuid) { payload.append(raw: $0) }
                records.append(raw: stored.file.recordBytes(stored.index))
            case let .decoded(box):
                withUnsafeBytes(of: box.memory.id.uuid) { payload.append(raw: $0) }
                encode(box.memory, into: &records)
            }
        }
        for offset in offsets { payload.append(offset) }
        let written = partitions.indices.filter { !recordIndex[$0].isEmpty }
        payload.append(UInt64(written.count))
        for p in written { appendPartition(partitions[p], members: recordIndex[p], above: floor, to: &payload) }
        payload.append(UInt64(records.bytes.count))
        records.bytes.withUnsafeBytes { payload.append(raw: $0) }
        try save(payload.bytes, to: path)
        return members.count
    }

    private static func appendPartition(_ partition: Partition, members: [UInt32], above floor: Int64?, to w: inout BinaryWriter) {
        w.append(partition.key.field)
        w.append(partition.key.value)
        let expiring = floor == nil ? partition.boundedCount : partition.memories.suffix(members.count).count { $0.memory.hasTimeBound }
        w.append(UInt64(expiring))
        w.append(UInt64(members.count))
        for member in members { w.append(member) }
        let fields = partition.postings.compactMap { field, lists -> (String, [(PostingKey, [Int64])])? in
            let kept = lists.compactMap { key, list -> (PostingKey, [Int64])? in
                let rows = list.withUnsafeBufferPointer { rows in Array(rows[(floor.map { SortedRows.lowerBound(rows, $0 + 1) } ?? 0)...]) }
                return rows.isEmpty ? nil : (key, rows)
            }
            return kept.isEmpty ? nil : (field, kept)
        }
        w.append(UInt64(fields.count))
        for (field, lists) in fields {
            w.append(field)
            w.append(UInt64(lists.count))
            for (key, rows) in lists {
                append(key, to: &w)
                w.append(rows)
            }
        }
    }

    private static func append(_ key: PostingKey, to w: inout BinaryWriter) {
        switch key {
        case let .string(s): w.append(UInt8(0)); w.append(s)
        case let .number(n): w.append(UInt8(1)); w.append(n)
        case let .bool(b): w.append(UInt8(2)); w.append(UInt8(b ? 1 : 0))
        case .null: w.append(UInt8(3))
        }
    }

    private static func save(_ payload: [UInt8], to path: String) throws {
        var header = BinaryWriter()
        magic.withUnsafeBytes { header.append(raw: $0) }
        header.append(version)
        header.append(UInt32(0))
        header.append(UInt64(payload.count))
        payload.withUnsafeBytes { header.append(XXH64.hash($0)) }
        try MemoryError.reportingIO {
            try FileIO.writeAtomically(path) { write in
                try header.bytes.withUnsafeBytes { try write($0) }
                try payload.withUnsafeBytes { try write($0) }
            }
        }
    }
}
