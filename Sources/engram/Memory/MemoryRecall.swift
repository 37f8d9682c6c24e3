import ArgumentParser
import EngramMem0
import EngramMemory
import EngramSupport
import Foundation

struct MemoryRecall: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recall",
        abstract: "The memories that best answer QUERY, as dated lines that fit a token budget (for a prompt).",
        discussion: """
            Prints the context; with --json, {"context", "memories": [item, ...], "tokens"}. Tokens are counted by an estimate \
            that is never below cl100k / o200k on English text (about 2x above them).
            """)
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var scopeOptions: ScopeOptions
    @Option(help: "The most tokens the context may take.") var budgetTokens: Int
    @Option(help: "Filters as Mem0 JSON.") var filters: String?
    @Option(help: "vector, keyword (BM25) or hybrid (both, fused).") var mode: SearchMode = .hybrid
    @Option(help: "Maximal marginal relevance λ in 0...1: 1 ranks by relevance alone, lower values favour variety.") var lambda: Float = 0.7
    @OptionGroup var validityOptions: ValidityOptions
    @Option(help: "Weigh relevance by 2^(-age / half-life), the age of the fact in days (off by default).") var recencyHalfLifeDays: Double?
    @Flag(help: "JSON output.") var json = false
    @Argument(help: "Query text.") var query: String

    func validate() throws {
        guard budgetTokens > 0 else { throw ValidationError("--budget-tokens must be positive") }
        guard (0...1).contains(lambda) else { throw ValidationError("--lambda must lie in 0...1") }
        if let days = recencyHalfLifeDays, Duration.halfLife(days: days) == nil { throw ValidationError("--recency-half-life-days must be > 0") }
    }

    func run() async throws {
        try await storeOptions.withStore { store in
            let filter = try MemoryJSON.filter(filters)
            var options = RecallOptions(validity: try validityOptions.validity(),
                                        recencyHalfLife: recencyHalfLifeDays.flatMap(Duration.halfLife(days:)), mode: mode)
            options.lambda = lambda
            let recall = try await store.recall(query, scope: scopeOptions.scope.merging(MemoryScope(pinnedBy: filter)), filter: filter,
                                                budgetTokens: budgetTokens, options: options)
            if json {
                print(JSONValue.object([("context", .string(recall.context)), ("memories", .array(recall.memories.map { Mem0JSON.item($0) })),
                                        ("tokens", .int(recall.tokens))]).text)
            } else {
                print(recall.context)
            }
        }
    }
}
