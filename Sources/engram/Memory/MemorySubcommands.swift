import EngramSupport
import EngramMem0
import ArgumentParser
import EngramMemory
import Foundation

struct MemoryAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Add memories (one per TEXT argument).")
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var scopeOptions: ScopeOptions
    @Option(help: "Metadata as a JSON object.") var metadata: String?
    @Option(help: "Expiry, ISO-8601.") var expires: String?
    @Flag(help: "One JSON line per memory.") var json = false
    @Argument(help: "Texts.") var texts: [String]

    func run() async throws {
        try await storeOptions.withStore { store in
            let expiry = try expires.map { e in
                guard let d = ISO8601DateFormatter().date(from: e) else { throw ValidationError("--expires must be ISO-8601") }
                return d
            }
            let added = try await store.add(texts, scope: scopeOptions.scope, metadata: MemoryJSON.metadata(metadata), expiresAt: expiry)
            for m in added { print(json ? Mem0JSON.item(m).text : "\(m.id.uuidString.lowercased())\t\(m.text)") }
        }
    }
}

struct MemorySearch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search memories by text: one QUERY, or --queries FILE.jsonl of {query, filters, limit} lines.",
        discussion: "With --queries and --json, prints one line {\"results\": [item, ...]} per input line, in order. The scope comes from the scope options and from equality conditions on user_id/agent_id/run_id in the filters.")
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var scopeOptions: ScopeOptions
    @Option(help: "Filters as Mem0 JSON.") var filters: String?
    @Option(help: "Results.") var limit = 10
    @Option(help: "Minimum semantic (cosine) similarity.") var threshold: Float?
    @Option(help: "vector, keyword (BM25) or hybrid (both, fused).") var mode: SearchMode = .hybrid
    @Option(help: "JSON-lines file of queries.") var queries: String?
    @Flag(help: "JSON output.") var json = false
    @Argument(help: "Query text.") var query: String?

    func validate() throws {
        guard (query == nil) != (queries == nil) else { throw ValidationError("give a QUERY or --queries FILE, not both") }
        guard limit > 0 else { throw ValidationError("--limit must be positive") }
    }

    func run() async throws {
        try await storeOptions.withStore { store in
            if let query {
                let filter = try MemoryJSON.filter(filters)
                let hits = try await store.search(query, scope: scopeOptions.scope.merging(MemoryScope(pinnedBy: filter)), filter: filter,
                                                  limit: limit, threshold: threshold, mode: mode)
                printHits(hits)
                return
            }
            for (i, line) in try String(contentsOfFile: queries!, encoding: .utf8).split(separator: "\n").enumerated() {
                let request = try Mem0Request(line: line, location: "\(queries!):\(i + 1)")
                guard let text = try request.string("query") else {
                    throw ValidationError("\(queries!):\(i + 1): expected {\"query\": ..., \"filters\"?: ..., \"limit\"?: ...}")
                }
                let filter = try request.filter()
                let hits = try await store.search(text, scope: scopeOptions.scope.merging(try request.scope(filter: filter)), filter: filter,
                                                  limit: try request.int("limit", default: limit, range: 1...1_000_000), threshold: threshold, mode: mode)
                printHits(hits)
            }
        }
    }

    private func printHits(_ hits: [MemoryHit]) {
        if json {
            print(JSONValue.object([("results", .array(hits.map { Mem0JSON.item($0) }))]).text)
        } else {
            for h in hits { print(String(format: "%.4f\t", h.score) + "\(h.memory.id.uuidString.lowercased())\t\(h.memory.text)") }
        }
    }
}

extension SearchMode: ExpressibleByArgument {}

struct MemoryList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List memories in a scope, newest first.")
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var scopeOptions: ScopeOptions
    @Option(help: "Filters as Mem0 JSON.") var filters: String?
    @Option(help: "Page size.") var limit = 100
    @Option(help: "Skip this many.") var offset = 0
    @Flag(help: "Include expired memories.") var includeExpired = false
    @Flag(help: "JSON: {\"count\", \"results\"}.") var json = false

    func run() async throws {
        try await storeOptions.withStore { store in
            let filter = try MemoryJSON.filter(filters)
            let page = try store.list(scope: scopeOptions.scope.merging(MemoryScope(pinnedBy: filter)), filter: filter,
                                      limit: limit, offset: offset, includeExpired: includeExpired)
            if json {
                print(JSONValue.object([("count", .int(page.total)), ("results", .array(page.memories.map { Mem0JSON.item($0) }))]).text)
            } else {
                for m in page.memories { print("\(m.id.uuidString.lowercased())\t\(m.text)") }
            }
        }
    }
}

