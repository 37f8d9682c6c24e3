import Foundation

/// Reads the fields ``BinaryWriter`` wrote (view files), checking every length against the bytes it has:
/// a damaged or hostile snapshot throws, it never reads out of bounds.
struct BinaryReader {
    let base: UnsafeRawPointer
    let end: Int
    private(set) var offset: Int

    init(_ base: UnsafeRawPointer, from offset: Int, to end: Int) {
        self.base = base
        self.offset = offset
        self.end = end
    }

    struct Truncated: Error {}

    mutating func take(_ count: Int) throws -> UnsafeRawPointer {
        guard count >= 0, count <= end - offset else { throw Truncated() }
        defer { offset += count }
        return base + offset
    }

    mutating func integer<T: FixedWidthInteger>(_: T.Type = T.self) throws -> T {
        T(littleEndian: try take(MemoryLayout<T>.size).loadUnaligned(as: T.self))
    }

    mutating func double() throws -> Double { Double(bitPattern: try integer()) }

    /// A UUID's 16 bytes.
    mutating func uuid() throws -> UUID { UUID(uuid: try take(16).loadUnaligned(as: uuid_t.self)) }

    /// A count that must fit in what is left, `width` bytes per element.
    mutating func count(width: Int) throws -> Int {
        let n = try integer(UInt64.self)
        guard n <= UInt64(end - offset) / UInt64(width) else { throw Truncated() }
        return Int(n)
    }

    /// A length (u32) and that many bytes, in place.
    mutating func bytes() throws -> UnsafeRawBufferPointer {
        let n = Int(try integer(UInt32.self))
        return UnsafeRawBufferPointer(start: try take(n), count: n)
    }

    mutating func string() throws -> String { String(decoding: try bytes(), as: UTF8.self) }

    mutating func rows() throws -> [Int64] {
        let n = try count(width: 8)
        let source = try take(n * 8)
        return (0..<n).map { Int64(littleEndian: source.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
    }
}
