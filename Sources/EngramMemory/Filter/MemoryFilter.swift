import Foundation

/// Mem0's filter grammar, complete and exact, as a typed tree.
///
/// - `{"k": v}`: equality; `{"k": {"eq"|"ne"|"gt"|"gte"|"lt"|"lte": v}}`; `{"k": {"in"|"nin": [..]}}`;
///   `{"k": {"contains"|"icontains": "s"}}`; `{"k": "*"}` (present and not null). Several operators in
///   one object all apply (`{"price": {"gte": 5, "lte": 9}}`).
/// - `{"AND": [..]}`, `{"OR": [..]}`, `{"NOT": [..]}` at any depth; NOT holds when none of its
///   filters does. Several keys in one object are ANDed.
/// - Keys are metadata keys or the fields `user_id`, `agent_id`, `run_id`, `created_at`,
///   `updated_at` (dates as ISO-8601 strings or Unix seconds).
///
/// Semantics on values: an array-valued field matches `eq`/`in`/`contains` when any element does,
/// and `ne`/`nin` when no element does; `ne`/`nin` match an absent field; range operators compare
/// numbers with numbers and strings with strings, and never match a value of another type.
/// Nothing is ever dropped or loosened: an unknown operator or a wrong operand type is an error.
public indirect enum MemoryFilter: Sendable, Hashable {
    case and([MemoryFilter])
    case or([MemoryFilter])
    /// Holds when none of the filters holds.
    case not([MemoryFilter])
    case condition(field: String, Condition)

    /// What a condition asks of a field's value.
    public enum Condition: Sendable, Hashable {
        case eq(MetadataValue), ne(MetadataValue)
        case gt(MetadataValue), gte(MetadataValue), lt(MetadataValue), lte(MetadataValue)
        case `in`([MetadataValue]), nin([MetadataValue])
        case contains(String), icontains(String)
        /// Present and not null (`"*"`).
        case exists
    }

    /// The filter that matches everything.
    public static let all = MemoryFilter.and([])

    /// The fields that are not metadata keys.
    public static let reservedFields: Set<String> = ["user_id", "agent_id", "run_id", "created_at", "updated_at", "valid_from", "valid_to"]

    // MARK: Builder

    /// `key` satisfies `condition`.
    public static func field(_ key: String, _ condition: Condition) -> MemoryFilter { .condition(field: key, condition) }
    /// `key` equals `value` (an array field: any element does).
    public static func eq(_ key: String, _ value: MetadataValue) -> MemoryFilter { .condition(field: key, .eq(value)) }
    /// `key` does not equal `value` (absent counts as not equal).
    public static func ne(_ key: String, _ value: MetadataValue) -> MemoryFilter { .condition(field: key, .ne(value)) }
    /// `key` is greater than `value` (numbers with numbers, strings with strings).
    public static func gt(_ key: String, _ value: MetadataValue) -> MemoryFilter { .condition(field: key, .gt(value)) }
    /// `key` is at least `value`.
    public static func gte(_ key: String, _ value: MetadataValue) -> MemoryFilter { .condition(field: key, .gte(value)) }
    /// `key` is less than `value`.
    public static func lt(_ key: String, _ value: MetadataValue) -> MemoryFilter { .condition(field: key, .lt(value)) }
    /// `key` is at most `value`.
    public static func lte(_ key: String, _ value: MetadataValue) -> MemoryFilter { .condition(field: key, .lte(value)) }
    /// `key` equals one of `values`.
    public static func isIn(_ key: String, _ values: [MetadataValue]) -> MemoryFilter { .condition(field: key, .in(values)) }
    /// `key` equals none of `values`.
    public static func notIn(_ key: String, _ values: [MetadataValue]) -> MemoryFilter { .condition(field: key, .nin(values)) }
    /// `key` contains `s` (an array field: any element does).
    public static func contains(_ key: String, _ s: String) -> MemoryFilter { .condition(field: key, .contains(s)) }
    /// `key` contains `s`, ignoring case.
    public static func icontains(_ key: String, _ s: String) -> MemoryFilter { .condition(field: key, .icontains(s)) }
    /// `key` is present and not null.
    public static func exists(_ key: String) -> MemoryFilter { .condition(field: key, .exists) }

    /// Both hold.
    public static func && (a: MemoryFilter, b: MemoryFilter) -> MemoryFilter { .and([a, b]) }
    /// Either holds.
    public static func || (a: MemoryFilter, b: MemoryFilter) -> MemoryFilter { .or([a, b]) }
    /// `a` does not hold.
    public static prefix func ! (a: MemoryFilter) -> MemoryFilter { .not([a]) }
}

/// A filter that cannot be used, with the path to the offending part (e.g. `AND[1].price.gte`).
public struct FilterError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Where in the filter: `AND[1].price.gte`; empty for the whole.
    public let path: String
    /// What is wrong there.
    public let reason: String
    /// The reason, with the path.
    public var description: String { path.isEmpty ? "invalid filter: \(reason)" : "invalid filter at \(path): \(reason)" }
}
