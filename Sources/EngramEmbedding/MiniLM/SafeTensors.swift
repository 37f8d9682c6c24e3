import EngramSupport
import Foundation

/// A `.safetensors` file, mapped read-only: an 8-byte little-endian header length, a JSON header
/// (name → dtype, shape, data offsets), then the tensor bytes. Float32 tensors are used in place.
struct SafeTensors: @unchecked Sendable {  // the mapping is immutable
    struct Entry {
        let dtype: String
        let shape: [Int]
        let offset: Int
        let length: Int
    }

    let path: String
    let file: MappedFile
    let entries: [String: Entry]

    init(path: String) throws {
        func fail(_ reason: String) -> EmbeddingError { .invalidModel(path: path, reason: reason) }
        file = try MappedFile(path: path)
        self.path = path
        guard file.size >= 8 else { throw fail("shorter than the header length field") }
        let headerLength = Int(clamping: UInt64(littleEndian: file.base.loadUnaligned(as: UInt64.self)))
        guard headerLength <= file.size - 8 else { throw fail("header length \(headerLength) exceeds the file") }
        let data = Data(bytes: file.base + 8, count: headerLength)
        guard let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw fail("header is not a JSON object") }
        let dataStart = 8 + headerLength
        var entries: [String: Entry] = [:]
        for (name, value) in json where name != "__metadata__" {
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2
            else { throw fail("tensor \(name) has a malformed entry") }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end, end <= file.size - dataStart else { throw fail("tensor \(name) lies outside the file") }
            entries[name] = Entry(dtype: dtype, shape: shape, offset: dataStart + begin, length: end - begin)
        }
        self.entries = entries
    }

    /// The float32 tensor `name`, which must have `shape`, in place.
    func floats(_ name: String, shape: [Int]) throws -> UnsafePointer<Float> {
        guard let e = entries[name] else { throw EmbeddingError.invalidModel(path: path, reason: "tensor \(name) is missing") }
        guard e.dtype == "F32", e.shape == shape, e.length == shape.reduce(1, *) * 4 else {
            throw EmbeddingError.invalidModel(path: path, reason: "tensor \(name) is \(e.dtype) \(e.shape), expected F32 \(shape)")
        }
        guard e.offset % 4 == 0 else { throw EmbeddingError.invalidModel(path: path, reason: "tensor \(name) is misaligned") }
        return (file.base + e.offset).assumingMemoryBound(to: Float.self)
    }
}
