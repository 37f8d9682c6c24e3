/// Carries a value the caller promises is used safely across threads (disjoint writes, or reads of
/// data that outlives the parallel loop).
package struct UnsafeSendable<T>: @unchecked Sendable {
    package let value: T
    package init(_ value: T) { self.value = value }
}
