/// A value as the posting lists of the memory view key it: the scalars that equality can match.
enum PostingKey: Hashable, Sendable {
    case string(String), number(Double), bool(Bool), null

    /// The keys a stored value is listed under: one per scalar element for an array, because an
    /// array equals a scalar when any element does (the filter semantics); none for an object,
    /// whose fields are posted by their dotted paths.
    static func keys(of value: MetadataValue) -> [PostingKey] {
        switch value {
        case let .string(s): [.string(s)]
        case let .number(n): [.number(n)]
        case let .bool(b): [.bool(b)]
        case .null: [.null]
        case let .strings(list): list.map(PostingKey.string)
        case let .array(list): list.flatMap { $0.isContainer ? [] : keys(of: $0) }
        case .object: []
        }
    }

    /// The key an equality operand looks up; nil for an array operand, which only equals an
    /// identical array and is evaluated row by row.
    init?(operand: MetadataValue) {
        switch operand {
        case let .string(s): self = .string(s)
        case let .number(n): self = .number(n)
        case let .bool(b): self = .bool(b)
        case .null: self = .null
        case .strings, .array, .object: return nil
        }
    }
}
