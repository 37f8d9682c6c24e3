import EngramMem0
import EngramMemory
import EngramSupport
import Foundation
import MCP

/// The memory store as MCP tools, for agents: add, search, list, get, update and delete memories
/// of one scope. The scope is fixed by whoever starts the server (`engram mcp --user alice`), never
/// by the model: a tool call cannot name another tenant, and filters only narrow within the scope.
public struct MemoryTools: Sendable {
    let store: MemoryStore
    let scope: MemoryScope

    /// - Throws: ``MemoryError/missingScope`` when `scope` names no user, agent or run.
    public init(store: MemoryStore, scope: MemoryScope) throws {
        guard !scope.isEmpty else { throw MemoryError.missingScope }
        self.store = store
        self.scope = scope
    }

    /// Serves the tools over `transport` (for `engram mcp`: ``StdioTransport``) until the client
    /// disconnects. A malformed call is answered with a tool error; it never ends the server.
    public func serve(on transport: any Transport) async throws {
        await (try start(on: transport)).waitUntilCompleted()
    }

    /// Starts serving the tools over `transport`; the server answers on a task of its own.
    func start(on transport: any Transport) async throws -> Server {
        let server = Server(name: "engram", version: "1", capabilities: .init(tools: .init(listChanged: false)))
        await server.withMethodHandler(ListTools.self) { _ in .init(tools: Self.definitions) }
        await server.withMethodHandler(CallTool.self) { [self] params in await call(params.name, params.arguments ?? [:]) }
        try await server.start(transport: transport)
        return server
    }

    /// Runs one tool: its JSON result as text, or a tool error with the message the REST API
    /// would give.
    func call(_ name: String, _ arguments: [String: Value]) async -> CallTool.Result {
        do {
            let body = try Mem0Request(object: Self.plain(arguments))
            let result = try await run(name, body)
            return .init(content: [.text(text: result.text, annotations: nil, _meta: nil)], isError: false)
        } catch {
            return .init(content: [.text(text: ServerError.from(error).1, annotations: nil, _meta: nil)], isError: true)
        }
    }

    private func run(_ name: String, _ body: Mem0Request) async throws -> JSONValue {
        switch name {
        case "add_memories":
            let texts = try body.messages().filter { $0.role == "user" }.map(\.content)
            guard !texts.isEmpty else { throw ServerError.unprocessable("'messages' holds no user message with text") }
            let start = Date()
            let (metadata, validFrom, supersedes) = (try body.metadata() ?? [:], try body.date("valid_from"), try body.id("supersedes"))
            if supersedes != nil && texts.count != 1 {
                throw ServerError.unprocessable("'supersedes' replaces one memory: the call gave \(texts.count) to add")
            }
            let added = try await store.add(texts.map { NewMemory(text: $0, scope: scope, metadata: metadata, validFrom: validFrom, supersedes: supersedes) },
                                            dedupThreshold: try body.dedupThreshold())
            return .object([("results", .array(added.map { Self.item($0, event: $0.createdAt >= start ? "ADD" : "NONE") }))])
        case "search_memories":
            let hits = try await store.search(try MemoryCalls.query(body), scope: scope, filter: try body.filter(),
                                              limit: try body.int("limit", default: 10, range: 1...100), mode: try body.searchMode(),
                                              validity: try body.validity(), recencyHalfLife: try body.recencyHalfLife())
            return .object([("results", .array(hits.map { Mem0JSON.item($0) }))])
        case "recall_context":
            return try await MemoryCalls.recall(body, scope: scope, store: store)
        case "list_memories":
            let size = try body.int("page_size", default: 50, range: 1...1_000), page = try body.int("page", default: 1, range: 1...1_000_000)
            let (total, memories) = try store.list(scope: scope, filter: try body.filter(), limit: size, offset: (page - 1) * size,
                                                   validity: try body.validity())
            return .object([("count", .int(total)), ("results", .array(memories.map { Mem0JSON.item($0) }))])
        case "get_memory":
            return Mem0JSON.item(try reachable(body))
        case "update_memory":
            let memory = try reachable(body)
            let text = try body.string("text"), metadata = try body.metadata()
            guard text != nil || metadata != nil else { throw ServerError.unprocessable("give 'text' and/or 'metadata'") }
            return Mem0JSON.item(try await store.update(memory.id, text: text, metadata: metadata, scope: scope))
        case "delete_memory":
            try await store.delete(try reachable(body).id, scope: scope)
            return .object([("message", .string("Memory deleted successfully!"))])
        case "delete_all_memories":
            guard try body.bool("confirm") == true else {
                throw ServerError.unprocessable("deleting every memory of \(scope.mem0Description) needs 'confirm': true")
            }
            return .object([("deleted", .int(try await store.deleteAll(scope: scope, filter: try body.filter())))])
        default:
            throw ServerError.notFound("no tool \(name)")
        }
    }

    /// The memory `memory_id` names, if it is in the scope (else it does not exist for this server).
    private func reachable(_ body: Mem0Request) throws -> Memory {
        guard let text = try body.string("memory_id"), let id = UUID(uuidString: text) else {
            throw ServerError.unprocessable("'memory_id' must be a memory id")
        }
        guard let memory = try? store.get(id), scope.contains(memory.scope) else { throw ServerError.notFound("no memory \(text)") }
        return memory
    }

    private static func item(_ memory: Memory, event: String) -> JSONValue {
        guard case var .object(fields) = Mem0JSON.item(memory) else { return Mem0JSON.item(memory) }
        fields.append(("event", .string(event)))
        return .object(fields)
    }

    /// Tool arguments as `JSONSerialization` gives them, for ``Mem0Request``.
    static func plain(_ arguments: [String: Value]) throws -> [String: Any] {
        let data = try JSONEncoder().encode(arguments)
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }
}

extension MemoryTools {
    /// Serves the tools on standard input and output (what desktop MCP clients spawn) until the
    /// client closes them. Nothing else may write to standard output meanwhile.
    public func serveOverStdio() async throws {
        try await serve(on: StdioTransport())
    }
}
