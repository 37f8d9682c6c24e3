import Synchronization

/// A shared counter for handing out work items.
package final class AtomicCounter: Sendable {
    private let value = Atomic<Int>(0)

    /// Returns the value before incrementing.
    package init() {}

    package func increment() -> Int { value.add(1, ordering: .relaxed).oldValue }

    /// Adds `n`; returns the new value.
    package func add(_ n: Int) -> Int { value.add(n, ordering: .relaxed).newValue }
}
