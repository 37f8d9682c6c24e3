import EngramMem0
import EngramMemory
import EngramSupport
import Foundation
import Hummingbird

extension MemoryRoutes {
    /// Mem0 fields Engram does not implement on an add: refused by name, never dropped.
    static let refusedOnAdd = [
        "custom_categories": "memories carry metadata, not categories",
        "agent_custom_instructions": "give 'custom_instructions'",
        "structured_data_schema": "memories are text with metadata",
    ]

    /// Adds memories from a conversation, all in one transaction or none: with an extraction
    /// model configured and `infer` not false, the facts it extracts (guided by
    /// `custom_instructions`, `includes`, `excludes`); with `infer: false`, every message but the
    /// system's, its `role` (and `name`, as `actor_id`) in its metadata, as Mem0 does; with no
    /// model, each user message.
    @Sendable func add(_ request: Request, _ context: ServerContext) async throws -> Response {
        let body = try await Mem0Request(request, context)
        try body.refuse(Self.refusedOnAdd)
        let scope = try body.scope(filter: try body.filter())
        guard !scope.isEmpty else { throw ServerError.unprocessable(MemoryError.missingScope.description) }
        guard context.keyScope.allows(scope) else { throw ServerError.forbidden("this API key may not add memories for \(scope.mem0Description)") }
        let messages = try body.messages()
        let guidance = ExtractionGuidance(instructions: try body.string("custom_instructions"), includes: try body.string("includes"),
                                          excludes: try body.string("excludes"))
        let metadata = try body.metadata() ?? [:]
        let infer = try body.bool("infer")
        var items: [(text: String, metadata: [String: MetadataValue])]
        if let extractor, infer ?? true {
            let facts = try await extractor.extract(messages, guidance: guidance)
            if facts.isEmpty { return .json(.object([("results", .array([]))])) }
            try body.refuse(["supersedes": "with an extraction model, the model decides what each fact replaces (or send infer=false)"])
            let results = try await decidedAdd(facts, scope: scope, metadata: metadata, extractor: extractor, body: body,
                                               immutable: try body.bool("immutable") ?? false)
            return .json(.object([("results", .array(results))]))
        } else {
            guard guidance.isEmpty else {
                throw ServerError.unprocessable("'custom_instructions', 'includes' and 'excludes' guide extraction: this server has no extraction model (--llm-url) or the request sets infer=false")
            }
            if infer == false {
                items = messages.filter { $0.role != "system" }.map { m in
                    var tagged = metadata
                    tagged["role"] = .string(m.role)
                    if let name = m.name { tagged["actor_id"] = .string(name) }
                    return (m.content, tagged)
                }
            } else {
                items = messages.filter { $0.role == "user" }.map { ($0.content, metadata) }
            }
            guard !items.isEmpty else { throw ServerError.unprocessable("'messages' holds no \(infer == false ? "non-system" : "user") message with text") }
        }
        let validFrom = try body.date("valid_from") ?? body.number("timestamp").map { Date(timeIntervalSince1970: $0) }
        let (expiry, supersedes) = (try body.date("expiration_date", dayEnds: true), try body.id("supersedes"))
        let immutable = try body.bool("immutable") ?? false
        if supersedes != nil && items.count != 1 {
            throw ServerError.unprocessable("'supersedes' replaces one memory: the request gave \(items.count) to add")
        }
        let start = Date()
        let added = try await store.add(items.map {
            NewMemory(text: $0.text, scope: scope, metadata: $0.metadata, expiresAt: expiry, validFrom: validFrom, supersedes: supersedes,
                      immutable: immutable)
        }, dedupThreshold: try body.dedupThreshold())
        return .json(.object([("results", .array(added.map { m in
            guard case var .object(fields) = Mem0JSON.item(m) else { return Mem0JSON.item(m) }
            fields.append(("event", .string(m.createdAt >= start ? "ADD" : "NONE")))
            return .object(fields)
        }))]))
    }

