import EngramSupport
import ArgumentParser
import EngramEmbedding
import Foundation

struct BenchEmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-embed",
        abstract: "Measure native embedding throughput (one batch) and single-sentence latency.")

    @Option(help: "Texts (.txt or .jsonl with `text`).") var input: String
    @Option(help: "How many texts to embed in the batch.") var count = 1_000
    @Option(help: "Worker threads.") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Texts timed one at a time for the latency percentiles.") var single = 200
    @Option(help: "Model directory.") var model: String?
    @Flag(help: "One JSON line.") var json = false
    @OptionGroup var precision: PrecisionOption

    func run() throws {
        let texts = Array(try TextInput.read(input).prefix(count))
        let embedder = try MiniLMEmbedder(directory: model, threads: threads, precision: precision.precision)
        _ = embedder.embedSync(Array(texts.prefix(32)))  // warm-up
        let batch = Progress.timed("batch") { embedder.embedSync(texts) }
        var latencies: [Double] = []
        for text in texts.prefix(single) {
            let start = ContinuousClock.now
            _ = embedder.embedSync([text])
            latencies.append((ContinuousClock.now - start).seconds * 1e3)
        }
        latencies.sort()
        func pct(_ p: Double) -> Double { latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(p * Double(latencies.count)))] }
        let tokens = texts.reduce(0) { $0 + embedder.tokenizer.encode($1).count }
        let fields: [(String, JSONValue)] = [
            ("embedder", .string("engram-minilm")), ("precision", .string(precision.precision.rawValue)),
            ("texts", .int(batch.value.count)), ("threads", .int(threads)),
            ("mean_tokens", .number(Double(tokens) / Double(max(texts.count, 1)))),
            ("sentences_per_second", .number((Double(texts.count) / batch.seconds).rounded())),
            ("single_p50_ms", .number(pct(0.5))), ("single_p99_ms", .number(pct(0.99))),
        ]
        print(json ? JSONValue.object(fields).text : fields.map { "\($0.0)=\($0.1.plain)" }.joined(separator: " "))
    }
}
