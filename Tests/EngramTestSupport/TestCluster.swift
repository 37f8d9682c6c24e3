import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL cluster of a test's own (`scripts/test-postgres` in a directory and on a port of
/// its own), for tests that stop, crash or freeze the database under a running store: the shared
/// test server must stay up for every other test.
public final class TestCluster: Sendable {
    public let port: Int
    private let directory: String

    /// Starts a fresh cluster.
    public init() throws {
        port = Int.random(in: 56_000..<60_000)
        directory = NSTemporaryDirectory() + "engram-cluster-\(port)-\(UUID().uuidString.prefix(8))"
        try run("start")
    }

    deinit { try? run("destroy") }

    /// The admin URL of the cluster.
    public var url: String { "postgres://postgres@127.0.0.1:\(port)/postgres" }

    /// The URL of database `name`, created on first use, with `parameters` (such as `timeout=1`).
    public func database(_ name: String, parameters: String = "") throws -> String {
        try StoreBackend.psql(url, "CREATE DATABASE \(name)")
        return "postgres://postgres@127.0.0.1:\(port)/\(name)" + (parameters.isEmpty ? "" : "?" + parameters)
    }

    /// A fast shutdown: the server closes its connections and stops.
    public func stop() throws { try run("stop") }
    /// An immediate shutdown, as in a crash: no checkpoint, connections dropped.
    public func kill() throws { try run("kill") }
    /// Starts the cluster again on its data.
    public func resume() throws { try run("resume") }
    /// Freezes every server process (SIGSTOP): connections stay open and nothing answers.
    public func pause() throws { try run("pause") }
    /// Thaws what ``pause()`` froze.
    public func thaw() throws { try run("continue") }

    /// Runs the script with posix_spawn and waitpid: Foundation's `Process` (6.3, Linux) misses
    /// the exit of a script that leaves a daemon behind, and `waitUntilExit` never returns.
    private func run(_ command: String) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/test-postgres").path
        let log = NSTemporaryDirectory() + "engram-cluster-\(port)-\(command).log"
        defer { try? FileManager.default.removeItem(atPath: log) }
        var environment = ProcessInfo.processInfo.environment
        environment["ENGRAM_TEST_PGDATA"] = directory
        environment["ENGRAM_TEST_PGPORT"] = String(port)
        let status = try spawn(["/bin/bash", script, command], environment: environment, output: log)
        guard status == 0 else {
            let errors = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw StoreBackend.BackendError("scripts/test-postgres \(command) exited with \(status): \(errors)")
        }
    }
}

/// Runs `arguments` with its stdout and stderr in the file `output`; returns its exit status.
private func spawn(_ arguments: [String], environment: [String: String], output: String) throws -> Int32 {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    let argv = arguments.map { strdup($0) } + [nil]
    let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { for pointer in argv + envp { free(pointer) } }
    var pid = pid_t()
    let spawned = posix_spawn(&pid, arguments[0], &actions, nil, argv, envp)
    guard spawned == 0 else { throw StoreBackend.BackendError("cannot run \(arguments[0]): error \(spawned)") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
}
