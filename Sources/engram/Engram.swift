import ArgumentParser
import EngramIndex

@main
struct Engram: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engram",
        abstract: "Engram: an embedding vector index engine with a memory layer for AI agents.",
        subcommands: [InfoCommand.self, EmbedCommand.self, BenchEmbedCommand.self, BuildCommand.self, SearchCommand.self, InspectCommand.self, VerifyCommand.self, BenchCommand.self, PlotCommand.self, MemoryCommand.self, RebuildCommand.self, ServeCommand.self, MCPCommand.self, SGEMMProbe.self]
    )

    static func main() async {
        BLASSetup.ensureFastKernels()
        do {
            // `serve --config FILE`: the file's options go before the command line's, which override them.
            let arguments = try ConfigFile.expand(Array(CommandLine.arguments.dropFirst()), command: "serve", keys: ConfigFile.serve)
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
