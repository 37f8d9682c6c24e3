import Synchronization

/// A shared counter for handing out work items.
final class AtomicCounter: Sendable {
    private let value = Atomic<Int>(0)

    /// Returns the value before incrementing.
    func increment() -> Int { value.add(1, ordering: .relaxed).oldValue }
}
