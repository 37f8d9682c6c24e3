import Foundation

extension Partition {
    /// The rows that lie in `scope`, pass `filter` and are seen under `validity`, ascending;
    /// expired ones (at `now`) left out unless `includeExpired`.
    ///
    /// The scope's fields and the equality and membership conditions of the filter's top-level
    /// AND are answered by intersecting posting lists, smallest first; what remains of the filter
    /// (ranges, negations, substrings, OR over other conditions …) is evaluated on the rows left.
    func rows(in scope: MemoryScope, matching filter: MemoryFilter, at now: Date, includeExpired: Bool = false,
              validity: Validity = .current) -> [Int64] {
        var rows: [Int64] = [], lists: [SortedRows.List] = []
        self.rows(in: scope, matching: filter, at: now, includeExpired: includeExpired, validity: validity, appendingTo: &rows, lists: &lists)
        return rows
    }

    /// ``rows(in:matching:at:includeExpired:validity:)`` appended to `out`, with `lists` (left
    /// empty) as the posting lists' workspace: a search passing reused buffers allocates nothing
    /// here when the filter is answered by posting lists alone.
    func rows(in scope: MemoryScope, matching filter: MemoryFilter, at now: Date, includeExpired: Bool = false,
              validity: Validity = .current, appendingTo out: inout [Int64], lists: inout [SortedRows.List]) {
        defer { lists.removeAll(keepingCapacity: true) }  // holds the snapshot's lists: not past this call
        lists.removeAll(keepingCapacity: true)
        lists.append(.shared(rows))
        // The partition's own field (a user's, in that user's partition) holds every row: nothing to intersect.
        scope.forEachField { field, value in
            if field != key.field || value != key.value { lists.append(list(field, equalTo: .string(value))) }
        }
        var residual: [MemoryFilter] = []
        Self.forEachConjunct(of: filter) { part in
            if let posted = postedRows(part) { lists.append(posted) } else { residual.append(part) }
        }
        let start = out.count
        SortedRows.intersection(of: &lists, appendingTo: &out)
        // Without time bounds every memory is current and unexpired; only as-of looks at each.
        let checkExpiry = !includeExpired && boundedCount > 0
        let checkValidity = validity != .all && (boundedCount > 0 || validity != .current)
        guard checkExpiry || checkValidity || !residual.isEmpty else { return }
        let rest = MemoryFilter.and(residual), seconds = now.timeIntervalSince1970
        var kept = start
        for i in start..<out.count {
            guard let ref = memory(row: out[i]) else { continue }
            if checkExpiry || checkValidity {
                let times = ref.times  // read in place: most rows need no decoding
                if checkExpiry && times.isExpired(at: seconds) || checkValidity && !times.admitted(by: validity, now: seconds) { continue }
            }
            guard residual.isEmpty || rest.matches(ref.memory) else { continue }
            out[kept] = out[i]
            kept += 1
        }
        out.removeLast(out.count - kept)
    }

    /// Calls `body` with each part of a filter that must hold: the children of (nested) top-level ANDs.
    private static func forEachConjunct(of filter: MemoryFilter, _ body: (MemoryFilter) -> Void) {
        if case let .and(children) = filter {
            for child in children { forEachConjunct(of: child, body) }
        } else {
            body(filter)
        }
    }

    /// The rows passing `filter` when posting lists answer it exactly, else nil.
    private func postedRows(_ filter: MemoryFilter) -> SortedRows.List? {
        switch filter {
        case let .condition(field, .eq(value)) where Self.isPosted(field) && PostingKey(operand: value) != nil:
            return list(field, equalTo: value)
        case let .condition(field, .in(values)) where Self.isPosted(field) && values.allSatisfy({ PostingKey(operand: $0) != nil }):
            return .computed(SortedRows.union(values.map { list(field, equalTo: $0) }))
        case let .or(children):
            var lists: [SortedRows.List] = []
            for child in children {
                guard let list = postedRows(child) else { return nil }
                lists.append(list)
            }
            return .computed(SortedRows.union(lists))
        case let .and(children) where !children.isEmpty:
            var lists: [SortedRows.List] = []
            for child in children {
                guard let list = postedRows(child) else { return nil }
                lists.append(list)
            }
            return .computed(SortedRows.intersection(of: lists))
        default:
            return nil
        }
    }

    /// Timestamps are compared by range, not posted.
    private static func isPosted(_ field: String) -> Bool { !MemoryFilter.dateFields.contains(field) }
}
