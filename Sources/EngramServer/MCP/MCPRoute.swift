import EngramMemory
import EngramSupport
import Foundation
import HTTPTypes
import Hummingbird
import MCP

/// MCP's streamable HTTP transport at `/mcp` on `engram serve` (stateless: JSON responses, no
/// sessions), behind the API keys like every route. The tools work in one scope per request: the
/// `user_id` / `agent_id` / `run_id` of the URL's query (`/mcp?user_id=alice`), which the key must
/// reach, or else the one user or agent a restricted key is limited to. One MCP server per scope,
/// made at its first request.
final class MCPRoute: Sendable {
    let served: ServedStore
    private let servers = Locked<[MemoryScope: (transport: StatelessHTTPServerTransport, server: Server)]>([:])

    /// Most scopes with a running MCP server; past it, others are stopped (and started again when asked).
    static let limit = 1_000

    init(served: ServedStore) { self.served = served }

    func register(on router: Router<ServerContext>) {
        for method in [HTTPRequest.Method.post, .get, .delete] {
            router.on("mcp", method: method) { [self] request, context in try await handle(request, context) }
        }
    }

    private func handle(_ request: Request, _ context: ServerContext) async throws -> Response {
        let scope = try Self.scope(request, context)
        let transport = try await transport(for: scope)
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let answer = await transport.handleRequest(MCP.HTTPRequest(method: request.method.rawValue, headers: headers,
                                                                   body: Data(buffer: body), path: request.uri.path))
        var fields = HTTPFields()
        for (name, value) in answer.headers { if let name = HTTPField.Name(name) { fields[name] = value } }
        return Response(status: .init(code: answer.statusCode), headers: fields,
                        body: .init(byteBuffer: ByteBuffer(bytes: answer.bodyData ?? Data())))
    }

    /// The scope the request's tools work in.
    static func scope(_ request: Request, _ context: ServerContext) throws -> MemoryScope {
        let query = request.uri.queryParameters
        var scope = MemoryScope(userID: query["user_id"].map(String.init), agentID: query["agent_id"].map(String.init),
                                runID: query["run_id"].map(String.init))
        if scope.isEmpty {
            let key = context.keyScope
            if let users = key.users, users.count == 1 { scope.userID = users.first }
            else if let agents = key.agents, agents.count == 1 { scope.agentID = agents.first }
        }
        guard !scope.isEmpty else { throw ServerError.unprocessable("name the scope of the tools: /mcp?user_id=… (or agent_id, run_id)") }
        guard context.keyScope.allows(scope) else { throw ServerError.forbidden("this API key may not reach memories of \(scope.mem0Description)") }
        return scope
    }

    /// The transport of `scope`'s MCP server, started at its first request.
    private func transport(for scope: MemoryScope) async throws -> StatelessHTTPServerTransport {
        if let running = servers.withLock({ $0[scope] }) { return running.transport }
        let transport = StatelessHTTPServerTransport()
        let server = try await MemoryTools(store: try served.get(), scope: scope).start(on: transport)
        // Two first requests at once: the first server stored wins, the other stops.
        let (kept, evicted) = servers.withLock { servers in
            if let other = servers[scope] { return (other, [server]) }
            // Bounded: a key that may reach any scope could otherwise make servers without end.
            var evicted: [Server] = []
            while servers.count >= Self.limit, let some = servers.first { evicted.append(some.value.server); servers[some.key] = nil }
            servers[scope] = (transport, server)
            return ((transport, server), evicted)
        }
        for server in evicted { await server.stop() }
        return kept.transport
    }

    /// Stops every MCP server (at shutdown).
    func stop() async {
        for (_, running) in servers.withLock({ $0 }) { await running.server.stop() }
    }
}
