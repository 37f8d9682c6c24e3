import EngramSupport
import ArgumentParser
import EngramEmbedding
import EngramMemory
import EngramMem0
import Foundation

/// Where the store is and how texts are embedded.
struct StoreOptions: ParsableArguments {
    @Option(help: "Store directory (created if missing): the whole store, or with --database this node's index files.") var store: String
    @Option(help: "PostgreSQL record: postgres://user[:password]@host[:port]/database[?sslmode=require] (password also from PGPASSWORD). Any number of nodes may serve one database.")
    var database: String?
    @Option(help: "Embedder: native (MiniLM, offline) or remote (OpenAI-compatible; ENGRAM_EMBEDDING_URL, _MODEL, _DIMENSION, _API_KEY).")
    var embedder: EmbedderKind = .native
    @Option(help: "Native model directory.") var model: String?
    @OptionGroup var precision: PrecisionOption

    enum EmbedderKind: String, ExpressibleByArgument { case native, remote }

    /// The PostgreSQL record, if `--database` names one.
    func location() throws -> PostgresLocation? {
        try database.map { try PostgresLocation(url: $0) }
    }

    func open(embedder: (any Embedder)? = nil) async throws -> MemoryStore {
        try await MemoryStore.open(directory: store, embedder: embedder ?? makeEmbedder(), database: location(),
                                   progress: Progress.OpenDisplay().show)
    }

    /// Opens the store, runs `body` with it and closes it, also when `body` throws.
    func withStore<R>(_ body: (MemoryStore) async throws -> R) async throws -> R {
        let store = try await open()
        do {
            let result = try await body(store)
            await close(store)
            return result
        } catch {
            await close(store)
            throw error
        }
    }

    /// Closes the store, which checkpoints its indexes when enough changed (see
    /// ``MemoryStore/close()``); a failure only costs the next open a catch-up, so it is
    /// reported, not fatal.
    func close(_ store: MemoryStore) async {
        do { try await store.close() } catch { FileHandle.standardError.write(Data("warning: index checkpoint failed: \(error)\n".utf8)) }
    }

    /// - Parameter threads: threads of the native embedder (default: all cores).
    func makeEmbedder(threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws -> any Embedder {
        switch embedder {
        case .native:
            return try MiniLMEmbedder(directory: model, threads: threads, precision: precision.precision)
        case .remote:
            let env = ProcessInfo.processInfo.environment
            guard let url = env["ENGRAM_EMBEDDING_URL"].flatMap(URL.init(string:)), let model = env["ENGRAM_EMBEDDING_MODEL"],
                  let dimension = env["ENGRAM_EMBEDDING_DIMENSION"].flatMap(Int.init) else {
                throw ValidationError("--embedder remote needs ENGRAM_EMBEDDING_URL, ENGRAM_EMBEDDING_MODEL and ENGRAM_EMBEDDING_DIMENSION")
            }
            return try RemoteEmbedder(.init(baseURL: url, model: model, dimension: dimension))
        }
    }
}

/// --user / --agent / --run.
struct ScopeOptions: ParsableArguments {
    @Option(help: "User id.") var user: String?
    @Option(help: "Agent id.") var agent: String?
    @Option(help: "Run id.") var run: String?

    var scope: MemoryScope { MemoryScope(userID: user, agentID: agent, runID: run) }

    /// The scope a single-memory command is confined to, or nil when no scope option was given.
    var restriction: MemoryScope? { scope.isEmpty ? nil : scope }
}

/// --as-of / --include-superseded: which versions of the facts a search or list sees.
struct ValidityOptions: ParsableArguments {
    @Option(help: "See what was valid at this instant (ISO-8601 date or time) instead of what is current.") var asOf: String?
    @Flag(help: "See every version, superseded ones included.") var includeSuperseded = false

    func validate() throws {
        if asOf != nil && includeSuperseded { throw ValidationError("--as-of and --include-superseded exclude each other") }
    }

    func validity() throws -> Validity {
        if let asOf { return .asOf(try MemoryJSON.date(asOf, option: "--as-of")) }
        return includeSuperseded ? .all : .current
    }
}

enum MemoryJSON {
    /// An ISO-8601 time, or a day (its start, UTC), given as `option`.
    static func date(_ text: String, option: String) throws -> Date {
        do {
            guard let date = try Mem0Request(object: ["date": text]).date("date") else { throw ValidationError("") }
            return date
        } catch {
            throw ValidationError("\(option) must be an ISO-8601 date or time (2026-03-04, 2026-03-04T10:00:00Z)")
        }
    }

    /// Metadata from a JSON object text.
    static func metadata(_ text: String?) throws -> [String: MetadataValue] {
        guard let text else { return [:] }
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw ValidationError("--metadata must be a JSON object")
        }
        return try metadata(object)
    }

    static func metadata(_ object: [String: Any]) throws -> [String: MetadataValue] {
        do { return try Mem0JSON.metadata(object) } catch { throw ValidationError("\(error)") }
    }

    static func filter(_ text: String?) throws -> MemoryFilter {
        guard let text else { return .all }
        return try MemoryFilter(json: Data(text.utf8))
    }

    static func uuid(_ text: String) throws -> UUID {
        guard let id = UUID(uuidString: text) else { throw ValidationError("'\(text)' is not a memory id (UUID)") }
        return id
    }
}
