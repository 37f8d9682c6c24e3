import Synchronization

/// A value published at most once, then read without a lock: for state that is absent at first,
/// computed once, and read on hot paths afterwards (a lazily decoded record, an index's fitted
/// quantizer).
///
/// Publishing races resolve to one value: the first to arrive is kept and returned to every later
/// publisher, so concurrent first uses may each compute the value but all see the same one.
package final class SetOnce<Value: Sendable>: Sendable {
    private final class Box: Sendable {
        let value: Value
        init(_ value: Value) { self.value = value }
    }

    private let slot = Atomic<Unmanaged<Box>?>(nil)

    package init() {}

    deinit { slot.load(ordering: .acquiring)?.release() }

    /// The published value, if any.
    package var value: Value? { slot.load(ordering: .acquiring)?.takeUnretainedValue().value }

    /// Publishes `value` unless a value is published already; returns the value kept.
    @discardableResult
    package func publish(_ value: Value) -> Value {
        let box = Unmanaged.passRetained(Box(value))
        let (stored, current) = slot.compareExchange(expected: nil, desired: box, ordering: .acquiringAndReleasing)
        guard !stored, let current else { return value }
        box.release()
        return current.takeUnretainedValue().value
    }
}
