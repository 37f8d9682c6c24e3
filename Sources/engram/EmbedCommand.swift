import EngramSupport
import ArgumentParser
import EngramEmbedding
import EngramIndex
import Foundation

struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Embed texts with the native MiniLM model (offline).",
        discussion: "FILE is .txt (one text per line) or .jsonl (a `text` field per line). Output is in input order.")

    @Option(help: "Input texts (.txt or .jsonl).") var input: String
    @Option(help: "Model directory (default: $ENGRAM_MODEL_DIR, then ~/.cache/engram/models/all-MiniLM-L6-v2, then PREFIX/share/engram/models next to an installed binary).") var model: String?
    @Option(help: "Write embeddings as .fvecs.") var output: String?
    @Flag(help: "One JSON line per input: {\"embedding\": [...]}.") var json = false
    @Option(help: "Worker threads.") var threads = ProcessInfo.processInfo.activeProcessorCount
    @OptionGroup var precision: PrecisionOption

    func validate() throws {
        guard (output != nil) != json else { throw ValidationError("give exactly one of --output FILE and --json") }
        guard threads > 0 else { throw ValidationError("--threads must be positive") }
    }

    func run() throws {
        let texts = try TextInput.read(input)
        let embedder = try MiniLMEmbedder(directory: model, threads: threads, precision: precision.precision)
        let bar = Progress.Bar("embedding", total: texts.count)
        var vectors: [[Float]] = []
        vectors.reserveCapacity(texts.count)
        // Chunks keep memory bounded and let the bar move; each chunk still uses every thread.
        for start in stride(from: 0, to: texts.count, by: 4_096) {
            vectors += embedder.embedSync(Array(texts[start..<min(texts.count, start + 4_096)]))
            if texts.count > 4_096 { bar.update(vectors.count) }
        }
        if let output {
            try VectorFile.writeFvecs(try VectorMatrix(dimension: embedder.dimension, rows: vectors), to: output)
            Progress.log("wrote \(vectors.count) embeddings to \(output)")
        } else {
            for v in vectors { print(JSONValue.object([("embedding", .array(v.map { .number(Double($0)) }))]).text) }
        }
    }
}
