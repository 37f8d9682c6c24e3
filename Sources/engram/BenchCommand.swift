import ArgumentParser
import EngramIndex
import Foundation

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure recall and queries/second of an index against exact ground truth.",
        discussion: """
            Default mode times queries one at a time (as ann-benchmarks does); --batch times all queries \
            in one call. --json prints one JSON object per line per measured configuration.
            """)

    @Option(help: "Base vectors (.fvecs or .npy).") var base: String?
    @Option(help: "Query vectors (.fvecs or .npy).") var queries: String?
    @Option(help: "Ground-truth neighbour ids (.ivecs), best first; computed exactly when omitted.") var groundtruth: String?
    @Option(help: "Instead of files: N random Gaussian base vectors (and 100 queries), for scale tests.") var synthetic: Int?
    @Option(help: "Dimension of --synthetic vectors.") var dim = 384
    @Option(help: "Index kind: flat or hnsw.") var index: IndexKind = .flat
    @Option(help: "Metric: cosine, ip or l2.") var metric: Metric = .cosine
    @Option(help: "Neighbours per query.") var k = 10
    @Option(help: "Threads: batch workers, concurrent query threads, and HNSW build threads.") var threads = 1
    @Flag(help: "Time all queries in one batch call.") var batch = false
    @Flag(help: "One JSON object per line.") var json = false
    @Option(help: "Timed passes over the queries; the fastest is reported.") var runs = 1

    func validate() throws {
        guard k > 0 else { throw ValidationError("--k must be positive") }
        guard threads > 0 else { throw ValidationError("--threads must be positive") }
        guard runs > 0 else { throw ValidationError("--runs must be positive") }
        guard index == .flat else { throw ValidationError("--index hnsw is not available yet") }
    }

    func run() throws {
        let (baseVectors, queryVectors) = try loadVectors()
        let truth = try loadTruth(base: baseVectors, queries: queryVectors)

        let built = try Progress.timed("building \(index.rawValue) index over \(baseVectors.count) vectors") {
            let flat = try FlatIndex(dimension: baseVectors.dimension, metric: metric)
            try flat.add(baseVectors, ids: (0..<UInt64(baseVectors.count)).map { $0 })
            return flat
        }
        let measurement = try measure(built.value, queryVectors, truth: truth)
        var row = BenchRow(
            index: index.rawValue, metric: metric, n: baseVectors.count, dim: baseVectors.dimension, k: k,
            ef: nil, threads: threads, batch: batch, buildSeconds: built.seconds,
            recall: measurement.recall, qps: measurement.qps)
        let figures = Throughput.flatFigures(n: row.n, dim: row.dim, qps: row.qps, batch: batch, threads: threads)
        row.extra = figures.keys.sorted().map { ($0, JSONValue.number(figures[$0])) }
        report(row)
    }

    private func loadVectors() throws -> (VectorMatrix, VectorMatrix) {
        if let synthetic {
            guard synthetic > 0, dim > 0 else { throw ValidationError("--synthetic and --dim must be positive") }
            return (Synthetic.gaussian(count: synthetic, dimension: dim, seed: 1),
                    Synthetic.gaussian(count: 100, dimension: dim, seed: 2))
        }
        guard let base, let queries else { throw ValidationError("--base and --queries are required (or --synthetic N)") }
        return (try VectorFile.readVectors(base), try VectorFile.readVectors(queries))
    }

    /// The ground truth from --groundtruth, or computed exactly with the flat index.
    private func loadTruth(base: VectorMatrix, queries: VectorMatrix) throws -> [[Int32]] {
        guard let groundtruth else {
            let flat = try FlatIndex(dimension: base.dimension, metric: metric)
            try flat.add(base, ids: (0..<UInt64(base.count)).map { $0 })
            return try Progress.timed("computing exact ground truth") {
                try flat.search(batch: queries, k: k, threads: ProcessInfo.processInfo.activeProcessorCount)
            }.value.map { $0.map { Int32($0.id) } }
        }
        let truth = try VectorFile.readIvecs(groundtruth)
        guard truth.count >= queries.count else {
            throw ValidationError("ground truth has \(truth.count) rows for \(queries.count) queries")
        }
        guard truth.allSatisfy({ $0.count >= k }) else { throw ValidationError("ground truth rows are shorter than k = \(k)") }
        return truth
    }

    private func measure(_ flat: FlatIndex, _ queries: VectorMatrix, truth: [[Int32]]) throws -> (recall: Double, qps: Double) {
        var results: [[SearchResult]] = []
        var best = Double.infinity
        // One untimed pass warms caches and page tables.
        for pass in 0...runs {
            let start = ContinuousClock.now
            if batch {
                results = try flat.search(batch: queries, k: k, threads: threads)
            } else {
                results = try concurrentQueries(queries.count) { try flat.search(Array(queries[$0]), k: k) }
            }
            if pass > 0 { best = min(best, (ContinuousClock.now - start).seconds) }
        }
        return (Recall.mean(results, truth: truth, k: k), Double(queries.count) / best)
    }

    /// Runs `search(i)` for every query, one at a time per thread, on `threads` threads.
    private func concurrentQueries(_ n: Int, _ search: @escaping @Sendable (Int) throws -> [SearchResult]) throws -> [[SearchResult]] {
        let results = ResultSlots<[SearchResult]>(n)
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            for i in stride(from: t, to: n, by: threads) { results.set(i, Result { try search(i) }) }
        }
        return try results.values()
    }

    private func report(_ row: BenchRow) {
        if json { print(row.json.text) } else { print(row.table) }
    }
}

enum IndexKind: String, ExpressibleByArgument, CaseIterable {
    case flat, hnsw
}

extension Metric: ExpressibleByArgument {}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
