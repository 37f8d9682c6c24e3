import EngramMem0
import EngramMemory
import EngramSupport
import Foundation
import Hummingbird

extension MemoryRoutes {
    /// `create_memory_export`: records what to export (a scope, filters, a schema) and answers
    /// with its id, as Mem0 does. Mem0 fills the schema with an LLM; Engram gives the schema back
    /// beside the memories themselves (see ``getExport(_:_:)``).
    @Sendable func createExport(_ request: Request, _ context: ServerContext) async throws -> Response {
        let body = try await Mem0Request(request, context)
        guard let raw = body.object["schema"], !(raw is NSNull) else { throw ServerError.unprocessable("'schema' is required") }
        let filter = try body.filter()
        let scope = try queryScope(body, filter, context)
        let id = exports.add(scope: scope, filter: filter, schema: try Self.jsonText(raw))
        return .json(.object([("message", .string("Memory export request received. The export will be ready in a few seconds.")),
                              ("id", .string(id.uuidString.lowercased()))]))
    }

    /// `get_memory_export`: the export a `memory_export_id` names (404 when this server took no
    /// such request, or the key does not reach its scope), or else the newest one for the scope
    /// the body names (made now if there is none). The memories are read now, as `get_all` would
    /// list them: `{"id", "schema", "created_at", "count", "results": [items]}`.
    @Sendable func getExport(_ request: Request, _ context: ServerContext) async throws -> Response {
        let body = try await Mem0Request(request, context)
        let entry: ExportRequests.Entry?
        let scope: MemoryScope, filter: MemoryFilter
        if let text = try body.string("memory_export_id") {
            guard let id = UUID(uuidString: text), let found = exports.entry(id), context.keyScope.allows(found.scope) else {
                throw ServerError.notFound("no memory export \(text)")
            }
            (entry, scope, filter) = (found, found.scope, found.filter)
        } else {
            filter = try body.filter()
            scope = try queryScope(body, filter, context)
            entry = exports.latest(for: scope)
        }
        var items: [JSONValue] = []
        try store.export(scope: scope, filter: filter) { memory, _ in items.append(Mem0JSON.item(memory)) }
        return .json(.object([
            ("id", .string(entry?.id.uuidString.lowercased())), ("schema", entry.map { .raw($0.schema) } ?? .string(nil)),
            ("created_at", .string((entry?.createdAt).map(Mem0JSON.timestamp))), ("count", .int(items.count)), ("results", .array(items)),
        ]))
    }

    /// A JSON value decoded by `JSONSerialization`, as JSON text again.
    static func jsonText(_ value: Any) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}
