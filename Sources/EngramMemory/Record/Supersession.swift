import Foundation

/// The rules of one supersession, shared by every record store: which memory may be superseded,
/// and what its closed version holds. A record store applies them in the add's transaction: it
/// locks the memory, checks it, moves its closed version to a new row (embedding unchanged) with
/// a SUPERSEDE event, then inserts the successor; when the successor's text turns out to be a
/// current memory of the scope already, that memory becomes the successor (``successor(of:is:)``).
enum Supersession {
    /// `old`, closed by `successor` (which becomes valid at `successor.validFrom`), at `now`.
    /// - Throws: ``MemoryError/notFound(_:)`` unless `old` lies in exactly the successor's scope
    ///   (another tenant's memory reads as absent); ``MemoryError/alreadySuperseded(_:by:)`` when
    ///   its validity ended already; ``MemoryError/invalidParameter(_:)`` when the successor
    ///   became valid before `old` did; ``MemoryError/immutable(_:)`` when `old` is immutable.
    static func closed(_ old: Memory, by successor: Memory, at now: Date) throws -> Memory {
        guard old.scope == successor.scope else { throw MemoryError.notFound(old.id) }
        try old.requireMutable()
        if old.validTo != nil { throw MemoryError.alreadySuperseded(old.id, by: old.supersededBy ?? old.id) }
        guard successor.validFrom >= old.validFrom else {
            throw MemoryError.invalidParameter("valid_from \(successor.validFrom.formatted(.iso8601)) precedes the superseded memory's (\(old.validFrom.formatted(.iso8601)))")
        }
        var closed = old
        closed.validTo = successor.validFrom
        closed.supersededBy = successor.id
        closed.updatedAt = now
        return closed
    }

    /// `closed` naming `existing` as its successor: the add stored no new memory, its text being
    /// that current memory's.
    static func successor(of closed: Memory, is existing: Memory) -> Memory {
        var closed = closed
        closed.supersededBy = existing.id
        return closed
    }
}
