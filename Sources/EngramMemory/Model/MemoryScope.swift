/// Who a memory belongs to: a user, an agent, a run (any combination, at least one).
///
/// Scope is set at creation and never changes; metadata cannot set it. Every read, search, update
/// and delete is confined to the scope it is given.
public struct MemoryScope: Sendable, Hashable, Codable {
    /// The user the memory is about or for.
    public var userID: String?
    /// The agent that keeps it.
    public var agentID: String?
    /// The run (session, conversation) it belongs to.
    public var runID: String?

    /// A scope; a memory needs at least one field.
    public init(userID: String? = nil, agentID: String? = nil, runID: String? = nil) {
        self.userID = userID
        self.agentID = agentID
        self.runID = runID
    }

    /// Whether at least one scope field is set (required to add memories).
    public var isEmpty: Bool { userID == nil && agentID == nil && runID == nil }

    /// The fields set, by their Mem0 names.
    var fields: [(name: String, id: String)] {
        var fields: [(name: String, id: String)] = []
        forEachField { fields.append(($0, $1)) }
        return fields
    }

    /// Calls `body` with each field set, by its Mem0 name, in the order user, agent, run (without
    /// building an array: every search does this).
    func forEachField(_ body: (_ name: String, _ id: String) throws -> Void) rethrows {
        if let userID { try body("user_id", userID) }
        if let agentID { try body("agent_id", agentID) }
        if let runID { try body("run_id", runID) }
    }

    /// Whether a memory with scope `other` lies inside this scope: every field set here must match.
    public func contains(_ other: MemoryScope) -> Bool {
        (userID == nil || userID == other.userID) && (agentID == nil || agentID == other.agentID) && (runID == nil || runID == other.runID)
    }
}
