import EngramSupport
import Foundation

/// The memories of a checkpoint, partition by partition, with their posting lists: what lets an
/// open map one file and build its partitions from lists instead of decoding every row of the
/// record store. Each memory is decoded from the mapped file on first use (``StoredMemory``).
///
/// Layout (little-endian; strings are a u32 length and UTF-8 bytes; row lists a u64 count and
/// i64 rows):
///
/// | offset | type | field |
/// |---|---|---|
/// | 0 | 8 bytes | magic `ENGRAMVS` |
/// | 8 | u32 | version (3) |
/// | 12 | u32 | reserved (0) |
/// | 16 | u64 | payload length (the rest of the file) |
/// | 24 | u64 | XXH64 of the payload |
/// | 32 | | payload |
///
/// Payload: the store position (i64: the largest row the record store had assigned), the count n
/// (u64); n rows (i64, ascending), n ids (16 bytes each), n record offsets (u64, ascending, into
/// the record area); the partitions (u64 count; each: field, value, the number of its memories
/// with an expiry or an end of validity (u64), its members as record indexes (u64 count, u32 each, ascending), its
/// posting lists (u64 fields; each: name, u64 keys; each a tag u8 — 0 string, 1 number (f64),
/// 2 bool (u8), 3 null — its value, and rows)); the record area (u64 length, then the records).
/// A record: created, updated, expires, valid from and valid to (f64 seconds since 1970; NaN for
/// none), flags (u8: 1 user, 2 agent, 4 run, 8 successor), text, hash, the scope strings present,
/// the successor's id (16 bytes) if present, the metadata JSON.
/// Every record belongs to exactly one partition.
final class ViewFile: Sendable {
    static let magic = Array("ENGRAMVS".utf8)
    static let version: UInt32 = 3
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

    /// A file that cannot be used: missing, truncated, of another version, failing its checksum
    /// or inconsistent. The store then rebuilds what it held from the record store.
    struct Damaged: Error, CustomStringConvertible {
        let path: String
        let reason: String
        var description: String { "view file \(path): \(reason)" }
    }

    func row(_ i: Int) -> Int64 { Int64(littleEndian: file.base.loadUnaligned(fromByteOffset: rows + i * 8, as: Int64.self)) }

    func id(_ i: Int) -> UUID { UUID(uuid: file.base.loadUnaligned(fromByteOffset: ids + i * 16, as: uuid_t.self)) }

    /// The index of `row`'s record, if the file holds it.
    func index(of row: Int64) -> Int? {
        var lo = 0, hi = count
        while lo < hi {
            let mid = (lo + hi) / 2
            if self.row(mid) < row { lo = mid + 1 } else { hi = mid }
        }
        return lo < count && self.row(lo) == row ? lo : nil
    }

    /// Where record `i` starts and ends as the offsets say (unchecked: a damaged file can say anything).
    private func bounds(_ i: Int) -> (Int, Int) {
        func offset(_ j: Int) -> Int {
            Int(truncatingIfNeeded: UInt64(littleEndian: file.base.loadUnaligned(fromByteOffset: offsets + j * 8, as: UInt64.self)))
        }
        return (offset(i), i + 1 < count ? offset(i + 1) : records.count)
    }

    /// Record `i`'s fields, in place.
    /// - Throws: when the record does not lie in the record area or does not hold exactly its fields.
    func record(_ i: Int) throws -> Record {
        let (start, end) = bounds(i)
        guard 0 <= start, start <= end, end <= records.count else { throw BinaryReader.Truncated() }
        var reader = BinaryReader(file.base, from: records.lowerBound + start, to: records.lowerBound + end)
        let record = try Record(&reader)
        guard reader.offset == reader.end else { throw BinaryReader.Truncated() }
        return record
    }

    /// Record `i`'s expiry and validity, read in place (the first fields of every record), for
    /// time checks that need not decode the memory; nil when the record is damaged.
    func times(_ i: Int) -> MemoryTimes? {
        let (start, end) = bounds(i)
        guard 0 <= start, start + 40 <= end, end <= records.count else { return nil }
        func double(_ offset: Int) -> Double {
            Double(bitPattern: UInt64(littleEndian: file.base.loadUnaligned(fromByteOffset: records.lowerBound + start + offset, as: UInt64.self)))
        }
        return MemoryTimes(expires: double(16), validFrom: double(24), validTo: double(32))
    }

