import ArgumentParser
import EngramEmbedding
import EngramMemory
import EngramServer
import EngramSupport
import Foundation
import Logging

/// `engram serve`: the Mem0-compatible memory server.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a memory store over HTTP with the routes the mem0ai client calls.",
        discussion: """
            API keys: ENGRAM_API_KEY gives one unrestricted key; --api-keys FILE maps keys to restrictions \
            ({} unrestricted, {"user_id": ["alice"]}, {"agent_id": ["planner"]}). Clients send \
            'Authorization: Token <key>' or 'X-API-Key: <key>'. Without keys the server only listens on loopback. \
            Listens at once (GET /healthz 200; /readyz and the store's routes 503 while the store opens); prints \
            {"listening": "HOST:PORT"} on stdout once the store is open (--port 0 picks a free port).
            """)
    @Option(help: "TOML file of these options, a key per option (port = 8765, log-format = \"json\", metrics = false); options given here override it.")
    var config: String?
    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port (0: any free port).") var port = 8765
    @Option(help: "JSON file of API keys and their restrictions.") var apiKeys: String?
    @Option(help: "OpenAI-compatible API root for memory extraction (e.g. http://localhost:11434/v1); key from ENGRAM_LLM_API_KEY or OPENAI_API_KEY.")
    var llmURL: String?
    @Option(help: "Chat model that extracts memories from conversations (with --llm-url).") var llmModel: String?
    @Option(help: "Threads of the native embedder's worker (default: half the cores, leaving the rest to requests).")
    var embedThreads = max(1, ProcessInfo.processInfo.activeProcessorCount / 2)
    @Option(help: "Most query texts the native embedder's worker embeds in one pass.") var embedBatch = 64
    @Option(help: "Query embeddings kept in an LRU cache, by model and text (0: no cache).") var queryCache = 4_096
    @Option(help: "Seconds between checkpoints of the store when enough has changed (0: only at shutdown).")
    var checkpointInterval = 300
    @Option(help: "Seconds a connection may send nothing (idle, or a request stopped halfway) before it is closed.")
    var idleTimeout = 60.0
    @Option(help: "Log lines on stderr: text, or json (one object per line: time, level, message, request fields).")
    var logFormat: LogFormat = .text
    @Flag(inversion: .prefixedNo, help: "Serve GET /metrics (Prometheus text format).") var metrics = true
    @Flag(help: "Answer GET /metrics without an API key (it needs one by default when keys are set).") var publicMetrics = false

    enum LogFormat: String, ExpressibleByArgument, CaseIterable { case text, json }

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
        guard checkpointInterval >= 0 else { throw ValidationError("--checkpoint-interval must be 0 or more seconds") }
        guard idleTimeout.isFinite, idleTimeout > 0, idleTimeout <= 86_400 else { throw ValidationError("--idle-timeout must be in (0, 86400] seconds") }
        guard (1...1_024).contains(embedBatch) else { throw ValidationError("--embed-batch must be in 1...1024") }
        guard (0...1_000_000).contains(queryCache) else { throw ValidationError("--query-cache must be in 0...1000000") }
        guard (llmURL == nil) == (llmModel == nil) else { throw ValidationError("--llm-url and --llm-model go together") }
        if let llmURL, URL(string: llmURL)?.scheme == nil { throw ValidationError("--llm-url must be a URL") }
    }

    func extractor() throws -> MemoryExtractor? {
        guard let llmURL, let llmModel, let url = URL(string: llmURL) else { return nil }
        let env = ProcessInfo.processInfo.environment
        return MemoryExtractor(.init(baseURL: url, model: llmModel, apiKey: env["ENGRAM_LLM_API_KEY"] ?? env["OPENAI_API_KEY"]))
    }

    func run() async throws {
        if logFormat == .json { LoggingSystem.bootstrap(JSONLogHandler.init) }
        let keys = try APIKeys.load(environmentKey: ProcessInfo.processInfo.environment["ENGRAM_API_KEY"], file: apiKeys)
        // Requests embed on one worker thread, batched, never on the cooperative pool.
        let embedder = try storeOptions.makeEmbedder(threads: embedThreads)
        let batched = (embedder as? any SynchronousEmbedder).map { BatchingEmbedder($0, maxBatch: embedBatch) } ?? embedder
        let served = queryCache > 0 ? CachingEmbedder(batched, capacity: queryCache) : batched
        // The server listens while the store opens (probes see it starting); {"listening"} is printed once it is open.
        let server = try MemoryServer(store: nil, configuration: .init(
            host: host, port: port, keys: keys, extractor: try extractor(),
            checkpointInterval: checkpointInterval > 0 ? .seconds(checkpointInterval) : nil, idleTimeout: .milliseconds(Int(idleTimeout * 1_000)),
            metrics: metrics, publicMetrics: publicMetrics))
        let host = host
        let storeOptions = storeOptions
        try await server.run(opening: { try await storeOptions.open(embedder: served) }) { port in
            // Unbuffered, so a supervisor reading a pipe sees the line at once.
            FileHandle.standardOutput.write(Data((JSONValue.object([("listening", .string("\(host):\(port)"))]).text + "\n").utf8))
        }
    }
}
