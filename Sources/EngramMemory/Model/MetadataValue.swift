import Foundation

/// A typed metadata value: what Mem0 stores in `metadata`, restricted to types that filter exactly.
public enum MetadataValue: Sendable, Hashable, Codable, CustomStringConvertible {
    case string(String)
    /// A finite number (JSON has one number type).
    case number(Double)
    case bool(Bool)
    case null
    /// An array of strings, which equals a string when any element does (tags, labels).
    case strings([String])

    /// Decodes any of the supported JSON shapes.
    /// - Throws: `DecodingError` for an object or a mixed array.
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([String].self) { self = .strings(a) }
        else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "metadata values are strings, numbers, booleans, null or arrays of strings") }
    }

    /// Encodes the value as its JSON shape.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case let .string(s): try c.encode(s)
        case let .number(n): try c.encode(n)
        case let .bool(b): try c.encode(b)
        case .null: try c.encodeNil()
        case let .strings(a): try c.encode(a)
        }
    }

    /// Converts a value decoded by `JSONSerialization`; nil for unsupported shapes (objects, mixed arrays).
    public init?(json: Any) {
        switch json {
        case is NSNull: self = .null
        case let n as NSNumber:
            // JSONSerialization gives booleans as NSNumber too; their type encoding is "c" (char),
            // which no decoded JSON number has.
            self = String(cString: n.objCType) == "c" ? .bool(n.boolValue) : .number(n.doubleValue)
        case let s as String: self = .string(s)
        case let a as [Any]:
            guard let strings = a as? [String] else { return nil }
            self = .strings(strings)
        default: return nil
        }
    }

    /// The value as JSON would show it.
    public var description: String {
        switch self {
        case let .string(s): "\"\(s)\""
        case let .number(n): n == n.rounded() && abs(n) < 1e15 ? String(Int(n)) : String(n)
        case let .bool(b): String(b)
        case .null: "null"
        case let .strings(a): "[" + a.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
        }
    }
}

extension MetadataValue: ExpressibleByStringLiteral, ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral, ExpressibleByNilLiteral {
    /// A string.
    public init(stringLiteral value: String) { self = .string(value) }
    /// A number.
    public init(floatLiteral value: Double) { self = .number(value) }
    /// A number.
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    /// A boolean.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// Null.
    public init(nilLiteral: ()) { self = .null }
}
