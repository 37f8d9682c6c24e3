/// One scope field with one value: `user_id = "alice"`.
///
/// It names a partition (the memories whose first scope field, user else agent else run, has this
/// value: see ``Partition``) and, in ``StoreState/spans``, the set of partitions that hold
/// memories with this value in any scope field.
struct ScopeKey: Hashable, Sendable, Codable {
    /// `user_id`, `agent_id` or `run_id`.
    let field: String
    let value: String

    init(field: String, value: String) {
        self.field = field
        self.value = value
    }

    /// The key of the partition a memory with `scope` belongs to (for a query: the partition a
    /// scope with a user is confined to).
    init(partitionOf scope: MemoryScope) {
        if let u = scope.userID { self.init(field: "user_id", value: u) }
        else if let a = scope.agentID { self.init(field: "agent_id", value: a) }
        else { self.init(field: "run_id", value: scope.runID ?? "") }
    }

    /// Every field the scope sets, as keys.
    static func keys(of scope: MemoryScope) -> [ScopeKey] {
        var keys: [ScopeKey] = []
        scope.forEachField { keys.append(ScopeKey(field: $0, value: $1)) }
        return keys
    }
}

extension MemoryScope {
    /// The scope that holds every memory of the partition `key` (and only those, among its rows).
    init(partitionKey key: ScopeKey) {
        switch key.field {
        case "user_id": self.init(userID: key.value)
        case "agent_id": self.init(agentID: key.value)
        default: self.init(runID: key.value)
        }
    }
}
