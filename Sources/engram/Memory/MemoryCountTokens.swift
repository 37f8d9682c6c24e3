import ArgumentParser
import EngramMemory
import Foundation

struct MemoryCountTokens: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "count-tokens",
        abstract: "Print the tokens `recall` charges for each text (one count per line, in order).",
        discussion: "FILE is .jsonl (a `text` field per line) or text (one text per line). Benchmarks/scripts/token_count.py compares the counts with cl100k and o200k.")
    @Option(help: "Input texts (.jsonl or one per line).") var input: String

    func run() throws {
        let counter = EstimatedTokenCounter()
        let texts = try TextInput.read(input)
        var out = ""
        for text in texts { out += "\(counter.count(text))\n" }
        FileHandle.standardOutput.write(Data(out.utf8))
    }
}
