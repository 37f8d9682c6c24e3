import EngramSupport
extension VectorFile {
    /// Reads a NumPy `.npy` file holding a 2-D little-endian float32 array in C order.
    /// - Throws: ``EngramError/malformedFile(path:reason:)`` for a bad magic, an unsupported dtype or
    ///   order, a shape that is not 2-D, or a data section shorter or longer than the shape.
    public static func readNPY(_ path: String) throws -> VectorMatrix {
        let bytes = try EngramError.reportingIO { try FileIO.read(path) }
        func fail(_ reason: String) -> EngramError { .malformedFile(path: path, reason: reason) }
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw fail("not an .npy file (bad magic)") }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw fail("truncated header") }
            headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
            headerStart = 12
        default:
            throw fail("unsupported .npy version \(major)")
        }
        guard headerStart + headerLength <= bytes.count else { throw fail("truncated header") }
        let header = String(decoding: bytes[headerStart..<headerStart + headerLength], as: UTF8.self)
        guard let descr = field("descr", in: header), descr == "'<f4'" || descr == "'float32'" else {
            throw fail("dtype must be little-endian float32 ('<f4'), header is \(header.trimmed)")
        }
        guard field("fortran_order", in: header) == "False" else { throw fail("Fortran-order arrays are not supported") }
        guard let shapeText = field("shape", in: header) else { throw fail("header has no shape") }
        let dims = shapeText.filter { !"() ".contains($0) }.split(separator: ",").map { Int($0) }
        guard dims.count == 2, let rows = dims[0], let dimension = dims[1], rows >= 0, dimension > 0 else {
            throw fail("shape must be 2-D (rows, dimension), got \(shapeText)")
        }
        let dataStart = headerStart + headerLength
        let (expected, overflow) = rows.multipliedReportingOverflow(by: dimension * 4)
        guard !overflow, bytes.count - dataStart == expected else {
            throw fail("data is \(bytes.count - dataStart) bytes, shape (\(rows), \(dimension)) needs \(expected)")
        }
        let values = bytes.withUnsafeBytes { raw in
            [Float](unsafeUninitializedCapacity: rows * dimension) { out, n in
                UnsafeMutableRawPointer(out.baseAddress!).copyMemory(from: raw.baseAddress! + dataStart, byteCount: expected)
                n = rows * dimension
            }
        }
        return VectorMatrix(unchecked: dimension, values)
    }

    /// The text of `key`'s value in the header's Python dict literal (.npy headers hold no nested
    /// dicts; a tuple value is returned with its parentheses).
    private static func field(_ key: String, in header: String) -> String? {
        let chars = Array(header), pattern = Array("'\(key)'")
        guard let start = (0...max(0, chars.count - pattern.count)).first(where: {
            chars.count >= pattern.count && Array(chars[$0..<$0 + pattern.count]) == pattern
        }) else { return nil }
        var i = start + pattern.count
        while i < chars.count, chars[i] == " " || chars[i] == ":" { i += 1 }
        var j = i
        if j < chars.count, chars[j] == "(" {
            while j < chars.count, chars[j] != ")" { j += 1 }
            return j < chars.count ? String(chars[i...j]) : nil
        }
        while j < chars.count, chars[j] != ",", chars[j] != "}" { j += 1 }
        return String(chars[i..<j]).trimmed
    }
}

extension StringProtocol {
    var trimmed: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
