import EngramSupport

/// Wakes whoever waits for the record to change.
///
/// A change carries the identity of the store that wrote it (the notification's payload), so that
/// a store is not woken by its own writes: it has applied them already, and reading the feed
/// after each of its own commits cost a third of its single-add throughput.
///
/// A change that comes while a store is not waiting (it is reading the feed) is kept for it, and
/// its next wait returns at once: a dropped wake-up would leave that change unseen until the next
/// notification or the poll.
package final class ChangeSignal: Sendable {
    private struct State {
        var waiters: [Int: (own: String, continuation: CheckedContinuation<Void, Never>)] = [:]
        /// Per waiting identity: whether a change came while it was not waiting.
        var missed: [String: Bool] = [:]
        var next = 0
    }

    private let state = Locked(State())

    package init() {}

    /// Wakes every current waiter but those waiting for changes other than `writer`'s (nil: wakes
    /// all), and keeps the change for those not waiting now.
    package func fire(from writer: String? = nil) {
        let woken = state.withLock { state in
            for own in state.missed.keys where own != writer { state.missed[own] = true }
            let woken = state.waiters.filter { $0.value.own != writer }
            for (id, waiter) in woken {
                state.waiters[id] = nil
                state.missed[waiter.own] = false
            }
            return woken.values.map(\.continuation)
        }
        for continuation in woken { continuation.resume() }
    }

    /// Drops what is kept for `own` (a store that closed and waits no more).
    package func forget(_ own: String) {
        _ = state.withLock { $0.missed.removeValue(forKey: own) }
    }

    /// Returns at the next ``fire(from:)`` by a writer other than `own` (at once if one came since
    /// `own`'s last wait), or after `timeout`.
    package func wait(timeout: Duration, ignoring own: String = "") async {
        await withCheckedContinuation { continuation in
            // One critical section: a change that comes between the check and the registration
            // would otherwise be kept for the next wait instead of ending this one.
            let id: Int? = state.withLock { state in
                defer { state.missed[own] = false }
                if state.missed[own] == true { return nil }
                state.next += 1
                state.waiters[state.next] = (own, continuation)
                return state.next
            }
            guard let id else { return continuation.resume() }
            Task { [weak self] in
                try? await Task.sleep(for: timeout)
                self?.state.withLock { $0.waiters.removeValue(forKey: id) }?.continuation.resume()
            }
        }
    }
}
