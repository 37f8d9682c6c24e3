import Dispatch

/// Runs tasks on a dispatch queue of its own instead of Swift's cooperative pool: for work that
/// computes for long (a graph rebuild must not take one of a two-core machine's two threads that
/// serve requests), and for async work that synchronous callers wait for (it must not need a
/// pool thread that the waiting callers may be holding).
package final class QueueExecutor: TaskExecutor, @unchecked Sendable {  // the queue is its own synchronization
    private let queue: DispatchQueue

    /// - Parameter concurrent: whether jobs may run on several threads at once.
    package init(label: String, qos: DispatchQoS = .default, concurrent: Bool = false) {
        queue = DispatchQueue(label: label, qos: qos, attributes: concurrent ? .concurrent : [])
    }

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
