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
