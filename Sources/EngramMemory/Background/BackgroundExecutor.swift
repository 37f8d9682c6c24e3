import Dispatch

/// Runs a store's background tasks on a thread of their own (a serial dispatch queue at utility
/// priority), not on Swift's cooperative pool: a graph rebuild computes for seconds, and on a
/// two-core machine it must not take one of the two threads that serve requests.
final class BackgroundExecutor: TaskExecutor, @unchecked Sendable {  // the queue is its own synchronization
    private let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label, qos: .utility)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
