import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import EngramTestSupport
import Testing

@Suite("engram serve --config")
struct ServeConfigTests {
    func write(_ toml: String) throws -> String {
        let dir = scratchDirectory("config")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try toml.write(toFile: dir + "/engram.toml", atomically: true, encoding: .utf8)
        return dir
    }

    @Test("a bad file is refused naming the key, the type or the line; nothing starts")
    func refused() throws {
        for (toml, message) in [("prot = 8765", "unknown key 'prot'"), ("port = [1, 2]", "key 'port' must be a string or a number"),
                                ("metrics = \"no\"", "key 'metrics' must be true or false"), ("port = = 3", "line 1")] {
            let dir = try write(toml)
            let run = try CLI.run(["serve", "--config", dir + "/engram.toml", "--store", dir + "/store"])
            #expect(run.status != 0 && run.err.contains(message), "\(toml): \(run.err)")
        }
        #expect(try CLI.run(["serve", "--config", "/nonexistent/engram.toml", "--store", "/tmp/x"]).err.contains("cannot read"))
    }

    @Test("every option of engram serve is a key the file accepts")
    func everyOption() throws {
        let help = try CLI.run(["serve", "--help"]).out
        let options = Set(help.split(whereSeparator: { " \n,=<>[]".contains($0) }).filter { $0.hasPrefix("--") }
            .map { $0.dropFirst(2).replacingOccurrences(of: "no-", with: "", options: .anchored) })
            .subtracting(["help", "config", "version"])
        #expect(!options.isEmpty)
        for option in options.sorted() {
            let dir = try write(option == "log-format" ? "\(option) = \"json\"" : "\(option) = 1")
            let run = try CLI.run(["serve", "--config", dir + "/engram.toml", "--store", dir + "/s", "--port", "-1"])
            #expect(!run.err.contains("unknown key"), "\(option): \(run.err)")
        }
    }

    @Test("the file sets every option it names; the command line overrides it")
    func appliedAndOverridden() async throws {
        let dir = try write("""
            store = "\(scratchDirectory("config-store"))"
            port = 0
            checkpoint_interval = 1
            log-format = "json"
            metrics = false
            """)
        func serve(_ extra: [String]) async throws -> (metrics: Int, log: String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CLI.executable)
            process.arguments = ["serve", "--config", dir + "/engram.toml"] + extra
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            defer { if process.isRunning { process.terminate() } }
            let line = try #require(String(data: out.fileHandleForReading.availableData, encoding: .utf8))
            let listening = try #require((try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["listening"] as? String)
            let (health, _) = try await URLSession.shared.data(from: URL(string: "http://\(listening)/healthz")!)
            #expect(String(decoding: health, as: UTF8.self).contains("ok"))
            let (_, response) = try await URLSession.shared.data(from: URL(string: "http://\(listening)/metrics")!)
            process.terminate()
            process.waitUntilExit()
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
        }
        let fromFile = try await serve([])
        #expect(fromFile.metrics == 404)  // metrics = false
        #expect(fromFile.log.split(separator: "\n").contains { $0.hasPrefix("{") && $0.contains("\"route\": \"/healthz\"") })  // JSON lines
        let overridden = try await serve(["--metrics", "--log-format", "text"])
        #expect(overridden.metrics == 200 && !overridden.log.contains("\"route\":"))
    }
}