    /// Sets extracted `facts` against the scope's most similar current memories (five per fact, of
    /// exactly this scope) and applies the model's decisions: ADD stores, UPDATE supersedes, DELETE
    /// ends a memory's validity, NONE leaves things as they are. The adds and supersessions are one
    /// transaction, the ends of validity a second; a malformed answer stores nothing (502).
    /// An immutable memory is never changed: an UPDATE of one adds the new fact beside it, a
    /// DELETE of one is NONE.
    /// - Returns: one item per decision that names a memory, with its `event`.
    private func decidedAdd(_ facts: [String], scope: MemoryScope, metadata: [String: MetadataValue], extractor: MemoryExtractor,
                            body: Mem0Request, immutable: Bool) async throws -> [JSONValue] {
        let vectors = try await store.embedder.embed(facts)
        var held: [Memory] = []
        for vector in vectors {
            for hit in try store.search("", vector: vector, scope: scope, limit: 5, mode: .vector)
            where hit.memory.scope == scope && !held.contains(where: { $0.id == hit.memory.id }) { held.append(hit.memory) }
        }
        let fixed = Set(held.filter(\.immutable).map(\.id))
        let decided = held.isEmpty ? facts.map(MemoryExtractor.Decision.add) : try await extractor.decide(facts, held: held)
        let decisions = decided.map { decision -> MemoryExtractor.Decision in
            switch decision {
            case let .update(id, text) where fixed.contains(id): .add(text)
            case let .delete(id) where fixed.contains(id): .none(id)
            default: decision
            }
        }
        let (expiry, validFrom) = (try body.date("expiration_date", dayEnds: true), try body.date("valid_from"))
        var stored: [NewMemory] = []
        for decision in decisions {
            switch decision {
            case let .add(text):
                stored.append(NewMemory(text: text, scope: scope, metadata: metadata, expiresAt: expiry, validFrom: validFrom, immutable: immutable))
            case let .update(id, text):
                stored.append(NewMemory(text: text, scope: scope, metadata: metadata, expiresAt: expiry, validFrom: validFrom, supersedes: id,
                                        immutable: immutable))
            case .delete, .none: break
            }
        }
        let start = Date()
        var added = stored.isEmpty ? [] : try await store.add(stored, dedupThreshold: try body.dedupThreshold())[...]
        let closed = try await store.invalidate(decisions.compactMap { if case let .delete(id) = $0 { id } else { nil } }, scope: scope)
        var closedLeft = closed[...]
        func item(_ m: Memory, _ event: String) -> JSONValue {
            guard case var .object(fields) = Mem0JSON.item(m) else { return Mem0JSON.item(m) }
            fields.append(("event", .string(event)))
            return .object(fields)
        }
        return decisions.compactMap { decision in
            switch decision {
            case .add: added.popFirst().map { item($0, $0.createdAt >= start ? "ADD" : "NONE") }
            case .update: added.popFirst().map { item($0, $0.createdAt >= start ? "UPDATE" : "NONE") }
            case .delete: closedLeft.popFirst().map { item($0, "DELETE") }
            case let .none(id): id.flatMap { id in held.first { $0.id == id } }.map { item($0, "NONE") }
            }
        }
    }

    @Sendable func update(_ request: Request, _ context: ServerContext) async throws -> Response {
        let body = try await Mem0Request(request, context)
        let memory = try await reachable(request, context)
        try body.refuse(["timestamp": "a memory's time is its valid_from, set when it is added (supersede it to date a change)"])
        let text = try body.string("text") ?? body.string("memory") ?? body.string("data")
        let (metadata, expiry) = (try body.metadata(), try body.expiry())
        guard text != nil || metadata != nil || expiry != nil else { throw ServerError.unprocessable("give 'text', 'metadata' and/or 'expiration_date'") }
        let edit = MemoryEdit(id: memory.id, text: text, metadata: metadata, expiry: expiry)
        return .json(Mem0JSON.item(try await store.update([edit], scope: memory.scope)[0]))
    }

    @Sendable func delete(_ request: Request, _ context: ServerContext) async throws -> Response {
        let memory = try await reachable(request, context)
        try await store.delete(memory.id, scope: memory.scope)
        return .json(.object([("message", .string("Memory deleted successfully!"))]))
    }

    /// Most memories one batch call changes (as Mem0's own API).
    static let maxBatch = 1_000

    /// `PUT /v1/batch/` (`batch_update`): `{"memories": [{"memory_id", "text"?, "metadata"?}]}`,
    /// one transaction, every memory reachable with the key or nothing changes.
    @Sendable func batchUpdate(_ request: Request, _ context: ServerContext) async throws -> Response {
        let items = try await batch(request, context)
        let edits = try items.map { memory, item in
            let text = try item.string("text") ?? item.string("memory")
            let (metadata, expiry) = (try item.metadata(), try item.expiry())
            guard text != nil || metadata != nil || expiry != nil else {
                throw ServerError.unprocessable("memory \(memory.id.uuidString.lowercased()): give 'text', 'metadata' and/or 'expiration_date'")
            }
            return MemoryEdit(id: memory.id, text: text, metadata: metadata, expiry: expiry)
        }
        let updated = try await store.update(edits)
        return .json(.object([("message", .string("Successfully updated \(updated.count) memories")), ("results", .array(updated.map { Mem0JSON.item($0) }))]))
    }

