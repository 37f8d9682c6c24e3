import EngramSupport
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
    @Option(name: .customLong("index-file"), help: "Benchmark a saved index instead (opened as users open it).") var indexFile: String?
    @Option(help: "Query vectors (.fvecs or .npy).") var queries: String?
    @Option(help: "Ground-truth neighbour ids (.ivecs), best first; computed exactly when omitted.") var groundtruth: String?
    @Option(help: "Instead of files: N random Gaussian base vectors (and 100 queries), for scale tests.") var synthetic: Int?
    @Option(help: "Dimension of --synthetic vectors.") var dim = 384
    @Option(help: "Index kind: flat or hnsw.") var index: IndexKind = .flat
    @Option(help: "Metric: cosine, ip or l2.") var metric: Metric = .cosine
    @Option(help: "Neighbours per query.") var k = 10
    @Option(help: "Threads: HNSW build threads and --batch workers.") var threads = 1
    @Option(name: .customLong("query-threads"), help: "Threads issuing single queries concurrently (default 1, as ann-benchmarks).") var queryThreads = 1
    @Flag(help: "Time all queries in one batch call.") var batch = false
    @Flag(help: "One JSON object per line.") var json = false
    @Option(help: "Timed passes over the queries; the fastest is reported.") var runs = 1
    @Option(help: "HNSW: links per node (level 0 keeps 2·m).") var m = 16
    @Option(name: .customLong("ef-construction"), help: "HNSW: candidate list size while building.") var efConstruction = 200
    @Option(help: "HNSW: comma-separated search breadths; one result line per ef.") var ef = "16,32,64,128"
    @Option(help: "HNSW: what queries walk the graph on: auto, f32, f16 or int8.") var traversal: Traversal = .auto
    @Flag(name: .customLong("warm-up"), help: "With --index-file: call HNSWIndex.warmUp (map every searched page, run one search) before the first query.") var warmUp = false
    @Option(help: "Filtered benchmark: JSONL lines {name, allowed, queries: [{query, topk}]}.") var filtered: String?

    func validate() throws {
        guard k > 0 else { throw ValidationError("--k must be positive") }
        guard threads > 0 else { throw ValidationError("--threads must be positive") }
        guard runs > 0 else { throw ValidationError("--runs must be positive") }
        guard queryThreads > 0 else { throw ValidationError("--query-threads must be positive") }
        guard !efValues.isEmpty, efValues.allSatisfy({ $0 > 0 }) else { throw ValidationError("--ef must be a comma list of positive integers") }
    }

    func run() throws {
        if let indexFile { return try runSaved(indexFile) }
        let (baseVectors, queryVectors) = try loadVectors()
        let truth = try loadTruth(base: baseVectors, queries: queryVectors)

        let built = try Progress.timed("building \(index.rawValue) index over \(baseVectors.count) vectors") {
            try IndexBuilder.build(index, baseVectors, metric: metric, m: m, efConstruction: efConstruction, threads: threads, traversal: traversal)
        }
        if let filtered {
            try runFiltered(built.value, base: baseVectors, queries: queryVectors, file: filtered, buildSeconds: built.seconds)
            return
        }
        try sweep(built.value, n: baseVectors.count, queries: queryVectors, truth: truth, buildSeconds: built.seconds)
    }

    /// One result line per ef (one line for flat).
    private func sweep(_ built: any VectorIndex, n: Int, queries: VectorMatrix, truth: [[Int32]], buildSeconds: Double,
                       extra: [(String, JSONValue)] = []) throws {
        for ef in efs(for: built) {
            let measurement = try measure(
                queries, truth: truth,
                batched: { try built.search(batch: queries, k: k, ef: nil, threads: threads) },
                single: { try built.search($0, k: k, ef: ef, filter: nil) })
            var row = BenchRow(
                index: (built.kind == .flat ? "flat" : "hnsw"), metric: metric, n: n, dim: queries.dimension, k: k,
                ef: ef, threads: threads, batch: batch, buildSeconds: buildSeconds,
                recall: measurement.recall, qps: measurement.qps)
            row.extra = extra
            if built.kind == .flat {
                let figures = Throughput.flatFigures(n: row.n, dim: row.dim, qps: row.qps, batch: batch, threads: batch ? threads : queryThreads)
                row.extra += figures.keys.sorted().map { ($0, JSONValue.number(figures[$0])) }
            }
            report(row)
        }
    }

    /// Benchmarks a saved index: open time, first query after open against a warm one, then the sweep.
    private func runSaved(_ path: String) throws {
        guard let queries, let groundtruth else { throw ValidationError("--index-file needs --queries and --groundtruth") }
        let queryVectors = try VectorFile.readVectors(queries)
        let truth = try VectorFile.readIvecs(groundtruth)
        guard truth.count >= queryVectors.count, truth.allSatisfy({ $0.count >= k }) else {
            throw ValidationError("ground truth must have a row of at least k ids per query")
        }
        let opened = try Progress.timed("opened \(path)") { try IndexFile.open(path) }
        let warming = Progress.timed("warmed up") { if warmUp, let index = opened.value as? HNSWIndex { index.warmUp() } }
        let query = Array(queryVectors[0])
        let first = try PageFaults.counting {
            try Progress.timed("first query") { try opened.value.search(query, k: k, ef: efValues.first, filter: nil) }
        }
        let warm = try Progress.timed("warm query") { try opened.value.search(query, k: k, ef: efValues.first, filter: nil) }
        // The same query repeated finds every byte it reads in the CPU caches; a typical warm query
        // is a different one, so the mean of one pass over all queries is reported too.
        let pass = try Progress.timed("warm pass") {
            for i in 0..<queryVectors.count { _ = try opened.value.search(Array(queryVectors[i]), k: k, ef: efValues.first, filter: nil) }
        }
        try sweep(opened.value, n: opened.value.count, queries: queryVectors, truth: truth, buildSeconds: 0, extra: [
            ("open_seconds", .number(opened.seconds)),
            ("first_query_ms", .number(first.value.seconds * 1e3)), ("warm_query_ms", .number(warm.seconds * 1e3)),
            ("warm_mean_query_ms", .number(pass.seconds * 1e3 / Double(queryVectors.count))),
            ("warm_up_seconds", .number(warmUp ? warming.seconds : nil)),
            ("first_query_minor_faults", .int(first.faults.minor)), ("first_query_major_faults", .int(first.faults.major)),
        ])
    }

    private func efs(for index: any VectorIndex) -> [Int?] { index.kind == .flat ? [nil] : efValues }

    private var efValues: [Int] { ef.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    /// For each filter line and each ef: recall of the allowed-only top-k and queries/second.
    private func runFiltered(_ built: any VectorIndex, base: VectorMatrix, queries: VectorMatrix, file: String, buildSeconds: Double) throws {
        let efs = efs(for: built)
        for spec in try FilterSpec.read(file) {
            let filter = built.filter(allowing: spec.allowed)
            let subset = try VectorMatrix(dimension: queries.dimension, rows: spec.queries.map { Array(queries[$0.query]) })
            let truth = spec.queries.map { $0.topk.map(Int32.init) }
            for ef in efs {
                let measurement = try measure(
                    subset, truth: truth, recallAgainstTruthCount: true, batched: nil,
                    single: { try built.search($0, k: k, ef: ef, filter: filter) })
                var row = BenchRow(
                    index: index.rawValue, metric: metric, n: base.count, dim: base.dimension, k: k, ef: ef,
                    threads: threads, batch: false, buildSeconds: buildSeconds, recall: measurement.recall, qps: measurement.qps)
                row.extra = [("filter", .string(spec.name)), ("selectivity", .number(Double(spec.allowed.count) / Double(base.count))),
                             ("plan", .string(IndexBuilder.plan(built, for: filter, ef: ef)))]
                report(row)
            }
        }
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

    /// Times the queries, one call each on `--query-threads` threads (or the `batched` call with
    /// `--batch`), and computes recall against `truth`. Query rows are copied out before timing.
    private func measure(
        _ queries: VectorMatrix, truth: [[Int32]], recallAgainstTruthCount: Bool = false,
        batched: (() throws -> [[SearchResult]])?,
        single: @escaping @Sendable ([Float]) throws -> [SearchResult]
    ) throws -> (recall: Double, qps: Double) {
        var results: [[SearchResult]] = []
        var best = Double.infinity
        let rows = (0..<queries.count).map { Array(queries[$0]) }
        // One untimed pass warms caches and page tables.
        for pass in 0...runs {
            let start = ContinuousClock.now
            if batch, let batched {
                results = try batched()
            } else {
                results = try concurrentQueries(rows.count) { try single(rows[$0]) }
            }
            if pass > 0 { best = min(best, (ContinuousClock.now - start).seconds) }
        }
        let recall = recallAgainstTruthCount ? Recall.meanOverTruth(results, truth: truth) : Recall.mean(results, truth: truth, k: k)
        return (recall, Double(queries.count) / best)
    }

    /// Runs `search(i)` for every query, one at a time per thread, on `--query-threads` threads.
    private func concurrentQueries(_ n: Int, _ search: @escaping @Sendable (Int) throws -> [SearchResult]) throws -> [[SearchResult]] {
        let results = ResultSlots<[SearchResult]>(n)
        DispatchQueue.concurrentPerform(iterations: queryThreads) { t in
            for i in stride(from: t, to: n, by: queryThreads) { results.set(i, Result { try search(i) }) }
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