struct MemoryGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Show one memory.")
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var scopeOptions: ScopeOptions
    @Argument(help: "Memory id.") var id: String

    func run() async throws {
        try await storeOptions.withStore { store in
            let m = try store.get(try MemoryJSON.uuid(id), scope: scopeOptions.restriction)
            print(Mem0JSON.item(m).text)
        }
    }
}

struct MemoryUpdate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "update", abstract: "Change a memory's text and/or metadata.")
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var scopeOptions: ScopeOptions
    @Option(help: "New text (re-embedded).") var text: String?
    @Option(help: "New metadata (JSON object; replaces the old).") var metadata: String?
    @Argument(help: "Memory id.") var id: String

    func run() async throws {
        guard text != nil || metadata != nil else { throw ValidationError("give --text and/or --metadata") }
        try await storeOptions.withStore { store in
            let m = try await store.update(try MemoryJSON.uuid(id), text: text,
                                                         metadata: try metadata.map { try MemoryJSON.metadata($0) },
                                                         scope: scopeOptions.restriction)
            print(Mem0JSON.item(m).text)
        }
    }
}

struct MemoryDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete one memory.")
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var scopeOptions: ScopeOptions
    @Argument(help: "Memory id.") var id: String

    func run() async throws {
        try await storeOptions.withStore { store in
            try await store.delete(try MemoryJSON.uuid(id), scope: scopeOptions.restriction)
            print(JSONValue.object([("message", .string("Memory deleted successfully!"))]).text)
        }
    }
}

struct MemoryDeleteAll: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete-all",
                                                    abstract: "Delete every memory in a scope (that passes --filters), with its history.")
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var scopeOptions: ScopeOptions
    @Option(help: "Mem0 filter JSON: only the memories of the scope that pass it are deleted.") var filters: String?

    func run() async throws {
        let filter = try MemoryJSON.filter(filters)
        try await storeOptions.withStore { store in
            let n = try await store.deleteAll(scope: scopeOptions.scope, filter: filter)
            print(JSONValue.object([("deleted", .int(n))]).text)
        }
    }
}

struct MemoryHistory: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "history", abstract: "A memory's ADD/UPDATE/DELETE events.")
    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "Memory id.") var id: String

    func run() async throws {
        try await storeOptions.withStore { store in
            let memoryID = try MemoryJSON.uuid(id)
            let events = try store.history(memoryID)
            // A deleted memory keeps its history; its scope is gone with it.
            let userID = (try? store.get(memoryID))?.scope.userID
            for (i, e) in events.enumerated() { print(Mem0JSON.event(e, index: i, userID: userID).text) }
        }
    }
}

struct MemoryImport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import memories from JSONL lines {text, user_id?, agent_id?, run_id?, metadata?}.",
        discussion: "Embeds and commits in batches; after each committed batch prints {\"committed\": N} on stdout.")
    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "JSONL file.") var input: String
    @Option(help: "Memories per transaction.") var batch = 512

    func validate() throws {
        guard batch > 0 else { throw ValidationError("--batch must be at least 1") }
    }

    func run() async throws {
        // Every line is read and checked before the first commit: a bad line imports nothing.
        let lines = try String(contentsOfFile: input, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let items = try lines.enumerated().compactMap { i, line -> NewMemory? in
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
            let request = try Mem0Request(line: line, location: "\(input):\(i + 1)")
            do { return try Self.memory(request) } catch { throw ValidationError("\(input):\(i + 1): \(error)") }
        }
        try await storeOptions.withStore { store in
            let bar = Progress.Bar("importing", total: items.count)
            var committed = 0
            for start in stride(from: 0, to: items.count, by: max(1, batch)) {
                let chunk = Array(items[start..<min(items.count, start + batch)])
                let vectors = try await store.embedder.embed(chunk.map(\.text))
                try await store.add(chunk, vectors: vectors)
                committed += chunk.count
                print(JSONValue.object([("committed", .int(committed))]).text)
                fflush(nil)  // every stream: the acknowledgement must be out before the next batch
                bar.update(committed)
            }
        }
    }

    /// The memory one line describes, checked as `add` would check it.
    static func memory(_ request: Mem0Request) throws -> NewMemory {
        guard let text = try request.string("text") else { throw ValidationError("expected a JSON object with a string \"text\"") }
        let memory = NewMemory(text: text, scope: try request.scope(filter: .all), metadata: try request.metadata() ?? [:])
        try memory.validate()
        return memory
    }
}
