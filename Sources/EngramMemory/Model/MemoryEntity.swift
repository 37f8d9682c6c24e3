/// A user, agent or run that has memories.
public struct MemoryEntity: Sendable, Hashable {
    /// `user_id`, `agent_id` or `run_id`.
    public var field: String
    /// The user, agent or run id.
    public var id: String
    /// How many memories name it (in any scope combination).
    public var count: Int

    /// An entity.
    public init(field: String, id: String, count: Int) {
        self.field = field
        self.id = id
        self.count = count
    }
}
