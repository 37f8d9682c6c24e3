import EngramSupport
import ArgumentParser
import EngramEmbedding
import EngramMemory
import Foundation

/// Known-item retrieval quality of each search mode on real text (data/debian-known-item).
struct MemoryEval: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Import a known-item dataset into a store and measure MRR@10, hit@1, hit@10 and latency of each search mode.",
        discussion: """
            Reads DATA/docs.jsonl ({id, text}) and DATA/queries.jsonl ({text, relevant}); each query has exactly one relevant \
            document. Documents are imported once (reusing --store when it already holds them). Query embeddings are computed \
            first and timed apart; searches then run through the public API with the vector given. Prints one JSON line per mode.
            """)
    @Option(help: "Dataset directory.") var data = "data/debian-known-item"
    @Option(help: "Store directory (default: DATA's name under the temporary directory, reused).") var store: String?
    @Option(help: "Native model directory.") var model: String?
    @OptionGroup var precision: PrecisionOption
    @Option(help: "Modes, comma-separated.") var modes = "vector,keyword,hybrid"
    @Option(help: "Also write each query's vector and keyword top-100 (doc ids and scores) as JSON lines here, for studying fusion.")
    var dumpRankings: String?

    func run() async throws {
        let embedder = try MiniLMEmbedder(directory: model, precision: precision.precision)
        let dir = store ?? NSTemporaryDirectory() + "engram-eval-" + URL(fileURLWithPath: data).lastPathComponent
            + (precision.precision == .float32 ? "" : "-" + precision.precision.rawValue)  // documents embedded alike
        let memoryStore = try MemoryStore(directory: dir, embedder: embedder)
        defer { try? memoryStore.close() }
        let scope = MemoryScope(userID: "eval")
        let docs = try Self.lines(data + "/docs.jsonl")
        if try memoryStore.list(scope: scope, limit: 1).total < docs.count {
            try await Self.importDocs(docs, into: memoryStore, scope: scope)
        }
        let queries = try Self.lines(data + "/queries.jsonl")
        let texts = try queries.map { try $0.text("text") }
        let relevant = try queries.map { try $0.text("relevant") }
        var embedMs: [Double] = []
        var vectors: [[Float]] = []
        for text in texts {
            let t = ContinuousClock.now
            vectors.append(try await embedder.embed([text])[0])
            embedMs.append((ContinuousClock.now - t).seconds * 1e3)
        }
        if let dumpRankings { try Self.dump(texts, vectors, relevant, memoryStore, scope, to: dumpRankings) }
        for name in modes.split(separator: ",") {
            guard let mode = SearchMode(rawValue: String(name)) else { throw ValidationError("unknown mode \(name)") }
            var reciprocal = 0.0, hit1 = 0, hit10 = 0, latencies: [Double] = []
            for (i, text) in texts.enumerated() {
                let t = ContinuousClock.now
                let hits = try memoryStore.search(text, vector: vectors[i], scope: scope, limit: 10, mode: mode)
                latencies.append((ContinuousClock.now - t).seconds * 1e3)
                if let rank = hits.firstIndex(where: { $0.memory.metadata["doc_id"] == .string(relevant[i]) }) {
                    reciprocal += 1 / Double(rank + 1)
                    hit10 += 1
                    if rank == 0 { hit1 += 1 }
                }
            }
            let n = Double(texts.count)
            print(JSONValue.object([
                ("mode", .string(mode.rawValue)), ("docs", .int(docs.count)), ("queries", .int(texts.count)),
                ("mrr@10", .number((reciprocal / n * 1e4).rounded() / 1e4)), ("hit@1", .number((Double(hit1) / n * 1e4).rounded() / 1e4)),
                ("hit@10", .number((Double(hit10) / n * 1e4).rounded() / 1e4)),
                ("search_p50_ms", .number(Self.percentile(latencies, 0.5))), ("search_p99_ms", .number(Self.percentile(latencies, 0.99))),
                ("embed_p50_ms", .number(Self.percentile(embedMs, 0.5))),
            ]).text)
        }
    }

    static func importDocs(_ docs: [JSONLine], into store: MemoryStore, scope: MemoryScope) async throws {
        let bar = Progress.Bar("embedding documents", total: docs.count)
        for chunk in stride(from: 0, to: docs.count, by: 256) {
            let batch = docs[chunk..<min(docs.count, chunk + 256)]
            // Each document in its own run: documents with the same text stay distinct memories
            // (in one scope they would be deduplicated), as they are distinct in the ground truth.
            let items = try batch.map { doc in
                let id = try doc.text("id")
                return NewMemory(text: try doc.text("text"), scope: MemoryScope(userID: scope.userID, runID: id), metadata: ["doc_id": .string(id)])
            }
            try await store.add(items, vectors: try await store.embedder.embed(items.map(\.text)))
            bar.update(chunk + batch.count)
        }
    }

    static func dump(_ texts: [String], _ vectors: [[Float]], _ relevant: [String], _ store: MemoryStore, _ scope: MemoryScope,
                     to path: String) throws {
        var out = ""
        for (i, text) in texts.enumerated() {
            let ranked = try [SearchMode.vector, .keyword].map { mode in
                try store.search(text, vector: vectors[i], scope: scope, limit: 100, mode: mode).map { hit -> JSONValue in
                    .array([.string(hit.memory.metadata["doc_id"].map { "\($0)" }), .number(Double(hit.score))])
                }
            }
            out += JSONValue.object([("relevant", .string(relevant[i])), ("vector", .array(ranked[0])), ("keyword", .array(ranked[1]))]).text + "\n"
        }
        try out.write(toFile: path, atomically: true, encoding: .utf8)
    }

    static func lines(_ path: String) throws -> [JSONLine] { try JSONLine.read(path) }

    static func percentile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        return ((sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]) * 1e3).rounded() / 1e3
    }
}