    /// `DELETE /v1/batch/` (`batch_delete`): `{"memories": [{"memory_id"}]}`, one transaction.
    @Sendable func batchDelete(_ request: Request, _ context: ServerContext) async throws -> Response {
        let ids = try await batch(request, context).map(\.memory.id)
        try await store.delete(ids)
        return .json(.object([("message", .string("Successfully deleted \(ids.count) memories")), ("deleted", .int(ids.count))]))
    }

    /// The memories a batch body names, each reachable with the request's key (else 404 for the
    /// first that is not: nothing of the batch is done), with its item.
    private func batch(_ request: Request, _ context: ServerContext) async throws -> [(memory: Memory, item: Mem0Request)] {
        let body = try await Mem0Request(request, context)
        guard let list = body.object["memories"] as? [Any], !list.isEmpty else { throw ServerError.unprocessable("'memories' must be a non-empty list") }
        guard list.count <= Self.maxBatch else { throw ServerError.unprocessable("at most \(Self.maxBatch) memories per batch") }
        var found: [(memory: Memory, item: Mem0Request)] = []
        for entry in list {
            guard let object = entry as? [String: Any] else { throw ServerError.unprocessable("each item of 'memories' must be an object with a 'memory_id'") }
            let item = Mem0Request(object: object)
            guard let text = try item.string("memory_id"), let id = UUID(uuidString: text) else {
                throw ServerError.unprocessable("each item of 'memories' needs a 'memory_id' (a memory id)")
            }
            found.append((try await reachable(id, context), item))
        }
        return found
    }

    /// Deletes every memory of the scope named by `user_id` / `agent_id` / `run_id` that passes `filters`.
    @Sendable func deleteAll(_ request: Request, _ context: ServerContext) async throws -> Response {
        let body = try await Mem0Request(request, context)
        let filter = try body.filter()
        let scope = try body.scope(filter: filter)
        guard !scope.isEmpty else { throw ServerError.unprocessable("name the memories to delete: user_id, agent_id and/or run_id") }
        guard context.keyScope.allows(scope) else { throw ServerError.forbidden("this API key may not delete memories of \(scope.mem0Description)") }
        // The filters are applied as a search applies them: never a wider delete than they say.
        let n = try await store.deleteAll(scope: scope, filter: filter)
        return .json(.object([("message", .string("Memories deleted successfully!")), ("deleted", .int(n))]))
    }

    /// Deletes every memory of one user, agent or run (`mem0ai`'s `delete_users`, and `reset`,
    /// which calls it for every entity listed), with their history.
    @Sendable func deleteEntity(_ request: Request, _ context: ServerContext) async throws -> Response {
        let raw = context.parameters.get("name") ?? ""
        let name = raw.removingPercentEncoding ?? raw
        let scope: MemoryScope = switch context.parameters.get("type") {
        case "user": MemoryScope(userID: name)
        case "agent": MemoryScope(agentID: name)
        case "run": MemoryScope(runID: name)
        default: throw ServerError.unprocessable("entity type must be user, agent or run (apps are not offered)")
        }
        guard context.keyScope.allows(scope) else { throw ServerError.forbidden("this API key may not delete memories of \(scope.mem0Description)") }
        let n = try await store.deleteAll(scope: scope)
        return .json(.object([("message", .string("Entity deleted successfully!")), ("deleted", .int(n))]))
    }

    /// The memory the path names, if the key reaches it (otherwise it does not exist for this key).
    func reachable(_ request: Request, _ context: ServerContext) async throws -> Memory {
        guard let text = context.parameters.get("id"), let id = UUID(uuidString: text) else {
            throw ServerError.notFound("no memory \(context.parameters.get("id") ?? "")")
        }
        return try await reachable(id, context)
    }

    /// Memory `id`, if the key reaches it (otherwise it does not exist for this key); other
    /// errors (a database that is down) pass through.
    func reachable(_ id: UUID, _ context: ServerContext) async throws -> Memory {
        let found: Memory?
        do { found = try await store.get(id) } catch MemoryError.notFound { found = nil }
        guard let memory = found, context.keyScope.allows(memory.scope) else {
            throw ServerError.notFound(MemoryError.notFound(id).description)
        }
        return memory
    }
}
