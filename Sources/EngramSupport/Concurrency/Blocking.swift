import Dispatch

/// Runs async work from synchronous code and waits for it, at most `timeout`.
///
/// For code that must stay synchronous (a record store's calls) using an async client. The work
/// runs on `executor`, whose threads are not Swift's cooperative pool: the caller may be any
/// thread (a pool thread included) except one of `executor`'s, and the work never waits for a
/// thread that waiting callers hold.
/// - Returns: the work's result; when `timeout` passes first, nil, and the work is cancelled (it
///   may still finish later, unobserved).
package func waitForAsync<R: Sendable>(timeout: Duration, on executor: QueueExecutor,
                                       _ work: @escaping @Sendable () async throws -> R) -> Result<R, any Error>? {
    let outcome = Locked<Result<R, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    let task = Task(executorPreference: executor) {
        let result: Result<R, any Error>
        do { result = .success(try await work()) } catch { result = .failure(error) }
        outcome.withLock { $0 = result }
        done.signal()
    }
    let (seconds, attoseconds) = timeout.components
    let nanoseconds = Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
    guard done.wait(timeout: .now() + .nanoseconds(nanoseconds)) == .success else {
        task.cancel()
        return nil
    }
    return outcome.withLock { $0 }
}
