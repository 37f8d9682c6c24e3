/// A value behind a readers-writer lock: any number of readers at once, one writer alone.
package final class RWLocked<Value>: @unchecked Sendable {  // `value` is only touched under `lock`
    private let lock = ReadWriteLock()
    private var value: Value

    package init(_ value: Value) { self.value = value }

    package func read<R>(_ body: (Value) throws -> R) rethrows -> R {
        try lock.withReadLock { try body(value) }
    }

    package func write<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        try lock.withWriteLock { try body(&value) }
    }
}
