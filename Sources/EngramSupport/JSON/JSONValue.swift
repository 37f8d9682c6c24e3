/// A small JSON value that keeps object keys in the order given, so output lines read the same way
/// every time (scripts parse them; people read them).
package indirect enum JSONValue: Sendable {
    case string(String?)
    case number(Double?)
    case int(Int)
    case bool(Bool)
    case array([JSONValue])
    case object([(String, JSONValue)])
    /// JSON text written as it is (the caller vouches that it is valid JSON).
    case raw(String)

    package var text: String {
        switch self {
        case .string(nil), .number(nil): "null"
        case let .string(s?): Self.quote(s)
        case let .number(x?): x.isFinite ? Self.format(x) : "null"
        case let .int(i): String(i)
        case let .bool(b): b ? "true" : "false"
        case let .array(items): "[" + items.map(\.text).joined(separator: ", ") + "]"
        case let .object(fields): "{" + fields.map { Self.quote($0.0) + ": " + $0.1.text }.joined(separator: ", ") + "}"
        case let .raw(json): json
        }
    }

    /// The value without JSON quoting, for tables.
    package var plain: String {
        if case let .string(s) = self { return s ?? "-" }
        return text
    }

    private static func format(_ x: Double) -> String {
        if x == x.rounded(), abs(x) < 1e15 { return String(Int(x)) }
        return String(x)
    }

    package static func quote(_ s: String) -> String { JSONString.quote(s) }
}
