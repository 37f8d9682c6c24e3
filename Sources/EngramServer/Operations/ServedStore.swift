import EngramMemory
import EngramSupport

/// The store a server serves, which may still be opening: a server listens before its store is
/// open (so that probes see it starting), and every route that needs the store answers 503 until
/// it is there.
public final class ServedStore: Sendable {
    private let current: Locked<MemoryStore?>

    /// - Parameter store: the store, if it is open already.
    public init(_ store: MemoryStore? = nil) { current = Locked(store) }

    /// The store, once open.
    public var ifOpen: MemoryStore? { current.withLock { $0 } }

    /// The store. - Throws: ``ServerError/starting`` while it is still opening.
    func get() throws -> MemoryStore {
        guard let store = ifOpen else { throw ServerError.starting }
        return store
    }

    /// Makes `store` the one served.
    public func opened(_ store: MemoryStore) { current.withLock { $0 = store } }
}
