import MCP

extension MemoryTools {
    /// The tools and their JSON schemas, as the model reads them.
    static let definitions: [Tool] = [
        tool("add_memories", """
            Remember facts about the user or the task for later conversations. Each user message becomes one memory \
            (assistant messages are context only); a text the scope already holds is not stored twice (event NONE).
            """,
             ["messages": .object(["description": "A text, or chat messages [{\"role\": \"user\", \"content\": \"...\"}]",
                                   "anyOf": .array([.object(["type": "string"]), .object(["type": "array", "items": message])])]),
              "metadata": object("Optional key/value facts about the memories: any JSON values, nested objects included (filters address them as \"prefs.food\")"),
              "supersedes": string("The id of a memory this one replaces (a changed preference, a reversed decision): it stays as history, no longer current"),
              "valid_from": string("ISO-8601 date or time the fact became true (default: now)")],
             required: ["messages"]),
        tool("search_memories", "Find the memories most relevant to a question or topic, best first, with their scores.",
             ["query": string("What to look for, in natural language"),
              "filters": filters,
              "limit": .object(["type": "integer", "minimum": 1, "maximum": 100, "description": "Most results (default 10)"]),
              "mode": mode, "as_of": asOf, "include_superseded": includeSuperseded,
              "recency_half_life_days": .object(["type": "number", "exclusiveMinimum": 0,
                                                 "description": "Favour recent facts: a fact this many days old counts half (default: no decay)"])],
             required: ["query"]),
        tool("recall_context", """
            The memories that best answer a question, as dated lines ready to put in a prompt, within a token budget \
            (near-duplicates left out, the most relevant first).
            """,
             ["query": string("What the context is for, in natural language"),
              "budget_tokens": .object(["type": "integer", "minimum": 1, "description": "The most tokens the context may take"]),
              "filters": filters, "mode": mode, "as_of": asOf,
              "recency_half_life_days": .object(["type": "number", "exclusiveMinimum": 0, "description": "Favour recent facts (default: no decay)"])],
             required: ["query", "budget_tokens"]),
        tool("list_memories", "List the memories, a page at a time, with their total count.",
             ["filters": filters,
              "page": .object(["type": "integer", "minimum": 1, "description": "Page number (default 1)"]),
              "page_size": .object(["type": "integer", "minimum": 1, "maximum": 1000, "description": "Memories per page (default 50)"]),
              "as_of": asOf, "include_superseded": includeSuperseded],
             required: []),
        tool("get_memory", "Read one memory by its id.", ["memory_id": string("The memory's id")], required: ["memory_id"]),
        tool("update_memory", "Change a memory's text and/or metadata (its history keeps the old text).",
             ["memory_id": string("The memory's id"), "text": string("The new text"), "metadata": object("The new metadata (replaces the old)")],
             required: ["memory_id"]),
        tool("delete_memory", "Forget one memory for good.", ["memory_id": string("The memory's id")], required: ["memory_id"]),
        tool("delete_all_memories", "Forget every memory of this scope (or those the filters pass). Cannot be undone.",
             ["confirm": .object(["type": "boolean", "description": "Must be true: deleting everything is deliberate"]), "filters": filters],
             required: ["confirm"]),
    ]

    private static let mode: Value = .object(["type": "string", "enum": ["hybrid", "vector", "keyword"],
                                              "description": "hybrid (default): meaning and words; vector: meaning only; keyword: words only"])
    private static let asOf: Value = .object(["type": "string", "description": "ISO-8601 date or time: what was true then (default: what is true now)"])
    private static let includeSuperseded: Value = .object(["type": "boolean", "description": "Also return facts that newer ones replaced"])

    private static let message: Value = .object([
        "type": "object", "required": ["role", "content"],
        "properties": .object(["role": .object(["type": "string", "enum": ["user", "assistant", "system"]]), "content": .object(["type": "string"])]),
    ])

    private static let filters: Value = .object([
        "type": "object",
        "description": """
            Mem0 filters on metadata and dates, e.g. {"topic": "food"}, {"rating": {"gte": 4}}, \
            {"AND": [{"topic": "food"}, {"created_at": {"gte": "2026-01-01"}}]}; they narrow within this server's scope
            """,
    ])

    private static func string(_ description: String) -> Value { .object(["type": "string", "description": .string(description)]) }
    private static func object(_ description: String) -> Value { .object(["type": "object", "description": .string(description)]) }

    private static func tool(_ name: String, _ description: String, _ properties: [String: Value], required: [String]) -> Tool {
        Tool(name: name, description: description,
             inputSchema: .object(["type": "object", "properties": .object(properties), "required": .array(required.map { .string($0) })]))
    }
}
