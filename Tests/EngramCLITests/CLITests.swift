import Foundation
import EngramTestSupport
import Testing

/// Runs the `engram` executable that was built beside the test bundle.
enum CLI {
    static let executable: String = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("engram").path
    }()

    static let data: String = {
        var path = #filePath
        for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path + "/data/minilm-debian-20k"
    }()

    /// Runs `engram args…` and returns (exit status, stdout, stderr).
    static func run(_ args: [String], environment: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = args
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        // A crash (a trap is SIGILL or SIGTRAP) reads as the negated signal, never as an exit status.
        let status = process.terminationReason == .uncaughtSignal ? -process.terminationStatus : process.terminationStatus
        return (status, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    static func jsonLines(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    }
}

@Suite("engram CLI")
struct CLITests {
    @Test("engram bench --index flat on the shipped data reports recall 1.0 with the contract keys")
    func benchFlat() throws {
        for extra in [[], ["--batch", "--threads", "2"]] {
            let r = try CLI.run(["bench", "--base", CLI.data + "/base.fvecs", "--queries", CLI.data + "/queries.fvecs",
                                 "--groundtruth", CLI.data + "/groundtruth.ivecs", "--index", "flat", "--json"] + extra)
            #expect(r.status == 0, "\(r.err)")
            let rows = try CLI.jsonLines(r.out)
            #expect(rows.count == 1)
            let row = try #require(rows.first)
            for key in ["index", "metric", "n", "dim", "k", "ef", "threads", "batch", "build_seconds", "recall", "qps"] {
                #expect(row[key] != nil, "missing key \(key)")
            }
            #expect(row["recall"] as? Double == 1.0)
            #expect(row["n"] as? Int == 20_000 && row["dim"] as? Int == 384)
            #expect(row["ef"] is NSNull)
        }
    }

    @Test("engram info names the BLAS library in use")
    func info() throws {
        let r = try CLI.run(["info", "--json"])
        #expect(r.status == 0)
        let row = try #require(try CLI.jsonLines(r.out).first)
        #expect((row["blas_library"] as? String)?.contains("blas") == true)
    }

    @Test("bad arguments fail with a message, not a crash")
    func badArguments() throws {
        let r = try CLI.run(["bench", "--base", "/nonexistent.fvecs", "--queries", CLI.data + "/queries.fvecs"])
        #expect(r.status != 0)
        #expect(r.err.contains("nonexistent"))
        let k = try CLI.run(["bench", "--base", CLI.data + "/base.fvecs", "--queries", CLI.data + "/queries.fvecs", "--k", "0"])
        #expect(k.status != 0 && k.err.contains("--k"))
    }
}

@Suite("engram index files")
struct IndexFileCLITests {
    @Test("build → inspect → verify → search → bench --index-file, and verify fails on a damaged file")
    func roundTrip() throws {
        let dir = scratchDirectory("cli")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // 2,000 real vectors keep the build short.
        let base = dir + "/base.fvecs"
        let all = try Data(contentsOf: URL(fileURLWithPath: CLI.data + "/base.fvecs"))
        try all.prefix(2_000 * (4 + 384 * 4)).write(to: URL(fileURLWithPath: base))
        let file = dir + "/i.engram"
        let build = try CLI.run(["build", "--input", base, "--output", file, "--index", "hnsw", "--threads", "2"])
        #expect(build.status == 0, "\(build.err)")

        let inspect = try CLI.run(["inspect", file, "--json"])
        let header = try #require(try CLI.jsonLines(inspect.out).first)
        #expect(header["kind"] as? String == "hnsw" && header["live"] as? Int == 2_000 && header["dimension"] as? Int == 384)
        #expect((header["sections"] as? [Any])?.count == 10)  // seven graph sections, the 8-bit codes, their norms and quantizer (no f16 copy beside codes)

        let verify = try CLI.run(["verify", file])
        #expect(verify.status == 0 && verify.out.contains("ok"))

        let search = try CLI.run(["search", "--index-file", file, "--queries", CLI.data + "/queries.fvecs", "--k", "5", "--json"])
        let lines = try CLI.jsonLines(search.out)
        #expect(lines.count == 500)
        let first = try #require(lines.first)
        #expect(first["query"] as? Int == 0 && (first["ids"] as? [Int])?.count == 5 && (first["scores"] as? [Double])?.count == 5)

        // Searching the saved index agrees with exact search on the same 2,000 vectors.
        let flatFile = dir + "/f.engram"
        #expect(try CLI.run(["build", "--input", base, "--output", flatFile, "--index", "flat"]).status == 0)
        let exact = try CLI.jsonLines(try CLI.run(["search", "--index-file", flatFile, "--queries", CLI.data + "/queries.fvecs", "--k", "5", "--json"]).out)
        var hits = 0
        for (a, b) in zip(lines, exact) { hits += Set(a["ids"] as! [Int]).intersection(b["ids"] as! [Int]).count }
        #expect(Double(hits) / 2_500 >= 0.97)

        var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        bytes[10_000] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: file))
        let damaged = try CLI.run(["verify", file])
        #expect(damaged.status != 0 && damaged.err.contains("checksum"))
        // search opens it (the header is intact) and says that it would not verify
        #expect(!search.err.contains("warning"))
        let searchDamaged = try CLI.run(["search", "--index-file", file, "--queries", CLI.data + "/queries.fvecs", "--k", "5", "--json"])
        #expect(searchDamaged.status == 0 && searchDamaged.err.contains("warning") && searchDamaged.err.contains("checksum"))
    }
}