    /// The bytes of record `i`, for copying it unchanged into the next file (checked at load).
    func recordBytes(_ i: Int) -> UnsafeRawBufferPointer {
        let (start, end) = bounds(i)
        return UnsafeRawBufferPointer(start: file.base + records.lowerBound + start, count: end - start)
    }

    /// Memory `i`. Every record was checked when the file was loaded (``load(_:)``) and the
    /// checksum covers its bytes; were one to fail anyway, its memory reads as empty rather than trap.
    func memory(_ i: Int) -> Memory {
        guard let record = try? record(i) else {
            return Memory(id: id(i), text: "", hash: "", metadata: [:], scope: MemoryScope(), createdAt: .distantPast, updatedAt: .distantPast)
        }
        let metadataJSON = String(decoding: record.metadata, as: UTF8.self)
        let metadata = MetadataValue.parseObject(metadataJSON)
            ?? (try? JSONDecoder().decode([String: MetadataValue].self, from: Data(metadataJSON.utf8))) ?? [:]
        return Memory(id: id(i), text: Record.text(record.text), hash: Record.text(record.hash), metadata: metadata,
                      scope: record.scope, createdAt: Date(timeIntervalSince1970: record.created),
                      updatedAt: Date(timeIntervalSince1970: record.updated),
                      expiresAt: record.expires.isNaN ? nil : Date(timeIntervalSince1970: record.expires),
                      validFrom: Date(timeIntervalSince1970: record.validFrom),
                      validTo: record.validTo.isNaN ? nil : Date(timeIntervalSince1970: record.validTo),
                      supersededBy: record.successor, immutable: record.immutable)
    }

    /// A record's fields, in place.
    struct Record {
        var created, updated, expires, validFrom, validTo: Double
        var text, hash, metadata: UnsafeRawBufferPointer
        var user, agent, run: UnsafeRawBufferPointer?
        var successor: UUID?
        var immutable: Bool

        init(_ r: inout BinaryReader) throws {
            (created, updated, expires) = (try r.double(), try r.double(), try r.double())
            (validFrom, validTo) = (try r.double(), try r.double())
            let flags = try r.integer(UInt8.self)
            (text, hash) = (try r.bytes(), try r.bytes())
            user = flags & 1 != 0 ? try r.bytes() : nil
            agent = flags & 2 != 0 ? try r.bytes() : nil
            run = flags & 4 != 0 ? try r.bytes() : nil
            successor = flags & 8 != 0 ? try r.uuid() : nil
            immutable = flags & 16 != 0
            metadata = try r.bytes()
        }

        static func text(_ bytes: UnsafeRawBufferPointer) -> String { String(decoding: bytes, as: UTF8.self) }

        var scope: MemoryScope { MemoryScope(userID: user.map(Self.text), agentID: agent.map(Self.text), runID: run.map(Self.text)) }
    }

    static func encode(_ memory: Memory, into w: inout BinaryWriter) {
        w.append(memory.createdAt.timeIntervalSince1970)
        w.append(memory.updatedAt.timeIntervalSince1970)
        w.append(memory.expiresAt?.timeIntervalSince1970 ?? .nan)
        w.append(memory.validFrom.timeIntervalSince1970)
        w.append(memory.validTo?.timeIntervalSince1970 ?? .nan)
        let scope = memory.scope
        w.append(UInt8((scope.userID != nil ? 1 : 0) | (scope.agentID != nil ? 2 : 0) | (scope.runID != nil ? 4 : 0)
                       | (memory.supersededBy != nil ? 8 : 0) | (memory.immutable ? 16 : 0)))
        w.append(memory.text)
        w.append(memory.hash)
        for field in [scope.userID, scope.agentID, scope.runID] { if let field { w.append(field) } }
        if let successor = memory.supersededBy { withUnsafeBytes(of: successor.uuid) { w.append(raw: $0) } }
        w.append(MetadataValue.jsonText(of: memory.metadata))
    }
}
