/// Anything a filter can be evaluated on: a field name → its value, nil when absent.
public protocol FilterSubject {
    func filterValue(_ field: String) -> MetadataValue?
}

extension MemoryFilter {
    /// Whether `subject` passes the filter (the semantics documented on ``MemoryFilter``).
    public func matches(_ subject: some FilterSubject) -> Bool {
        switch self {
        case let .and(children): children.allSatisfy { $0.matches(subject) }
        case let .or(children): children.contains { $0.matches(subject) }
        case let .not(children): !children.contains { $0.matches(subject) }
        case let .condition(field, condition): condition.matches(subject.filterValue(field))
        }
    }
}

extension MemoryFilter.Condition {
    func matches(_ value: MetadataValue?) -> Bool {
        switch self {
        case .exists: if let value, value != .null { true } else { false }
        case let .eq(v): value.map { Self.equal($0, v) } ?? false
        case let .ne(v): !(value.map { Self.equal($0, v) } ?? false)
        case let .in(list): value.map { x in list.contains { Self.equal(x, $0) } } ?? false
        case let .nin(list): !(value.map { x in list.contains { Self.equal(x, $0) } } ?? false)
        case let .gt(v): Self.compare(value, v) { $0 > 0 }
        case let .gte(v): Self.compare(value, v) { $0 >= 0 }
        case let .lt(v): Self.compare(value, v) { $0 < 0 }
        case let .lte(v): Self.compare(value, v) { $0 <= 0 }
        case let .contains(s): Self.strings(value).contains { $0.contains(s) }
        case let .icontains(s): Self.strings(value).contains { $0.lowercased().contains(s.lowercased()) }
        }
    }

    /// Equality, where an array field equals a scalar when any (scalar) element does.
    static func equal(_ value: MetadataValue, _ operand: MetadataValue) -> Bool {
        switch (value, operand) {
        case let (.strings(elements), .string(s)): elements.contains(s)
        case let (.array(elements), _) where !operand.isContainer: elements.contains { !$0.isContainer && $0 == operand }
        default: value == operand
        }
    }

    /// Range comparison of same-typed values (numbers, strings, or any element of an array).
    static func compare(_ value: MetadataValue?, _ operand: MetadataValue, _ accept: (Int) -> Bool) -> Bool {
        switch (value, operand) {
        case let (.number(a)?, .number(b)): a < b ? accept(-1) : a > b ? accept(1) : accept(0)
        case let (.string(a)?, .string(b)): accept(a < b ? -1 : a > b ? 1 : 0)
        case let (.strings(list)?, .string(b)): list.contains { accept($0 < b ? -1 : $0 > b ? 1 : 0) }
        case let (.array(list)?, _): list.contains { !$0.isContainer && compare($0, operand, accept) }
        default: false
        }
    }

    /// The strings a substring condition looks in: the value, or an array's string elements.
    static func strings(_ value: MetadataValue?) -> [String] {
        switch value {
        case let .string(s)?: [s]
        case let .strings(list)?: list
        case let .array(list)?: list.compactMap { if case let .string(s) = $0 { s } else { nil } }
        default: []
        }
    }
}
