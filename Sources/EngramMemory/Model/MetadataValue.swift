import Foundation

/// A metadata value: any JSON value, as Mem0 stores `metadata`.
///
/// Filters address a nested object's keys with dots (`"prefs.food"`); an array equals a scalar
/// when any of its elements does (tags, labels).
///
/// An array holding only strings is `.strings` (and `.strings([])` is the empty array): JSON
/// read from a request, a record or a file gives that form, and ``normalized`` turns an
/// `.array` of strings built in Swift into it, so equal JSON is one value.
public enum MetadataValue: Sendable, Hashable, Codable, CustomStringConvertible {
    case string(String)
    /// A finite number (JSON has one number type).
    case number(Double)
    case bool(Bool)
    case null
    /// An array of strings (tags, labels).
    case strings([String])
    /// Any other array: numbers, booleans, objects, nested arrays, or a mix.
    case array([MetadataValue])
    /// A nested JSON object.
    case object([String: MetadataValue])

    /// Decodes any JSON value.
    /// - Throws: `DecodingError` when the input is not JSON.
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([MetadataValue].self) { self = Self.list(a) }
        else if let o = try? c.decode([String: MetadataValue].self) { self = .object(o) }
        else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a JSON value") }
    }

    /// The deepest nesting metadata may have, counting the metadata object itself as level 1:
    /// deep enough for any real document, shallow enough that no parser recursion runs away.
    public static let maxDepth = 16

    /// An array: `.strings` when every element is a string, else `.array`.
    static func list(_ elements: [MetadataValue]) -> MetadataValue {
        var strings: [String] = []
        strings.reserveCapacity(elements.count)
        for element in elements {
            guard case let .string(s) = element else { return .array(elements) }
            strings.append(s)
        }
        return .strings(strings)
    }

    /// `metadata` with every array of strings in the `.strings` form (what the store keeps).
    /// - Complexity: O(1) extra work when no value is an array or object (the common case).
    public static func normalized(_ metadata: [String: MetadataValue]) -> [String: MetadataValue] {
        guard metadata.values.contains(where: \.isNested) else { return metadata }
        return metadata.mapValues(\.normalized)
    }

    /// The value with every array of strings, at any depth, in the `.strings` form.
    public var normalized: MetadataValue {
        switch self {
        case let .array(elements): Self.list(elements.map(\.normalized))
        case let .object(fields): .object(fields.mapValues(\.normalized))
        default: self
        }
    }

    /// An array or object: what a filter operand cannot be.
    var isContainer: Bool {
        switch self {
        case .strings, .array, .object: true
        default: false
        }
    }

    /// An `.array` or `.object`: what ``normalized`` may rewrite.
    var isNested: Bool {
        switch self {
        case .array, .object: true
        default: false
        }
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
        case let .array(a): try c.encode(a)
        case let .object(o): try c.encode(o)
        }
    }

    /// Converts a value decoded by `JSONSerialization`; nil for anything that is not JSON.
    public init?(json: Any) {
        switch json {
        case is NSNull: self = .null
        case let n as NSNumber:
            // JSONSerialization gives booleans as NSNumber too; their type encoding is "c" (char),
            // which no decoded JSON number has.
            self = String(cString: n.objCType) == "c" ? .bool(n.boolValue) : .number(n.doubleValue)
        case let s as String: self = .string(s)
        case let a as [Any]:
            if let strings = a as? [String] { self = .strings(strings); return }
            var elements: [MetadataValue] = []
            for raw in a {
                guard let element = MetadataValue(json: raw) else { return nil }
                elements.append(element)
            }
            self = Self.list(elements)
        case let o as [String: Any]:
            var fields: [String: MetadataValue] = [:]
            for (key, raw) in o {
                guard let value = MetadataValue(json: raw) else { return nil }
                fields[key] = value
            }
            self = .object(fields)
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
        case let .array(a): "[" + a.map(\.description).joined(separator: ", ") + "]"
        case let .object(o): "{" + o.keys.sorted().map { "\"\($0)\": \(o[$0]!)" }.joined(separator: ", ") + "}"
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
