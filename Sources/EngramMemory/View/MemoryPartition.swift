/// The unit of vector indexing: the memories whose first scope field (user, else agent, else run)
/// has one value. A large partition gets its own HNSW graph; a scoped query searches only its
/// partition's graph, so a tenant's query never walks other tenants' nodes, and graphs are built
/// only where a tenant is large enough for a graph to beat an exact scan.
struct MemoryPartition: Hashable, Sendable, Codable {
    let field: String
    let value: String

    init(field: String, value: String) {
        self.field = field
        self.value = value
    }

    /// The partition of a memory (or, for a query, the one it would be confined to).
    init(of scope: MemoryScope) {
        if let u = scope.userID { self.init(field: "user_id", value: u) }
        else if let a = scope.agentID { self.init(field: "agent_id", value: a) }
        else { self.init(field: "run_id", value: scope.runID ?? "") }
    }
}
