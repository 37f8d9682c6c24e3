import EngramEmbedding
import EngramMemory
import Foundation
import EngramTestSupport
import Testing

private let modelAvailable = (try? ModelLocation.resolve(nil)) != nil

@Suite("engram memory", .enabled(if: modelAvailable, "run scripts/fetch-model"))
struct MemoryCLITests {
    static func importFile(_ count: Int, in dir: String) throws -> String {
        let lines = (0..<count).map { i in
            String(decoding: try! JSONSerialization.data(withJSONObject: [
                "text": "memory number \(i): the user mentioned item \(i % 97) in passing",
                "user_id": "u\(i % 5)", "metadata": ["n": i, "kind": i % 2 == 0 ? "even" : "odd"],
            ] as [String: Any]), as: UTF8.self)
        }
        let path = dir + "/import.jsonl"
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("SIGKILL in the middle of an import: every acknowledged add is there and searchable, the record is intact",
          arguments: StoreBackend.available)
    func crashRecovery(backend: StoreBackend) async throws {
        let dir = scratchDirectory("crash")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let input = try Self.importFile(4_000, in: dir)
        let database = try backend.database(for: dir + "/store")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.executable)
        process.arguments = ["memory", "import", "--store", dir + "/store", "--input", input, "--batch", "100"]
            + (database.map { ["--database", $0] } ?? [])
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var acknowledged = 0
        var buffer = Data()
        while acknowledged < 300 {
            let chunk = out.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            buffer.append(chunk)
            for line in String(decoding: buffer, as: UTF8.self).split(separator: "\n") {
                if let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Int], let n = o["committed"] { acknowledged = max(acknowledged, n) }
            }
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(acknowledged >= 300 && acknowledged < 4_000, "acknowledged \(acknowledged)")

        let store = try MemoryStore(directory: dir + "/store", embedder: MiniLMEmbedder(threads: 2),
                                    database: database.map { try PostgresLocation(url: $0) })
        var total = 0
        for u in 0..<5 { total += try store.list(scope: MemoryScope(userID: "u\(u)"), limit: 10_000).total }
        #expect(total >= acknowledged && total % 100 == 0, "stored \(total), acknowledged \(acknowledged)")  // whole batches only
        for i in stride(from: 0, to: acknowledged, by: 37) {
            let page = try store.list(scope: MemoryScope(userID: "u\(i % 5)"), filter: .eq("n", .number(Double(i))))
            #expect(page.total == 1, "acknowledged memory \(i) missing")
        }
        let hits = try await store.search("memory number 42: the user mentioned item 42", scope: MemoryScope(userID: "u2"), limit: 3)
        #expect(hits.first?.memory.text.hasPrefix("memory number 42:") == true)
    }

