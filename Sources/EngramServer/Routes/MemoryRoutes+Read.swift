import EngramMem0
import EngramMemory
import EngramSupport
import Foundation
import Hummingbird

extension MemoryRoutes {
    @Sendable func search(_ request: Request, _ context: ServerContext) async throws -> Response {
        let parseStart = ContinuousClock.now
        let body = try await Mem0Request(request, context)
        let filter = try body.filter()
        let scopes = try queryScopes(body, filter, context)
        let query = try MemoryCalls.query(body)
        let limit = try body.int("top_k", default: try body.int("limit", default: 10, range: 1...1_000), range: 1...1_000)
        let threshold = try body.number("threshold").map(Float.init)
        let mode = try body.searchMode()
        let (validity, halfLife) = (try body.validity(), try body.recencyHalfLife())
        let start = ContinuousClock.now
        let parsing = start - parseStart
        let vector = mode != .keyword || threshold != nil ? try await store.embedder.embed([query])[0] : nil
        let embedding = ContinuousClock.now - start
        let searchStart = ContinuousClock.now
        let hits = try store.search(query, vector: vector, scopes: scopes, filter: filter, limit: limit, threshold: threshold, mode: mode,
                                    validity: validity, recencyHalfLife: halfLife)
        let encodeStart = ContinuousClock.now
        let searching = encodeStart - searchStart
        var response = Response.json(.object([("results", .array(hits.map(Mem0JSON.item)))]))
        let encoding = ContinuousClock.now - encodeStart
        response.headers[.serverTiming] = [("parse", parsing), ("embed", embedding), ("search", searching), ("encode", encoding)]
            .map { "\($0);dur=\(ServerMiddleware.milliseconds($1))" }.joined(separator: ", ")
        return response
    }

    /// A prompt-ready context under a token budget (``MemoryCalls/recall(_:scope:store:)``).
    @Sendable func recall(_ request: Request, _ context: ServerContext) async throws -> Response {
        let body = try await Mem0Request(request, context)
        let scope = try queryScope(body, try body.filter(), context)
        return .json(try await MemoryCalls.recall(body, scope: scope, store: store))
    }

    /// A page of the memories in scope passing the filters, newest first.
    @Sendable func list(_ request: Request, _ context: ServerContext) async throws -> Response {
        let body = try await Mem0Request(request, context)
        let filter = try body.filter()
        let scope = try queryScope(body, filter, context)
        let page = try body.int("page", default: 1, range: 1...1_000_000), size = try body.int("page_size", default: 100, range: 1...1_000)
        let (total, memories) = try store.list(scope: scope, filter: filter, limit: size, offset: (page - 1) * size, validity: try body.validity())
        func link(_ p: Int) -> JSONValue {
            guard p >= 1, (p - 1) * size < total else { return .string(nil) }
            return .string("\(request.uri.path)?page=\(p)&page_size=\(size)")
        }
        return .json(.object([("count", .int(total)), ("next", link(page + 1)), ("previous", page > 1 ? link(page - 1) : .string(nil)),
                              ("results", .array(memories.map { Mem0JSON.item($0) }))]))
    }

    @Sendable func get(_ request: Request, _ context: ServerContext) async throws -> Response {
        .json(Mem0JSON.item(try await reachable(request, context)))
    }

    @Sendable func history(_ request: Request, _ context: ServerContext) async throws -> Response {
        let memory = try await reachable(request, context)
        let events = try await store.history(memory.id)
        return .json(.array(events.enumerated().map { i, e in Mem0JSON.event(e, index: i, userID: memory.scope.userID) }))
    }

    /// Users, agents and runs with memories, as far as the key reaches.
    @Sendable func entities(_ request: Request, _ context: ServerContext) async throws -> Response {
        let visible = try store.entities().filter { e in
            switch e.field {
            case "user_id": context.keyScope.users.map { $0.contains(e.id) } ?? (context.keyScope.agents == nil)
            case "agent_id": context.keyScope.agents.map { $0.contains(e.id) } ?? (context.keyScope.users == nil)
            default: context.keyScope == .unrestricted
            }
        }
        return .json(.object([("count", .int(visible.count)), ("results", .array(visible.map(Mem0JSON.entity)))]))
    }

    /// The scopes of a search: one named at the top level or by the filters, or several the filters
    /// name as alternatives (`user_id` `in` a list, an `OR` of scopes), each reachable with the
    /// request's key (403 naming the first that is not).
    func queryScopes(_ body: Mem0Request, _ filter: MemoryFilter, _ context: ServerContext) throws -> [MemoryScope] {
        let scopes = try body.scopes(filter: filter)
        guard !scopes.isEmpty else {
            throw ServerError.unprocessable("name a scope: user_id, agent_id or run_id, at the top level or in 'filters' (several with \"in\" or OR)")
        }
        guard scopes.count <= MemoryStore.maxScopesPerSearch else { throw ServerError.unprocessable("at most \(MemoryStore.maxScopesPerSearch) scopes per search") }
        if let denied = scopes.first(where: { !context.keyScope.allows($0) }) {
            throw ServerError.forbidden("this API key may not read memories of \(denied.mem0Description)")
        }
        return scopes
    }

    /// The scope of a search or list: named at the top level or by the filters, and reachable
    /// with the request's key.
    func queryScope(_ body: Mem0Request, _ filter: MemoryFilter, _ context: ServerContext) throws -> MemoryScope {
        let scope = try body.scope(filter: filter)
        guard !scope.isEmpty else {
            throw ServerError.unprocessable("name a scope: user_id, agent_id or run_id, at the top level or in 'filters'")
        }
        guard context.keyScope.allows(scope) else { throw ServerError.forbidden("this API key may not read memories of \(scope.mem0Description)") }
        return scope
    }
}
