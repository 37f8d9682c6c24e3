import EngramSupport
import ArgumentParser
import EngramMemory
import Foundation

/// Rebuilds a memory store's derived vector indexes from its database.
struct RebuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "Rebuild a memory store's vector indexes from its database (the record) and checkpoint them.",
        discussion: "Use after an index file is lost or damaged, or to compact tombstones. Prints {\"memories\": N, \"seconds\": S}.")
    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
        let start = ContinuousClock.now
        let n = try await MemoryStore.rebuild(directory: storeOptions.store, embedder: storeOptions.makeEmbedder(), database: storeOptions.location(),
                                              progress: Progress.OpenDisplay().show)
        print(JSONValue.object([("memories", .int(n)), ("seconds", .number((ContinuousClock.now - start).seconds))]).text)
    }
}
