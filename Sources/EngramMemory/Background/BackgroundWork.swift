import EngramSupport
import Foundation

/// The background tasks of a store, which it owns: started here, tracked until they end, and
/// cancelled and awaited by ``close()`` (or ``closeAndWait()``), so that nothing runs on a closed store.
///
/// Every task runs on a `QueueExecutor` of its lane (a thread of its own) and checks for
/// cancellation between its steps; what it produces it installs through the writer, which keeps
/// the store consistent whether or not the task gets that far.
package final class BackgroundWork: Sendable {
    /// Where a task runs. Following another node's writes has a thread of its own: behind index
    /// builds (a large tenant's graph takes seconds) it would hold up propagation as long.
    package enum Lane {
        /// Index builds: graphs, keyword indexes, loading the flat index (at utility priority).
        case indexing
        /// Following the changes of a shared record.
        case following
    }

    private let indexing: QueueExecutor
    private let following: QueueExecutor
    private let tasks = Locked(Tasks())
    /// Entered by every task while it runs, for synchronous waiters.
    private let group = DispatchGroup()

    private struct Tasks {
        var running: [Int: Task<Void, Never>] = [:]
        var next = 0
        var closed = false
    }

    package init(label: String) {
        indexing = QueueExecutor(label: label, qos: .utility)
        following = QueueExecutor(label: label + ".following")
    }

    /// Starts `work` in the background on `lane`, unless the work has been closed.
    package func start(on lane: Lane = .indexing, _ work: @escaping @Sendable () async -> Void) {
        let executor = lane == .indexing ? indexing : following
        tasks.withLock { tasks in
            guard !tasks.closed else { return }
            let id = tasks.next
            tasks.next += 1
            group.enter()
            tasks.running[id] = Task(executorPreference: executor) { [weak self, group] in
                await work()
                self?.finished(id)
                group.leave()
            }
        }
    }

    private func finished(_ id: Int) {
        tasks.withLock { _ = $0.running.removeValue(forKey: id) }
    }

    /// Whether no task is running.
    var isIdle: Bool { tasks.withLock { $0.running.isEmpty } }

    /// Waits until no task is running (tasks started meanwhile included).
    func drain() async {
        while let task = tasks.withLock({ $0.running.values.first }) { await task.value }
    }

    /// Refuses new work, cancels what runs and waits for it to stop.
    func close() async {
        let running = tasks.withLock { tasks in
            tasks.closed = true
            return Array(tasks.running.values)
        }
        for task in running { task.cancel() }
        for task in running { await task.value }
    }

    /// Refuses new work and cancels what runs, without waiting for it.
    func cancel() {
        let running = tasks.withLock { tasks in
            tasks.closed = true
            return Array(tasks.running.values)
        }
        for task in running { task.cancel() }
    }

    /// ``close()`` for synchronous callers: blocks the calling thread until the tasks have
    /// stopped (they run on the lanes' own threads, so this never waits on itself).
    package func closeAndWait() {
        cancel()
        group.wait()
    }
}
