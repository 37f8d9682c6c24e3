import EngramSupport
import Foundation

extension MetadataValue {
    /// The JSON text of a metadata object, as stored in the database (keys sorted, so equal
    /// metadata is stored identically). Written by hand: `JSONEncoder` was a fifth of the time of
    /// a batched add. Numbers must be finite (``MemoryStore`` validates metadata first).
    static func jsonText(of object: [String: MetadataValue]) -> String {
        var out = "{"
        for (i, key) in object.keys.sorted().enumerated() {
            if i > 0 { out += "," }
            JSONString.append(key, to: &out)
            out += ":"
            switch object[key]! {
            case let .string(s): JSONString.append(s, to: &out)
            case let .number(n): out += n == n.rounded(.towardZero) && abs(n) < 1e15 ? String(Int64(n)) : "\(n)"
            case let .bool(b): out += b ? "true" : "false"
            case .null: out += "null"
            case let .strings(list):
                out += "["
                for (j, s) in list.enumerated() {
                    if j > 0 { out += "," }
                    JSONString.append(s, to: &out)
                }
                out += "]"
            }
        }
        return out + "}"
    }

    /// Parses a stored metadata object (`{"key": value, ...}`) straight from its UTF-8 bytes.
    ///
    /// Opening a store decodes every memory's metadata, so this skips `JSONDecoder`'s generic
    /// machinery for the small objects stored here. It accepts exactly the JSON this layer
    /// writes (objects of strings, numbers, booleans, null and string arrays) and returns nil for
    /// anything else, so callers can fall back to `JSONDecoder` for the rest.
    static func parseObject(_ json: String) -> [String: MetadataValue]? {
        var json = json
        return json.withUTF8 { bytes in
            var parser = Parser(bytes: bytes)
            return parser.object()
        }
    }

    private struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        var i = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        mutating func object() -> [String: MetadataValue]? {
            guard take(UInt8(ascii: "{")) else { return nil }
            var result: [String: MetadataValue] = [:]
            if take(UInt8(ascii: "}")) { return atEnd() ? result : nil }
            repeat {
                guard let key = string(), take(UInt8(ascii: ":")), let value = value() else { return nil }
                result[key] = value
            } while take(UInt8(ascii: ","))
            return take(UInt8(ascii: "}")) && atEnd() ? result : nil
        }

        mutating func value() -> MetadataValue? {
            skipSpace()
            guard i < bytes.count else { return nil }
            switch bytes[i] {
            case UInt8(ascii: "\""): return string().map(MetadataValue.string)
            case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
            case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
            case UInt8(ascii: "n"): return literal("null") ? .null : nil
            case UInt8(ascii: "["):
                i += 1
                var list: [String] = []
                if take(UInt8(ascii: "]")) { return .strings(list) }
                repeat {
                    guard let s = string() else { return nil }
                    list.append(s)
                } while take(UInt8(ascii: ","))
                return take(UInt8(ascii: "]")) ? .strings(list) : nil
            default: return number().map(MetadataValue.number)
            }
        }

        /// A string without escapes is sliced directly; one with escapes goes through JSONDecoder.
        mutating func string() -> String? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = i
            var escaped = false
            while i < bytes.count, bytes[i] != UInt8(ascii: "\"") {
                if bytes[i] == UInt8(ascii: "\\") { escaped = true; i += 1 }
                i += 1
            }
            guard i < bytes.count else { return nil }
            let raw = UnsafeBufferPointer(rebasing: bytes[start..<i])
            i += 1
            guard escaped else { return String(decoding: raw, as: UTF8.self) }
            return try? JSONDecoder().decode(String.self, from: Data([UInt8(ascii: "\"")] + raw + [UInt8(ascii: "\"")]))
        }

        mutating func number() -> Double? {
            let start = i
            while i < bytes.count, Self.numberBytes.contains(bytes[i]) { i += 1 }
            guard i > start else { return nil }
            return Double(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self))
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let n = word.utf8CodeUnitCount
            guard i + n <= bytes.count, memcmp(bytes.baseAddress! + i, word.utf8Start, n) == 0 else { return false }
            i += n
            return true
        }

        mutating func take(_ byte: UInt8) -> Bool {
            skipSpace()
            guard i < bytes.count, bytes[i] == byte else { return false }
            i += 1
            return true
        }

        mutating func skipSpace() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
        }

        func atEnd() -> Bool {
            var j = i
            while j < bytes.count, bytes[j] == 0x20 || bytes[j] == 0x0A || bytes[j] == 0x0D || bytes[j] == 0x09 { j += 1 }
            return j == bytes.count
        }

        static let numberBytes = Set("+-0123456789.eE".utf8)
    }
}