@Suite("engram plot")
struct PlotCLITests {
    @Test("draws one labelled curve per JSON-lines file")
    func plot() throws {
        let dir = scratchDirectory("plot")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "{\"index\": \"a\", \"recall\": 0.95, \"qps\": 1000}\n{\"index\": \"a\", \"recall\": 0.99, \"qps\": 300}\n"
            .write(toFile: dir + "/a.jsonl", atomically: true, encoding: .utf8)
        try "{\"index\": \"b\", \"recall\": 0.93, \"qps\": 5000}\n".write(toFile: dir + "/b.jsonl", atomically: true, encoding: .utf8)
        let r = try CLI.run(["plot", dir + "/a.jsonl", dir + "/b.jsonl", "--labels", "Alpha,Beta", "--output", dir + "/c.svg"])
        #expect(r.status == 0, "\(r.err)")
        let svg = try String(contentsOfFile: dir + "/c.svg", encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.components(separatedBy: "<polyline").count == 3)
        #expect(svg.contains(">Alpha<") && svg.contains(">Beta<"))
        #expect(svg.components(separatedBy: "<circle").count == 4)
        let bad = try CLI.run(["plot", dir + "/a.jsonl", "--labels", "x,y", "--output", dir + "/d.svg"])
        #expect(bad.status != 0)
    }

    @Test("bad configuration and malformed input files are clear errors, never a crash")
    func badInputIsAnError() throws {
        let dir = scratchDirectory("cli-bad")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let remote = ["ENGRAM_EMBEDDING_URL": "http://127.0.0.1:9/v1", "ENGRAM_EMBEDDING_MODEL": "m"]
        for dimension in ["0", "-4", "x"] {
            let r = try CLI.run(["memory", "list", "--store", dir + "/s", "--user", "u", "--embedder", "remote"],
                                environment: remote.merging(["ENGRAM_EMBEDDING_DIMENSION": dimension]) { $1 })
            #expect(r.status > 0, "dimension \(dimension): \(r.status) \(r.err)")
            #expect(r.err.contains("DIMENSION") || r.err.contains("dimension"), "\(r.err)")
        }
        let bad = dir + "/bad.jsonl"
        for content in ["{\"text\": 5}", "[1, 2]", "{\"no_text\": \"x\"}", "{\"text\": \"ok\", \"user_id\": \"u\", \"metadata\": {\"k\": {\"nested\": 1}}}"] {
            try content.write(toFile: bad, atomically: true, encoding: .utf8)
            let r = try CLI.run(["memory", "import", "--store", dir + "/s", "--input", bad, "--embedder", "remote"],
                                environment: remote.merging(["ENGRAM_EMBEDDING_DIMENSION": "3"]) { $1 })
            #expect(r.status > 0 && !r.err.isEmpty, "\(content): \(r.status) \(r.err)")
        }
    }
}
