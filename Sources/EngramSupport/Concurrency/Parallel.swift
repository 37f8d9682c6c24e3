import Dispatch

/// Runs `body(i)` for `i` in `0..<iterations` on up to `threads` threads.
package func parallelFor(_ iterations: Int, threads: Int, _ body: @Sendable (Int) -> Void) {
    let workers = min(threads, iterations)
    guard workers > 1 else {
        for i in 0..<iterations { body(i) }
        return
    }
    // Workers pull the next iteration from a shared counter, so uneven iterations balance.
    let next = AtomicCounter()
    DispatchQueue.concurrentPerform(iterations: workers) { _ in
        while true {
            let i = next.increment()
            guard i < iterations else { return }
            body(i)
        }
    }
}
