import ArgumentParser
import EngramIndex

@main
struct Engram: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engram",
        abstract: "Engram: an embedding vector index engine with a memory layer for AI agents.",
        subcommands: [InfoCommand.self, EmbedCommand.self, BenchEmbedCommand.self, BuildCommand.self, SearchCommand.self, InspectCommand.self, VerifyCommand.self, BenchCommand.self, PlotCommand.self, SGEMMProbe.self]
    )

    static func main() {
        BLASSetup.ensureFastKernels()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}
