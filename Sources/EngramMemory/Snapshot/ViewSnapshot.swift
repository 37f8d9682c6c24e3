import EngramSupport
import EngramIndex
import Foundation

/// The memory view saved with a checkpoint, so that opening a store maps one file and builds its
/// maps instead of decoding every row of the database; each memory is decoded from the mapped
/// file on first use (``SnapshotBox``).
///
/// Layout (little-endian; strings are a u32 length and UTF-8 bytes, row lists a u64 count and
/// i64 rows):
///
/// | offset | type | field |
/// |---|---|---|
/// | 0 | 8 bytes | magic `ENGRAMVS` |
/// | 8 | u32 | version (1) |
/// | 12 | u32 | reserved (0) |
/// | 16 | u64 | payload length (the rest of the file) |
/// | 24 | u64 | XXH64 of the payload |
/// | 32 | | payload |
///
/// Payload: the store position (i64: the largest row number the database had assigned), the
/// count n (u64), the number of memories with an expiry (u64); n rows (i64, ascending), n ids
/// (16 bytes each), n record offsets (u64, ascending, into the record area); the partitions (u64
/// count; each: field, value, rows); the posting lists (u64 fields; each: name, u64 keys; each a
/// tag u8 — 0 string, 1 number (f64), 2 bool (u8), 3 null — its value, and rows); the record area
/// (u64 length, then the records). A record: created, updated and expires (f64 seconds since
/// 1970; NaN for no expiry), scope flags (u8: 1 user, 2 agent, 4 run), text, hash, the scope
/// strings present, the metadata JSON.
final class ViewSnapshot: @unchecked Sendable {  // immutable after load
    static let magic = Array("ENGRAMVS".utf8)
    static let version: UInt32 = 1
    static let headerSize = 32

    private let file: MappedFile
    let count: Int
    /// Where the rows, the ids, the record offsets and the record area lie in `file`.
    private let rows: Int, ids: Int, offsets: Int, records: Range<Int>

    init(file: MappedFile, count: Int, rows: Int, ids: Int, offsets: Int, records: Range<Int>) {
        self.file = file
        self.count = count
        self.rows = rows
        self.ids = ids
        self.offsets = offsets
        self.records = records
    }

    struct Damaged: Error, CustomStringConvertible {
        let path: String
        let reason: String
        var description: String { "view snapshot \(path): \(reason)" }
    }

    func row(_ i: Int) -> Int64 { Int64(littleEndian: file.base.loadUnaligned(fromByteOffset: rows + i * 8, as: Int64.self)) }

    func id(_ i: Int) -> UUID { UUID(uuid: file.base.loadUnaligned(fromByteOffset: ids + i * 16, as: uuid_t.self)) }

    /// The byte range of record `i` in the record area (unchecked: see ``check(record:)``).
    func record(_ i: Int) -> Range<Int> {
        let (start, end) = bounds(i)
        return start..<end
    }

    /// Where record `i` starts and ends as the offsets say (unchecked: a damaged file can say anything).
    private func bounds(_ i: Int) -> (Int, Int) {
        func offset(_ j: Int) -> Int {
            Int(truncatingIfNeeded: UInt64(littleEndian: file.base.loadUnaligned(fromByteOffset: offsets + j * 8, as: UInt64.self)))
        }
        return (offset(i), i + 1 < count ? offset(i + 1) : records.count)
    }

    /// Throws unless record `i` lies in the record area and holds exactly its fields.
    func check(record i: Int) throws {
        let (start, end) = bounds(i)
        guard 0 <= start, start <= end, end <= records.count else { throw SnapshotReader.Truncated() }
        var reader = reader(start..<end)
        _ = try RawRecord(&reader)
        guard reader.offset == reader.end else { throw SnapshotReader.Truncated() }
    }

    private func reader(_ range: Range<Int>) -> SnapshotReader {
        SnapshotReader(file.base, from: records.lowerBound + range.lowerBound, to: records.lowerBound + range.upperBound)
    }

    /// Memory `i` (its record was checked at load).
    func memory(_ i: Int) -> Memory {
        var reader = reader(record(i))
        // Cannot throw: every record was checked at load, and the checksum covers its bytes.
        let raw = try! RawRecord(&reader)
        let metadataJSON = String(decoding: raw.metadata, as: UTF8.self)
        let metadata = MetadataValue.parseObject(metadataJSON)
            ?? (try? JSONDecoder().decode([String: MetadataValue].self, from: Data(metadataJSON.utf8))) ?? [:]
        func text(_ bytes: UnsafeRawBufferPointer?) -> String? { bytes.map { String(decoding: $0, as: UTF8.self) } }
        return Memory(id: id(i), text: text(raw.text)!, hash: text(raw.hash)!, metadata: metadata,
                      scope: MemoryScope(userID: text(raw.user), agentID: text(raw.agent), runID: text(raw.run)),
                      createdAt: Date(timeIntervalSince1970: raw.created), updatedAt: Date(timeIntervalSince1970: raw.updated),
                      expiresAt: raw.expires.isNaN ? nil : Date(timeIntervalSince1970: raw.expires))
    }

    /// The bytes of record `i`, for copying it unchanged into the next snapshot.
    func recordBytes(_ i: Int) -> UnsafeRawBufferPointer {
        let range = record(i)
        return UnsafeRawBufferPointer(start: file.base + records.lowerBound + range.lowerBound, count: range.count)
    }

    /// A record's fields, in place.
    private struct RawRecord {
        var created, updated, expires: Double
        var text, hash, metadata: UnsafeRawBufferPointer
        var user, agent, run: UnsafeRawBufferPointer?

        init(_ r: inout SnapshotReader) throws {
            (created, updated, expires) = (try r.double(), try r.double(), try r.double())
            let flags = try r.integer(UInt8.self)
            (text, hash) = (try r.bytes(), try r.bytes())
            user = flags & 1 != 0 ? try r.bytes() : nil
            agent = flags & 2 != 0 ? try r.bytes() : nil
            run = flags & 4 != 0 ? try r.bytes() : nil
            metadata = try r.bytes()
        }
    }

    static func encode(_ memory: Memory, into w: inout SnapshotWriter) {
        w.append(memory.createdAt.timeIntervalSince1970)
        w.append(memory.updatedAt.timeIntervalSince1970)
        w.append(memory.expiresAt?.timeIntervalSince1970 ?? .nan)
        let scope = memory.scope
        w.append(UInt8((scope.userID != nil ? 1 : 0) | (scope.agentID != nil ? 2 : 0) | (scope.runID != nil ? 4 : 0)))
        w.append(memory.text)
        w.append(memory.hash)
        for field in [scope.userID, scope.agentID, scope.runID] { if let field { w.append(field) } }
        w.append(MetadataValue.jsonText(of: memory.metadata))
    }
}
