import EngramMem0
import EngramMemory
import EngramSupport
import Foundation

/// The memory calls that REST routes and MCP tools both answer, from the same arguments (a
/// ``Mem0Request``) to the same JSON, so that the two surfaces never drift apart. The caller has
/// settled the scope (REST from the body and the key, MCP from the command line).
enum MemoryCalls {
    /// `query` (non-empty), checked.
    static func query(_ body: Mem0Request) throws -> String {
        guard let query = try body.string("query"), !query.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ServerError.unprocessable("'query' must be a non-empty string")
        }
        return query
    }

    /// Recall: `{query, filters?, budget_tokens, as_of?, include_superseded?, recency_half_life_days?, mode?, lambda?}` →
    /// `{"context", "memories": [items], "tokens"}`.
    static func recall(_ body: Mem0Request, scope: MemoryScope, store: MemoryStore) async throws -> JSONValue {
        let query = try query(body)
        guard body.object["budget_tokens"] != nil || body.query["budget_tokens"] != nil else {
            throw ServerError.unprocessable("'budget_tokens' is required: the most tokens the context may take")
        }
        let budget = try body.int("budget_tokens", default: 0, range: 1...1_000_000)
        var options = RecallOptions(validity: try body.validity(), recencyHalfLife: try body.recencyHalfLife(), mode: try body.searchMode())
        if let lambda = try body.number("lambda") {
            guard (0...1).contains(lambda) else { throw ServerError.unprocessable("'lambda' must lie in 0...1") }
            options.lambda = Float(lambda)
        }
        let recall = try await store.recall(query, scope: scope, filter: try body.filter(), budgetTokens: budget, options: options)
        return .object([("context", .string(recall.context)), ("memories", .array(recall.memories.map { Mem0JSON.item($0) })),
                        ("tokens", .int(recall.tokens))])
    }
}
