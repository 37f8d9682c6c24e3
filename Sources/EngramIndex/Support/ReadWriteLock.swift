#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A readers-writer lock: readers never block readers.
///
/// The pthread lock lives in its own allocation, because a pthread lock must not move.
package final class ReadWriteLock: @unchecked Sendable {  // the pthread lock is its own synchronization
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    package init() {
        lock = .allocate(capacity: 1)
        lock.initialize(to: pthread_rwlock_t())
        pthread_rwlock_init(lock, nil)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    package func withReadLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }

    package func withWriteLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }
}

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
