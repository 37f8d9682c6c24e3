import EngramMemory
import Foundation

/// Progress and timing on stderr, so stdout stays clean for JSON lines.
enum Progress {
    /// Runs `body`, reporting its duration on stderr when it takes more than a second.
    static func timed<T>(_ label: String, _ body: () throws -> T) rethrows -> (value: T, seconds: Double) {
        let start = ContinuousClock.now
        let value = try body()
        let seconds = (ContinuousClock.now - start).seconds
        if seconds > 1 { log("\(label): \(String(format: "%.2f", seconds)) s") }
        return (value, seconds)
    }

    static func log(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }

    /// A bar that redraws in place on a terminal and prints every 10% otherwise.
    final class Bar: @unchecked Sendable {  // `lock` guards `shown`
        private let label: String
        private let total: Int
        private let lock = NSLock()
        private var shown = -1
        private let interactive = isatty(2) != 0

        init(_ label: String, total: Int) {
            self.label = label
            self.total = max(total, 1)
        }

        func update(_ done: Int) {
            let percent = min(100, done * 100 / total)
            let step = interactive ? percent : percent / 10 * 10
            lock.lock()
            defer { lock.unlock() }
            guard step > shown else { return }
            shown = step
            let width = 30, filled = width * percent / 100
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            let line = "\(label) [\(bar)] \(percent)% (\(done)/\(total))"
            FileHandle.standardError.write(Data(((interactive ? "\r" : "") + line + (interactive && percent < 100 ? "" : "\n")).utf8))
        }
    }

    /// Shows a store's open on stderr, a bar per stage: only stages of 10,000 items or more
    /// (anything smaller is over at once) and not the catch-up (one step).
    final class OpenDisplay: @unchecked Sendable {  // `lock` guards `stage` and `bar`
        private let lock = NSLock()
        private var stage: OpenProgress.Stage?
        private var bar: Bar?

        func show(_ progress: OpenProgress) {
            guard progress.stage != .catchingUp, progress.total >= 10_000 else { return }
            lock.lock()
            defer { lock.unlock() }
            if progress.stage != stage {
                stage = progress.stage
                bar = Bar(progress.stage.rawValue, total: progress.total)
            }
            bar?.update(progress.done)
        }
    }
}
