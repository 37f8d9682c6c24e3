import Foundation
import Synchronization

/// A path for a new directory under the system's temporary directory, removed with everything in
/// it when the test process exits (a store opened in it may stay open until its test ends, so
/// removing it any earlier could pull files from under it).
public func scratchDirectory(_ label: String) -> String {
    let path = NSTemporaryDirectory() + "engram-\(label)-\(UUID().uuidString)"
    ScratchDirectories.register(path)
    return path
}

private enum ScratchDirectories {
    static let paths = Mutex<[String]?>(nil)

    static func register(_ path: String) {
        paths.withLock { paths in
            if paths == nil { atexit { ScratchDirectories.removeAll() } }
            paths = (paths ?? []) + [path]
        }
    }

    static func removeAll() {
        for path in paths.withLock({ $0 ?? [] }) { try? FileManager.default.removeItem(atPath: path) }
    }
}
