import Foundation

/// One entry of a memory's history.
public struct MemoryEvent: Sendable, Hashable {
    /// What happened, with Mem0's names.
    /// What happened, with Mem0's names, and `SUPERSEDE`: a newer memory ended this one's
    /// validity (its `newText` is the successor's text).
    public enum Kind: String, Sendable { case add = "ADD", update = "UPDATE", delete = "DELETE", supersede = "SUPERSEDE" }
    /// The memory it happened to.
    public var memoryID: UUID
    /// What happened.
    public var kind: Kind
    /// The text before (updates); nil once the memory is deleted.
    public var oldText: String?
    /// The text after (adds and updates); nil once the memory is deleted.
    public var newText: String?
    /// When.
    public var at: Date
}
