extension MemoryScope {
    /// The scope a filter pins down: equality conditions on `user_id`, `agent_id`, `run_id` that
    /// must hold for the whole filter (top level, or inside a top-level AND). Mem0 clients send the
    /// scope this way. The filter still applies as a whole afterwards.
    public init(pinnedBy filter: MemoryFilter) {
        self.init()
        func visit(_ f: MemoryFilter) {
            switch f {
            case let .and(children): children.forEach(visit)
            case let .condition(field, .eq(.string(value))):
                switch field {
                case "user_id": userID = userID ?? value
                case "agent_id": agentID = agentID ?? value
                case "run_id": runID = runID ?? value
                default: break
                }
            default: break
            }
        }
        visit(filter)
    }

    /// The scopes a filter names as alternatives when it pins no single one: a top-level (or
    /// top-level AND) `user_id` / `agent_id` / `run_id` condition `in` a list of ids, or an `OR`
    /// whose every branch pins a scope (`{"OR": [{"user_id": "a"}, {"agent_id": "b"}]}`). Empty
    /// when there are none. The filter still applies as a whole afterwards.
    public static func alternatives(pinnedBy filter: MemoryFilter) -> [MemoryScope] {
        let conjuncts: [MemoryFilter] = if case let .and(children) = filter { children } else { [filter] }
        let base = MemoryScope(pinnedBy: filter)
        for part in conjuncts {
            switch part {
            case let .condition(field, .in(values)) where ["user_id", "agent_id", "run_id"].contains(field):
                let ids = values.compactMap { if case let .string(id) = $0 { id } else { nil } }
                guard ids.count == values.count, !ids.isEmpty else { return [] }
                return ids.map { id in base.merging(MemoryScope(pinnedBy: .eq(field, .string(id)))) }
            case let .or(branches) where !branches.isEmpty:
                let scopes = branches.map { MemoryScope(pinnedBy: $0) }
                guard scopes.allSatisfy({ !$0.isEmpty }) else { continue }
                return scopes.map { base.merging($0) }
            default: continue
            }
        }
        return []
    }

    /// This scope with the fields of `other` filled in where this one has none.
    public func merging(_ other: MemoryScope) -> MemoryScope {
        MemoryScope(userID: userID ?? other.userID, agentID: agentID ?? other.agentID, runID: runID ?? other.runID)
    }

    /// Whether `filter` passes every memory of this scope: it holds only equalities on
    /// `user_id` / `agent_id` / `run_id` that this scope's fields satisfy, under `AND`s. A call
    /// that acts on a whole scope checks it, so that a filter it does not apply never widens it.
    public func passesWhole(_ filter: MemoryFilter) -> Bool {
        switch filter {
        case let .and(children): children.allSatisfy(passesWhole)
        case let .condition(field, .eq(.string(value))):
            switch field {
            case "user_id": userID == value
            case "agent_id": agentID == value
            case "run_id": runID == value
            default: false
            }
        default: false
        }
    }
}
