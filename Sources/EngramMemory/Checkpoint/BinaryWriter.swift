import Foundation

/// Appends little-endian fields to a growing byte buffer (the encoding side of ``BinaryReader``).
struct BinaryWriter {
    private(set) var bytes: [UInt8] = []

    mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func append(_ value: Double) { append(value.bitPattern) }

    /// A length (u32) and the UTF-8 bytes.
    mutating func append(_ string: String) {
        var string = string
        string.withUTF8 { utf8 in
            append(UInt32(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    /// A count (u64) and the values.
    mutating func append(_ rows: [Int64]) {
        append(UInt64(rows.count))
        for row in rows { append(row) }
    }

    mutating func append(raw: UnsafeRawBufferPointer) { bytes.append(contentsOf: raw) }
}
