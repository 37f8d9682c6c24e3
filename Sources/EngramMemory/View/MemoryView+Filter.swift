import Foundation

extension MemoryView {
    /// The rows in `scope` that pass `filter` and have not expired at `now` (unless `includeExpired`),
    /// ascending.
    ///
    /// The scope fields and the equality / membership conditions of the filter's top-level AND are
    /// answered by intersecting posting lists, smallest first; what remains of the filter (ranges,
    /// negations, substrings, OR over other conditions …) is evaluated on the surviving rows only.
    func rows(in scope: MemoryScope, matching filter: MemoryFilter, at now: Date, includeExpired: Bool = false) -> [Int64] {
        var lists: [[Int64]] = []
        if let u = scope.userID { lists.append(rows(of: "user_id", equalTo: .string(u))) }
        if let a = scope.agentID { lists.append(rows(of: "agent_id", equalTo: .string(a))) }
        if let r = scope.runID { lists.append(rows(of: "run_id", equalTo: .string(r))) }
        precondition(!lists.isEmpty, "callers check the scope")
        var residual: [MemoryFilter] = []
        for part in Self.conjuncts(filter) {
            if let posted = postedRows(part) { lists.append(posted) } else { residual.append(part) }
        }
        let rows = SortedRows.intersection(of: lists)
        let checkExpiry = !includeExpired && expiringCount > 0
        guard checkExpiry || !residual.isEmpty else { return rows }
        let rest = MemoryFilter.and(residual)
        return rows.filter { row in
            guard let memory = memories[row]?.memory else { return false }
            return !(checkExpiry && memory.isExpired(at: now)) && rest.matches(memory)
        }
    }

    /// The parts of a filter that must all hold: the children of (nested) top-level ANDs.
    private static func conjuncts(_ filter: MemoryFilter) -> [MemoryFilter] {
        if case let .and(children) = filter { children.flatMap(conjuncts) } else { [filter] }
    }

    /// The rows passing `filter` when posting lists answer it exactly, else nil.
    private func postedRows(_ filter: MemoryFilter) -> [Int64]? {
        switch filter {
        case let .condition(field, .eq(value)) where Self.isPosted(field) && PostingKey(operand: value) != nil:
            return rows(of: field, equalTo: value)
        case let .condition(field, .in(values)) where Self.isPosted(field) && values.allSatisfy({ PostingKey(operand: $0) != nil }):
            return SortedRows.union(values.map { rows(of: field, equalTo: $0) })
        case let .or(children):
            let lists = children.map(postedRows)
            return lists.contains { $0 == nil } ? nil : SortedRows.union(lists.map { $0! })
        case let .and(children) where !children.isEmpty:
            var lists: [[Int64]] = []
            for child in children {
                guard let list = postedRows(child) else { return nil }
                lists.append(list)
            }
            return SortedRows.intersection(of: lists)
        default:
            return nil
        }
    }

    /// Timestamps are compared by range, not posted.
    private static func isPosted(_ field: String) -> Bool { field != "created_at" && field != "updated_at" }
}
