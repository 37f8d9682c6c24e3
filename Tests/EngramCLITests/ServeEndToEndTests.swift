import EngramEmbedding
import EngramTestSupport
import Foundation
import Testing

private let modelAvailable = (try? ModelLocation.resolve(nil)) != nil

/// Whether Python can import the clients the scripts use: mem0ai, mcp, prometheus-client (CI
/// installs them and sets ENGRAM_REQUIRE_MEM0=1, so there a missing one fails the tests instead of
/// skipping them).
private let clientsWanted: Bool = {
    if ProcessInfo.processInfo.environment["ENGRAM_REQUIRE_MEM0"] == "1" { return true }
    let probe = Process()
    probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    probe.arguments = ["python3", "-c", "import mem0, mcp, prometheus_client"]
    probe.standardOutput = FileHandle.nullDevice
    probe.standardError = FileHandle.nullDevice
    guard (try? probe.run()) != nil else { return false }
    probe.waitUntilExit()
    return probe.terminationStatus == 0
}()

/// Whether nginx is installed (CI installs it; with PostgreSQL required, its absence fails the test).
private let nginxWanted = StoreBackend.postgresRequired
    || ["/usr/sbin/nginx", "/usr/bin/nginx"].contains { FileManager.default.isExecutableFile(atPath: $0) }

@Suite("engram serve and engram mcp with the real Python clients",
       .enabled(if: modelAvailable && clientsWanted, "pip install mem0ai mcp prometheus-client; scripts/fetch-model"))
struct ServeEndToEndTests {
    @Test("engram mcp on stdio with the real mcp client: tools listed, add → search → list → get → update → delete → delete_all, filters, another user out of reach, malformed calls answered")
    func mcpClient() throws {
        try expectScript("mcp_e2e.py", [CLI.executable], prints: "mcp end-to-end: ok")
    }

    @Test("add, search, get_all, get, update, history, delete, delete_all; a restricted key stays in its tenant; SIGTERM exits cleanly",
          arguments: StoreBackend.available)
    func mem0Client(backend: StoreBackend) throws {
        let database = try backend.database(for: scratchDirectory("e2e"))
        try expectScript("mem0_e2e.py", [CLI.executable] + (database.map { [$0] } ?? []), prints: "mem0ai end-to-end: ok")
    }

    @Test("two serve nodes on one PostgreSQL database behind nginx: writes through either reach both; deletes never come back",
          .enabled(if: StoreBackend.available.contains(.postgres) && nginxWanted, "needs ENGRAM_TEST_POSTGRES and nginx"))
    func twoNodesBehindNginx() throws {
        let database = try #require(try StoreBackend.postgres.database(for: scratchDirectory("two-nodes")))
        try expectScript("two_nodes_e2e.py", [CLI.executable, database], prints: "two nodes behind nginx: ok")
    }

    /// Runs `scripts/<name>` with Python and expects it to exit 0 having printed `marker`.
    private func expectScript(_ name: String, _ arguments: [String], prints marker: String) throws {
        let script = URL(fileURLWithPath: CLI.data).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/\(name)").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["MEM0_TELEMETRY": "false"]) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0 && output.contains(marker), "\(output)\n\(errors.suffix(3_000))")
    }
}
