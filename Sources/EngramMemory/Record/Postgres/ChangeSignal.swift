import EngramSupport

/// Wakes whoever waits for the record to change.
///
/// A change carries the identity of the store that wrote it (the notification's payload), so that
/// a store is not woken by its own writes: it has applied them already, and reading the feed
/// after each of its own commits cost a third of its single-add throughput.
final class ChangeSignal: Sendable {
    private let waiters = Locked<[Int: (own: String?, continuation: CheckedContinuation<Void, Never>)]>([:])
    private let next = Locked(0)

    /// Wakes every current waiter but those waiting for changes other than `writer`'s (nil: wakes all).
    func fire(from writer: String? = nil) {
        let woken = waiters.withLock { waiters in
            let woken = waiters.filter { writer == nil || $0.value.own != writer }
            for id in woken.keys { waiters[id] = nil }
            return woken.values.map(\.continuation)
        }
        for continuation in woken { continuation.resume() }
    }

    /// Returns at the next ``fire(from:)`` by a writer other than `own`, or after `timeout`.
    func wait(timeout: Duration, ignoring own: String? = nil) async {
        let id = next.withLock { n in defer { n += 1 }; return n }
        await withCheckedContinuation { continuation in
            waiters.withLock { $0[id] = (own, continuation) }
            // Started once the waiter is registered, so that it cannot fire before there is one to wake.
            Task { [weak self] in
                try? await Task.sleep(for: timeout)
                self?.waiters.withLock { $0.removeValue(forKey: id) }?.continuation.resume()
            }
        }
    }
}
