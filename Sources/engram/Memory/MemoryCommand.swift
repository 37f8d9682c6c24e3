import ArgumentParser

struct MemoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory",
        abstract: "Add, search and manage agent memories in a store directory.",
        subcommands: [MemoryAdd.self, MemorySearch.self, MemoryRecall.self, MemoryCountTokens.self, MemoryList.self, MemoryGet.self, MemoryUpdate.self,
                      MemoryDelete.self, MemoryDeleteAll.self, MemoryPurge.self, MemoryVerify.self, MemoryHistory.self, MemoryImport.self, MemoryExport.self, MemoryBench.self, MemoryEval.self])
}
