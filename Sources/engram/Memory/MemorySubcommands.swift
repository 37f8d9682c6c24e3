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
    @Option(help: "When the fact became true, ISO-8601 (default: now).") var validFrom: String?
    @Option(help: "The id of a current memory of the same scope that this one replaces (its validity ends at --valid-from).") var supersedes: String?
    @Option(help: "A text whose embedding reaches this cosine with a current memory of the scope (and negates nothing it says) is that memory again: not stored. 1: off.")
    var dedupThreshold: Float = NearDuplicate.defaultThreshold
    @Flag(help: "Never update, supersede, invalidate or delete these memories by id (erasing their scope still does).") var immutable = false
    @Flag(help: "One JSON line per memory.") var json = false
    @Argument(help: "Texts.") var texts: [String]

    func validate() throws {
        if supersedes != nil && texts.count != 1 { throw ValidationError("--supersedes replaces one memory: give one TEXT") }
        guard (0...1).contains(dedupThreshold) else { throw ValidationError("--dedup-threshold must lie in 0...1") }
    }

    func run() async throws {
        try await storeOptions.withStore { store in
            let expiry = try expires.map { try MemoryJSON.date($0, option: "--expires") }
            let (metadata, validFrom) = (try MemoryJSON.metadata(metadata), try validFrom.map { try MemoryJSON.date($0, option: "--valid-from") })
            let supersedes = try supersedes.map(MemoryJSON.uuid)
            let added = try await store.add(texts.map {
                NewMemory(text: $0, scope: scopeOptions.scope, metadata: metadata, expiresAt: expiry, validFrom: validFrom, supersedes: supersedes,
                          immutable: immutable)
            }, dedupThreshold: dedupThreshold)
            for m in added { print(json ? Mem0JSON.item(m).text : "\(m.id.uuidString.lowercased())\t\(m.text)") }
        }
    }
}

