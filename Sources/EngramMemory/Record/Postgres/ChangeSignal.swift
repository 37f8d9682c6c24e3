import EngramSupport

/// Wakes whoever waits for the record to change.
final class ChangeSignal: Sendable {
    private let waiters = Locked<[Int: CheckedContinuation<Void, Never>]>([:])
    private let next = Locked(0)

    /// Wakes every current waiter.
    func fire() {
        for waiter in waiters.withLock({ w in defer { w = [:] }; return Array(w.values) }) { waiter.resume() }
    }

    /// Returns at the next ``fire()``, or after `timeout`.
    func wait(timeout: Duration) async {
        let id = next.withLock { n in defer { n += 1 }; return n }
        await withCheckedContinuation { continuation in
            waiters.withLock { $0[id] = continuation }
            // Started once the waiter is registered, so that it cannot fire before there is one to wake.
            Task { [weak self] in
                try? await Task.sleep(for: timeout)
                self?.waiters.withLock { $0.removeValue(forKey: id) }?.resume()
            }
        }
    }
}
