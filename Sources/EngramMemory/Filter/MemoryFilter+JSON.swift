import Foundation

extension MemoryFilter {
    /// Parses Mem0's JSON filter grammar.
    /// - Throws: ``FilterError`` naming the offending part: malformed JSON, an unknown operator, a
    ///   wrong operand type, an empty operator object, a logical operator without a list.
    public init(json: Data) throws {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: json, options: [.fragmentsAllowed])
        } catch {
            throw FilterError(path: "", reason: "malformed JSON (\(error.localizedDescription))")
        }
        try self.init(jsonObject: object)
    }

    /// Parses an already-decoded JSON value (`[String: Any]` from `JSONSerialization`).
    public init(jsonObject: Any) throws {
        self = try Self.parse(jsonObject, path: "")
    }

    static let logical: Set<String> = ["AND", "OR", "NOT"]

    private static func parse(_ object: Any, path: String) throws -> MemoryFilter {
        guard let dict = object as? [String: Any] else { throw FilterError(path: path, reason: "expected an object") }
        let parts = try dict.keys.sorted().map { key -> MemoryFilter in
            let here = path.isEmpty ? key : "\(path).\(key)"
            if logical.contains(key) {
                guard let list = dict[key] as? [Any] else { throw FilterError(path: here, reason: "\(key) takes a list of filters") }
                let children = try list.enumerated().map { try parse($1, path: "\(here)[\($0)]") }
                return key == "AND" ? .and(children) : key == "OR" ? .or(children) : .not(children)
            }
            if logical.contains(key.uppercased()) || key.hasPrefix("$") {
                throw FilterError(path: here, reason: "unknown logical operator '\(key)' (use AND, OR, NOT)")
            }
            guard !key.isEmpty else { throw FilterError(path: here, reason: "empty field name") }
            return try parseField(key, dict[key]!, path: here)
        }
        return parts.count == 1 ? parts[0] : .and(parts)
    }

    private static func parseField(_ field: String, _ value: Any, path: String) throws -> MemoryFilter {
        if let s = value as? String, s == "*" { return .condition(field: field, .exists) }
        if let ops = value as? [String: Any] {
            guard !ops.isEmpty else { throw FilterError(path: path, reason: "operator object is empty") }
            let conditions = try ops.keys.sorted().map { op in
                MemoryFilter.condition(field: field, try parseCondition(op, ops[op]!, field: field, path: "\(path).\(op)"))
            }
            return conditions.count == 1 ? conditions[0] : .and(conditions)
        }
        if value is [Any] { throw FilterError(path: path, reason: "a list needs an operator: {\"in\": [...]}") }
        return .condition(field: field, .eq(try scalar(value, field: field, path: path)))
    }

    private static func parseCondition(_ op: String, _ operand: Any, field: String, path: String) throws -> Condition {
        switch op {
        case "eq": return .eq(try scalar(operand, field: field, path: path))
        case "ne": return .ne(try scalar(operand, field: field, path: path))
        case "gt", "gte", "lt", "lte":
            let v = try scalar(operand, field: field, path: path)
            switch v {
            case .number, .string: break
            default: throw FilterError(path: path, reason: "\(op) needs a number or a string, got \(v)")
            }
            return op == "gt" ? .gt(v) : op == "gte" ? .gte(v) : op == "lt" ? .lt(v) : .lte(v)
        case "in", "nin":
            guard let list = operand as? [Any] else { throw FilterError(path: path, reason: "\(op) needs a list") }
            let values = try list.enumerated().map { try scalar($1, field: field, path: "\(path)[\($0)]") }
            return op == "in" ? .in(values) : .nin(values)
        case "contains", "icontains":
            guard let s = operand as? String else { throw FilterError(path: path, reason: "\(op) needs a string") }
            guard !dateFields.contains(field) else { throw FilterError(path: path, reason: "\(op) does not apply to \(field)") }
            return op == "contains" ? .contains(s) : .icontains(s)
        default:
            throw FilterError(path: path, reason: "unknown operator '\(op)' (eq, ne, gt, gte, lt, lte, in, nin, contains, icontains)")
        }
    }

    static let scopeFields: Set<String> = ["user_id", "agent_id", "run_id"]
    static let dateFields: Set<String> = ["created_at", "updated_at", "valid_from", "valid_to"]

    /// One operand: a string, number, bool or null; scope fields take strings and date fields take
    /// ISO-8601 dates or Unix seconds (normalized to seconds).
    private static func scalar(_ value: Any, field: String, path: String) throws -> MetadataValue {
        guard let v = MetadataValue(json: value), !v.isContainer else {
            throw FilterError(path: path, reason: "operand must be a string, number, boolean or null")
        }
        if scopeFields.contains(field) {
            guard case .string = v else { throw FilterError(path: path, reason: "\(field) is compared with strings, got \(v)") }
        }
        if dateFields.contains(field) {
            switch v {
            case .number: return v
            case let .string(s):
                guard let date = Timestamp.parse(s) else { throw FilterError(path: path, reason: "'\(s)' is not an ISO-8601 date") }
                return .number(date.timeIntervalSince1970)
            default: throw FilterError(path: path, reason: "\(field) is compared with dates, got \(v)")
            }
        }
        return v
    }
}

/// ISO-8601 timestamps as Mem0 writes them (with or without fractional seconds and zone).
enum Timestamp {
    static func parse(_ s: String) -> Date? {
        for options in [ISO8601DateFormatter.Options.withInternetDateTime, [.withInternetDateTime, .withFractionalSeconds],
                        [.withFullDate, .withTime, .withColonSeparatorInTime, .withDashSeparatorInDate], [.withFullDate]] {
            let f = ISO8601DateFormatter()
            f.formatOptions = options
            if let d = f.date(from: s) { return d }
        }
        return nil
    }

    static func format(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: date)
    }
}

extension MemoryFilter {
    /// The filter as a JSON-compatible value (`JSONSerialization`), in the grammar ``init(json:)`` reads.
    /// Dates are written as Unix seconds.
    public var jsonObject: Any {
        switch self {
        case let .and(children): ["AND": children.map(\.jsonObject)]
        case let .or(children): ["OR": children.map(\.jsonObject)]
        case let .not(children): ["NOT": children.map(\.jsonObject)]
        case let .condition(field, condition): [field: condition.jsonObject]
        }
    }
}

extension MemoryFilter.Condition {
    var jsonObject: Any {
        switch self {
        case .exists: "*"
        case let .eq(v): ["eq": v.jsonObject]
        case let .ne(v): ["ne": v.jsonObject]
        case let .gt(v): ["gt": v.jsonObject]
        case let .gte(v): ["gte": v.jsonObject]
        case let .lt(v): ["lt": v.jsonObject]
        case let .lte(v): ["lte": v.jsonObject]
        case let .in(list): ["in": list.map(\.jsonObject)]
        case let .nin(list): ["nin": list.map(\.jsonObject)]
        case let .contains(s): ["contains": s]
        case let .icontains(s): ["icontains": s]
        }
    }
}

extension MetadataValue {
    /// The value as `JSONSerialization` writes it.
    public var jsonObject: Any {
        switch self {
        case let .string(s): s
        case let .number(n): n
        case let .bool(b): b
        case .null: NSNull()
        case let .strings(a): a
        case let .array(a): a.map(\.jsonObject)
        case let .object(o): o.mapValues(\.jsonObject)
        }
    }
}
