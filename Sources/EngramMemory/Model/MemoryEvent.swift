import Foundation

/// One entry of a memory's history.
public struct MemoryEvent: Sendable, Hashable {
    public enum Kind: String, Sendable { case add = "ADD", update = "UPDATE", delete = "DELETE" }
    public var memoryID: UUID
    public var kind: Kind
    public var oldText: String?
    public var newText: String?
    public var at: Date
}
