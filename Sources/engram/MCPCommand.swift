import ArgumentParser
import EngramServer

/// `engram mcp`: the memory store as MCP tools on stdio.
struct MCPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve a memory store's tools to an MCP client over stdio (what desktop agents spawn).",
        discussion: """
            The tools work in the scope given here (--user, --agent, --run): a model cannot name another tenant. \
            Tools: add_memories, search_memories, list_memories, get_memory, update_memory, delete_memory, \
            delete_all_memories (needs "confirm": true). Logs and open progress go to stderr; stdout is the protocol's.
            """)
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var scopeOptions: ScopeOptions

    func validate() throws {
        guard !scopeOptions.scope.isEmpty else { throw ValidationError("name the scope the tools work in: --user, --agent and/or --run") }
    }

    func run() async throws {
        try await storeOptions.withStore { store in
            try await MemoryTools(store: store, scope: scopeOptions.scope).serveOverStdio()
        }
    }
}
