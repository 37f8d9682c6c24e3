import EngramSupport
/// Readers and writers for the vector file formats Engram exchanges with other tools.
///
/// - `.fvecs` / `.ivecs` (TEXMEX): per row a little-endian Int32 dimension, then that many Float32
///   / Int32 values. Every row must have the same dimension.
/// - `.npy`: NumPy 2-D arrays of little-endian float32 (`<f4`), C order, format versions 1–3.
public enum VectorFile {
    /// Reads an `.fvecs` file (or `.npy`, by extension) into a matrix.
    /// - Throws: ``EngramError/malformedFile(path:reason:)`` naming the row or field at fault.
    public static func readVectors(_ path: String) throws -> VectorMatrix {
        path.hasSuffix(".npy") ? try readNPY(path) : try readFvecs(path)
    }

    /// Reads an `.fvecs` file.
    public static func readFvecs(_ path: String) throws -> VectorMatrix {
        let (dimension, values) = try readRows(path, as: Float.self)
        return VectorMatrix(unchecked: dimension, values)
    }

    /// Reads an `.ivecs` file into rows (e.g. ground-truth neighbour ids).
    public static func readIvecs(_ path: String) throws -> [[Int32]] {
        let (dimension, values) = try readRows(path, as: Int32.self)
        return stride(from: 0, to: values.count, by: dimension).map { Array(values[$0..<$0 + dimension]) }
    }

    /// Writes rows as `.fvecs`, atomically.
    public static func writeFvecs(_ matrix: VectorMatrix, to path: String) throws {
        try writeRows(matrix.values, dimension: matrix.dimension, to: path)
    }

    /// Writes rows as `.ivecs`, atomically. All rows must have the same length.
    public static func writeIvecs(_ rows: [[Int32]], to path: String) throws {
        let dimension = rows.first?.count ?? 0
        guard rows.allSatisfy({ $0.count == dimension }) else {
            throw EngramError.invalidParameter("ivecs rows must all have the same length")
        }
        try writeRows(rows.flatMap { $0 }, dimension: dimension, to: path)
    }

    // Engram's platforms are little-endian, the byte order of these formats, so rows are copied as is.
    private static func readRows<T: BitwiseCopyable>(_ path: String, as: T.Type) throws -> (Int, [T]) {
        let bytes = try EngramError.reportingIO { try FileIO.read(path) }
        guard bytes.count >= 4 else {
            throw EngramError.malformedFile(path: path, reason: "file is empty or shorter than one row header")
        }
        let dimension = bytes.withUnsafeBytes { Int($0.loadUnaligned(as: Int32.self)) }
        guard dimension > 0, dimension <= 1 << 20 else {
            throw EngramError.malformedFile(path: path, reason: "row 0 declares dimension \(dimension)")
        }
        let rowBytes = 4 + 4 * dimension
        guard bytes.count % rowBytes == 0 else {
            throw EngramError.malformedFile(
                path: path,
                reason: "size \(bytes.count) is not a whole number of \(dimension)-d rows of \(rowBytes) bytes: row \(bytes.count / rowBytes) is truncated")
        }
        let rows = bytes.count / rowBytes
        let values = try [T](unsafeUninitializedCapacity: rows * dimension) { out, initialized in
            try bytes.withUnsafeBytes { raw in
                let dst = UnsafeMutableRawPointer(out.baseAddress!)
                for r in 0..<rows {
                    let d = raw.loadUnaligned(fromByteOffset: r * rowBytes, as: Int32.self)
                    guard d == dimension else {
                        throw EngramError.malformedFile(path: path, reason: "row \(r) has dimension \(d), row 0 has \(dimension)")
                    }
                    (dst + r * dimension * 4).copyMemory(from: raw.baseAddress! + r * rowBytes + 4, byteCount: dimension * 4)
                }
            }
            initialized = rows * dimension
        }
        return (dimension, values)
    }

    private static func writeRows<T: BitwiseCopyable>(_ values: [T], dimension: Int, to path: String) throws {
        guard MemoryLayout<T>.size == 4, dimension > 0 || values.isEmpty else {
            throw EngramError.invalidParameter("rows need a positive dimension")
        }
        try EngramError.reportingIO { try FileIO.writeAtomically(path) { sink in
            var header = Int32(dimension)
            try values.withUnsafeBytes { raw in
                for r in 0..<(dimension == 0 ? 0 : values.count / dimension) {
                    try withUnsafeBytes(of: &header) { try sink($0) }
                    try sink(UnsafeRawBufferPointer(rebasing: raw[r * dimension * 4..<(r + 1) * dimension * 4]))
                }
            }
        } }
    }
}
