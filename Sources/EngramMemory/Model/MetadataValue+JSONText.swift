import EngramSupport
import Foundation

extension MetadataValue {
    /// The JSON text of a metadata object, as stored in the database (keys sorted, so equal
    /// metadata is stored identically). Written by hand: `JSONEncoder` was a fifth of the time of
    /// a batched add. Numbers must be finite (``MemoryStore`` validates metadata first).
    static func jsonText(of object: [String: MetadataValue]) -> String {
        var out = ""
        append(object: object, to: &out)
        return out
    }

    private static func append(object: [String: MetadataValue], to out: inout String) {
        out += "{"
        for (i, key) in object.keys.sorted().enumerated() {
            if i > 0 { out += "," }
            JSONString.append(key, to: &out)
            out += ":"
            object[key]!.appendJSON(to: &out)
        }
        out += "}"
    }

    private func appendJSON(to out: inout String) {
        switch self {
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
        case let .array(list):
            out += "["
            for (j, element) in list.enumerated() {
                if j > 0 { out += "," }
                element.appendJSON(to: &out)
            }
            out += "]"
        case let .object(fields): Self.append(object: fields, to: &out)
        }
    }

    /// Parses a stored metadata object (`{"key": value, ...}`) straight from its UTF-8 bytes.
    ///
    /// Opening a store decodes every memory's metadata, so this skips `JSONDecoder`'s generic
    /// machinery for the small objects stored here. It accepts the JSON this layer writes, nested
    /// at most ``maxDepth`` levels, and returns nil for anything else, so callers can fall back to
    /// `JSONDecoder` for the rest.
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
            guard let fields = fields(depth: 1) else { return nil }
            return atEnd() ? fields : nil
        }

        /// An object's fields, from its opening brace.
        mutating func fields(depth: Int) -> [String: MetadataValue]? {
            guard depth <= MetadataValue.maxDepth, take(UInt8(ascii: "{")) else { return nil }
            var result: [String: MetadataValue] = [:]
            if take(UInt8(ascii: "}")) { return result }
            repeat {
                guard let key = string(), take(UInt8(ascii: ":")), let value = value(depth: depth) else { return nil }
                result[key] = value
            } while take(UInt8(ascii: ","))
            return take(UInt8(ascii: "}")) ? result : nil
        }

        mutating func value(depth: Int) -> MetadataValue? {
            skipSpace()
            guard i < bytes.count else { return nil }
            switch bytes[i] {
            case UInt8(ascii: "\""): return string().map(MetadataValue.string)
            case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
            case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
            case UInt8(ascii: "n"): return literal("null") ? .null : nil
            case UInt8(ascii: "{"): return fields(depth: depth + 1).map(MetadataValue.object)
            case UInt8(ascii: "["):
                guard depth < MetadataValue.maxDepth else { return nil }
                i += 1
                var list: [MetadataValue] = []
                if take(UInt8(ascii: "]")) { return .strings([]) }
                repeat {
                    guard let element = value(depth: depth + 1) else { return nil }
                    list.append(element)
                } while take(UInt8(ascii: ","))
                return take(UInt8(ascii: "]")) ? MetadataValue.list(list) : nil
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