struct MemorySearch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search memories by text: one QUERY, or --queries FILE.jsonl of {query, filters, limit, as_of?, include_superseded?, recency_half_life_days?} lines.",
        discussion: "With --queries and --json, prints one line {\"results\": [item, ...]} per input line, in order. The scope comes from the scope options and from equality conditions on user_id/agent_id/run_id in the filters.")
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var scopeOptions: ScopeOptions
    @Option(help: "Filters as Mem0 JSON.") var filters: String?
    @Option(help: "Results.") var limit = 10
    @Option(help: "Minimum semantic (cosine) similarity.") var threshold: Float?
    @Option(help: "vector, keyword (BM25) or hybrid (both, fused).") var mode: SearchMode = .hybrid
    @Option(help: "JSON-lines file of queries.") var queries: String?
    @OptionGroup var validityOptions: ValidityOptions
    @Option(help: "Weigh each score by 2^(-age / half-life), the age of the fact in days (off by default).") var recencyHalfLifeDays: Double?
    @Flag(help: "JSON output.") var json = false
    @Argument(help: "Query text.") var query: String?

    func validate() throws {
        guard (query == nil) != (queries == nil) else { throw ValidationError("give a QUERY or --queries FILE, not both") }
        guard limit > 0 else { throw ValidationError("--limit must be positive") }
        if let days = recencyHalfLifeDays, Duration.halfLife(days: days) == nil { throw ValidationError("--recency-half-life-days must be > 0") }
    }

    private var halfLife: Duration? { recencyHalfLifeDays.flatMap(Duration.halfLife(days:)) }

    func run() async throws {
        try await storeOptions.withStore { store in
            if let query {
                let filter = try MemoryJSON.filter(filters)
                let hits = try await store.search(query, scope: scopeOptions.scope.merging(MemoryScope(pinnedBy: filter)), filter: filter,
                                                  limit: limit, threshold: threshold, mode: mode,
                                                  validity: try validityOptions.validity(), recencyHalfLife: halfLife)
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
                                                  limit: try request.int("limit", default: limit, range: 1...1_000_000), threshold: threshold, mode: mode,
                                                  validity: request.names("as_of", "include_superseded") ? try request.validity() : try validityOptions.validity(),
                                                  recencyHalfLife: try request.recencyHalfLife() ?? halfLife)
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
    @OptionGroup var validityOptions: ValidityOptions
    @Flag(help: "JSON: {\"count\", \"results\"}.") var json = false

    func run() async throws {
        try await storeOptions.withStore { store in
            let filter = try MemoryJSON.filter(filters)
            let page = try store.list(scope: scopeOptions.scope.merging(MemoryScope(pinnedBy: filter)), filter: filter,
                                      limit: limit, offset: offset, includeExpired: includeExpired, validity: try validityOptions.validity())
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

struct MemoryPurge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "purge",
                                                    abstract: "Erase every memory whose expiry has passed, with its history. Prints {\"purged\": N}.")
    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
        try await storeOptions.withStore { store in
            let n = try await store.purgeExpired()
            try await store.checkpoint()  // so that the SQLite files hold none of them either
            print(JSONValue.object([("purged", .int(n))]).text)
        }
    }
}

struct MemoryVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the checksums of every index file of the store's last checkpoint; rebuild what a damaged one held from the record.",
        discussion: "Prints {\"checked\": [files], \"repaired\": [files]} and checkpoints when it repaired anything. Exits 0 either way: the record is the record.")
    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
        try await storeOptions.withStore { store in
            let check = try await store.verifyIndexFiles()
            if !check.repaired.isEmpty { try await store.checkpoint() }
            print(JSONValue.object([("checked", .array(check.checked.map { .string($0) })),
                                    ("repaired", .array(check.repaired.map { .string($0) }))]).text)
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
        abstract: "Import memories from JSONL lines {text, user_id?, agent_id?, run_id?, metadata?, id?, created_at?, updated_at?, expires_at?, valid_from?, valid_to?, superseded_by?, supersedes?, immutable?, embedding?}.",
        discussion: """
            Embeds (unless a line brings its embedding) and commits in batches; after each committed batch prints \
            {"committed": N} on stdout. Every line is checked before the first commit. Lines written by `engram memory export` \
            come back exactly: ids, dates (seconds since 1970, or ISO-8601) and, when exported, embeddings.
            """)
    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "JSONL file.") var input: String
    @Option(help: "Memories per transaction.") var batch = 512

    func validate() throws {
        guard batch > 0 else { throw ValidationError("--batch must be at least 1") }
    }

    func run() async throws {
        // Every line is read and checked before the first commit: a bad line imports nothing.
        let lines = try String(contentsOfFile: input, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let items = try lines.enumerated().compactMap { i, line -> (line: Int, memory: NewMemory, embedding: [Float]?)? in
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
            let request = try Mem0Request(line: line, location: "\(input):\(i + 1)")
            do { return (i + 1, try Self.memory(request), try Self.embedding(request)) } catch { throw ValidationError("\(input):\(i + 1): \(error)") }
        }
        try await storeOptions.withStore { store in
            if let bad = items.first(where: { $0.embedding.map { $0.count != store.embedder.dimension } ?? false }) {
                throw ValidationError("\(input):\(bad.line): embedding has \(bad.embedding!.count) dimensions; the store's have \(store.embedder.dimension)")
            }
            let bar = Progress.Bar("importing", total: items.count)
            var committed = 0
            for start in stride(from: 0, to: items.count, by: batch) {
                let chunk = items[start..<min(items.count, start + batch)]
                var embedded = try await store.embedder.embed(chunk.filter { $0.embedding == nil }.map(\.memory.text))[...]
                let vectors = chunk.map { $0.embedding ?? embedded.popFirst()! }
                try await store.add(chunk.map(\.memory), vectors: vectors)
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
        let id = try request.string("id").map { text in
            guard let id = UUID(uuidString: text) else { throw ValidationError("'id' must be a memory id (UUID)") }
            return id
        }
        let memory = NewMemory(text: text, scope: try request.scope(filter: .all), metadata: try request.metadata() ?? [:],
                               expiresAt: try date(request, "expires_at") ?? date(request, "expiration_date"),
                               id: id, createdAt: try date(request, "created_at"), updatedAt: try date(request, "updated_at"),
                               validFrom: try date(request, "valid_from"), supersedes: try request.id("supersedes"),
                               validTo: try date(request, "valid_to"), supersededBy: try request.id("superseded_by"),
                               immutable: try request.bool("immutable") ?? false)
        try memory.validate()
        return memory
    }

    /// A date as seconds since 1970 (what export writes: exact) or ISO-8601.
    static func date(_ request: Mem0Request, _ key: String) throws -> Date? {
        if request.object[key] is NSNumber { return try request.number(key).map { Date(timeIntervalSince1970: $0) } }
        return try request.date(key)
    }

    /// `embedding`: finite numbers, if given.
    static func embedding(_ request: Mem0Request) throws -> [Float]? {
        guard let raw = request.object["embedding"], !(raw is NSNull) else { return nil }
        guard let list = raw as? [Any] else { throw ValidationError("'embedding' must be a list of numbers") }
        return try list.map { value in
            guard let n = value as? NSNumber, case let .number(x)? = MetadataValue(json: n), x.isFinite else {
                throw ValidationError("'embedding' must be a list of finite numbers")
            }
            return Float(x)
        }
    }
}

struct MemoryExport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export memories as JSONL that `engram memory import` takes back exactly.",
        discussion: """
            One line per live memory (every version of a superseded fact), oldest first: {id, text, user_id?, agent_id?, run_id?, \
            metadata, created_at, updated_at, expires_at?, valid_from, valid_to?, superseded_by?, immutable?, embedding?}; dates as seconds since \
            1970 (to the microsecond). Without scope options, the whole store.
            """)
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var scopeOptions: ScopeOptions
    @Option(help: "Mem0 filter JSON: only the memories that pass it.") var filters: String?
    @Flag(help: "Include each memory's embedding (so that an import need not embed again).") var withEmbeddings = false
    @Option(help: "Write to this file (atomically) instead of stdout.") var output: String?

    func run() async throws {
        let filter = try MemoryJSON.filter(filters)
        // Streamed in 1 MiB pieces; to a file through a temporary one renamed at the end, so
        // that a failed export never leaves a partial file under the name asked for.
        let temporary = output.map { $0 + ".partial-\(getpid())" }
        if let temporary { guard FileManager.default.createFile(atPath: temporary, contents: nil) else { throw ValidationError("cannot write \(temporary)") } }
        let sink = temporary.flatMap { FileHandle(forWritingAtPath: $0) } ?? FileHandle.standardOutput
        var text = ""
        func flush() throws { try sink.write(contentsOf: Data(text.utf8)); text = "" }
        do {
            try await storeOptions.withStore { store in
                try store.export(scope: scopeOptions.restriction, filter: filter, withEmbeddings: withEmbeddings) { memory, embedding in
                    text += Self.line(memory, embedding: embedding).text + "\n"
                    if text.utf8.count > 1 << 20 { try flush() }
                }
            }
            try flush()
            if let temporary, let output {
                try sink.synchronize()
                try sink.close()
                guard rename(temporary, output) == 0 else { throw ValidationError("cannot rename \(temporary) to \(output)") }
            }
        } catch {
            if let temporary { unlink(temporary) }
            throw error
        }
    }

    /// Seconds since 1970 to the microsecond: a Date keeps its time from 2001, so the exact
    /// seconds of one can come back a bit off through an import, and then print differently;
    /// rounded, they print the same again.
    static func seconds(_ date: Date) -> JSONValue {
        .number((date.timeIntervalSince1970 * 1e6).rounded() / 1e6)
    }

    static func line(_ m: Memory, embedding: [Float]?) -> JSONValue {
        var fields: [(String, JSONValue)] = [("id", .string(m.id.uuidString.lowercased())), ("text", .string(m.text))] + Mem0JSON.scope(m.scope)
        fields += [("metadata", Mem0JSON.metadata(m.metadata)), ("created_at", seconds(m.createdAt)), ("updated_at", seconds(m.updatedAt))]
        if let e = m.expiresAt { fields.append(("expires_at", seconds(e))) }
        fields.append(("valid_from", seconds(m.validFrom)))
        if let to = m.validTo { fields.append(("valid_to", seconds(to))) }
        if let successor = m.supersededBy { fields.append(("superseded_by", .string(successor.uuidString.lowercased()))) }
        if m.immutable { fields.append(("immutable", .bool(true))) }
        if let embedding { fields.append(("embedding", .array(embedding.map { .number(Double($0)) }))) }
        return .object(fields)
    }
}