    @Test("an import checks every line before it commits: a bad line anywhere names its line and field and imports nothing")
    func importValidatesFirst() throws {
        let dir = scratchDirectory("import")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let good = (0..<5).map { #"{"text": "fact \#($0)", "user_id": "u"}"# }
        for (bad, field) in [(#"{"text": "x", "user_id": 123}"#, "user_id"), (#"{"text": "x", "user_id": "u", "metadata": "x"}"#, "metadata"),
                             (#"{"text": "x", "user_id": "   "}"#, "user_id"), (#"{"text": "x"}"#, "user_id"), (#"{"text": 7, "user_id": "u"}"#, "text"),
                             ("not json", "JSON")] {
            let input = dir + "/import.jsonl"
            try (good + [bad] + good).joined(separator: "\n").write(toFile: input, atomically: true, encoding: .utf8)
            let run = try CLI.run(["memory", "import", "--store", dir + "/store", "--input", input, "--batch", "2"])
            #expect(run.status != 0 && run.err.contains("import.jsonl:6") && run.err.contains(field), "\(bad): \(run.err)")
            #expect(run.out.isEmpty, "nothing committed: \(run.out)")
        }
        let list = try CLI.run(["memory", "list", "--store", dir + "/store", "--user", "u", "--json"])
        #expect(list.status == 0 && list.out.contains("\"count\": 0"), "\(list.out)")
        #expect(try CLI.run(["memory", "import", "--store", dir + "/store", "--input", dir + "/import.jsonl", "--batch", "0"]).status != 0)
    }

    @Test("export → import into an empty store → export again gives identical files, with and without embeddings; importing twice changes nothing; an id in use with another text is refused")
    func exportImportRoundTrip() throws {
        let dir = scratchDirectory("export")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let lines = [
            #"{"text": "likes green tea", "user_id": "alice", "metadata": {"topic": "food", "n": 1.5, "ok": true, "none": null, "tags": ["a", "ü"]}}"#,
            #"{"text": "planner prefers short plans", "agent_id": "planner", "run_id": "r1"}"#,
            #"{"text": "ünïcödé 😀 memory\nwith a newline", "user_id": "名前", "expiration_date": "2099-01-01"}"#,
            #"{"text": "bob drives a truck", "user_id": "bob", "metadata": {"q": "\"quoted\" \u0000 nul"}}"#,
        ]
        try lines.joined(separator: "\n").write(toFile: dir + "/seed.jsonl", atomically: true, encoding: .utf8)
        #expect(try CLI.run(["memory", "import", "--store", dir + "/a", "--input", dir + "/seed.jsonl"]).status == 0)
        for embeddings in [true, false] {
            let flag = embeddings ? ["--with-embeddings"] : []
            let first = dir + "/first-\(embeddings).jsonl", second = dir + "/second-\(embeddings).jsonl", copy = dir + "/copy-\(embeddings)"
            #expect(try CLI.run(["memory", "export", "--store", dir + "/a", "--output", first] + flag).status == 0)
            let imported = try CLI.run(["memory", "import", "--store", copy, "--input", first])
            #expect(imported.status == 0, "\(imported.err)")
            #expect(try CLI.run(["memory", "export", "--store", copy, "--output", second] + flag).status == 0)
            let (a, b) = (try String(contentsOfFile: first, encoding: .utf8), try String(contentsOfFile: second, encoding: .utf8))
            #expect(a == b && a.split(separator: "\n").count == 4 && a.contains("\"embedding\"") == embeddings, "\(a)\n---\n\(b)")
            // The same file again changes nothing (each memory is a duplicate of itself).
            #expect(try CLI.run(["memory", "import", "--store", copy, "--input", first]).status == 0)
            #expect(try CLI.run(["memory", "export", "--store", copy] + flag).out == a)
        }
        // An id the store holds, with another text: refused, nothing committed.
        let taken = try #require(try String(contentsOfFile: dir + "/first-false.jsonl", encoding: .utf8).split(separator: "\n").first)
        let clash = taken.replacingOccurrences(of: "likes green tea", with: "likes black tea")
        try clash.write(toFile: dir + "/clash.jsonl", atomically: true, encoding: .utf8)
        let refused = try CLI.run(["memory", "import", "--store", dir + "/a", "--input", dir + "/clash.jsonl"])
        #expect(refused.status != 0 && refused.err.contains("exists already") && refused.out.isEmpty, "\(refused.err)")
        // A scope and a filter narrow the export.
        let alice = try CLI.run(["memory", "export", "--store", dir + "/a", "--user", "alice", "--filters", #"{"topic": "food"}"#])
        #expect(alice.status == 0 && alice.out.split(separator: "\n").count == 1 && alice.out.contains("likes green tea"))
    }

    @Test("memory verify checks the checkpoint's index files, repairs a damaged one from the record and checkpoints; then all verify")
    func verifyStore() throws {
        let dir = scratchDirectory("verify")
        for text in ["likes green tea", "drives a truck", "reads at night"] {
            #expect(try CLI.run(["memory", "add", "--store", dir, "--user", "alice", text]).status == 0)
        }
        #expect(try CLI.run(["memory", "purge", "--store", dir]).status == 0)  // checkpoints
        func verify() throws -> (checked: [String], repaired: [String]) {
            let run = try CLI.run(["memory", "verify", "--store", dir])
            #expect(run.status == 0, "\(run.err)")
            let json = try #require(try CLI.jsonLines(run.out).first)
            return (json["checked"] as? [String] ?? [], json["repaired"] as? [String] ?? [])
        }
        let clean = try verify()
        let flat = try #require(clean.checked.first { $0.hasPrefix("flat-") })
        #expect(clean.repaired.isEmpty)
        let path = dir + "/index/" + flat
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[4_096 + 8] ^= 0x40  // a vector's bytes, under an intact header
        try bytes.write(to: URL(fileURLWithPath: path))
        #expect(try verify().repaired == [flat])
        #expect(try verify().repaired.isEmpty)
    }

    @Test("a store open in one process is refused to another, with a message saying so; free again once that process ends")
    func oneProcessPerStore() throws {
        let dir = scratchDirectory("lock")
        let args = ["memory", "list", "--store", dir, "--user", "alice", "--json"]
        #expect(try CLI.run(["memory", "add", "--store", dir, "--user", "alice", "likes tea"]).status == 0)
        let store = try MemoryStore(directory: dir, embedder: MiniLMEmbedder(threads: 1))  // this process holds it now
        let refused = try CLI.run(args)
        #expect(refused.status != 0 && refused.err.contains("open in another process (pid \(getpid()))"), "\(refused.err)")
        #expect(store.count == 1)
    }

    @Test("add → search → list → update → history → delete → delete-all through the CLI, JSON shaped like Mem0's")
    func roundTrip() throws {
        let dir = scratchDirectory("mcli")
        let store = ["--store", dir]
        let add = try CLI.run(["memory", "add"] + store + ["--user", "alice", "--metadata", #"{"topic": "food"}"#, "--json",
                                                         "loves spicy thai curry", "works night shifts at the hospital"])
        #expect(add.status == 0, "\(add.err)")
        let items = try CLI.jsonLines(add.out)
        #expect(items.count == 2)
        let first = try #require(items.first)
        for key in ["id", "memory", "hash", "metadata", "created_at", "updated_at", "user_id"] { #expect(first[key] != nil, "\(key)") }
        #expect(first["agent_id"] == nil && first["run_id"] == nil)
        let id = first["id"] as! String
        #expect(try CLI.run(["memory", "add"] + store + ["--user", "bob", "bob likes tea"]).status == 0)

        let search = try CLI.jsonLines(try CLI.run(["memory", "search"] + store + ["--user", "alice", "--json", "what food"]).out)
        let results = try #require(search.first?["results"] as? [[String: Any]])
        #expect(results.first?["memory"] as? String == "loves spicy thai curry" && results.allSatisfy { $0["user_id"] as? String == "alice" })
        #expect(results.first?["score"] is Double)

        let queries = dir + "/q.jsonl"
        try [#"{"query": "tea", "filters": {"user_id": "bob"}}"#, #"{"query": "tea", "filters": {"user_id": "alice", "topic": "none"}, "limit": 5}"#]
            .joined(separator: "\n").write(toFile: queries, atomically: true, encoding: .utf8)
        let batch = try CLI.jsonLines(try CLI.run(["memory", "search"] + store + ["--queries", queries, "--json"]).out)
        #expect(batch.count == 2)
        #expect((batch[0]["results"] as? [[String: Any]])?.first?["memory"] as? String == "bob likes tea")
        #expect((batch[1]["results"] as? [[String: Any]])?.isEmpty == true)

        let list = try #require(try CLI.jsonLines(try CLI.run(["memory", "list"] + store + ["--user", "alice", "--json"]).out).first)
        #expect(list["count"] as? Int == 2)
        #expect(try CLI.run(["memory", "update"] + store + ["--text", "loves mild thai curry", id]).status == 0)
        let history = try CLI.jsonLines(try CLI.run(["memory", "history"] + store + [id]).out)
        #expect(history.map { $0["event"] as? String } == ["ADD", "UPDATE"])
        #expect(try CLI.run(["memory", "get"] + store + ["--user", "bob", id]).status != 0, "bob must not see alice's memory")
        #expect(try CLI.run(["memory", "delete"] + store + ["--user", "bob", id]).status != 0, "bob must not delete alice's memory")
        #expect(try CLI.run(["memory", "delete"] + store + ["--user", "alice", id]).status == 0)
        let deleted = try #require(try CLI.jsonLines(try CLI.run(["memory", "delete-all"] + store + ["--user", "alice"]).out).first)
        #expect(deleted["deleted"] as? Int == 1)
        let bob = try #require(try CLI.jsonLines(try CLI.run(["memory", "list"] + store + ["--user", "bob", "--json"]).out).first)
        #expect(bob["count"] as? Int == 1)
        let bad = try CLI.run(["memory", "search"] + store + ["--user", "bob", "--filters", #"{"n": {"gtt": 1}}"#, "x"])
        #expect(bad.status != 0 && bad.err.contains("n.gtt"))
    }
}
