import Foundation
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
    static func run(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = args
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
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
