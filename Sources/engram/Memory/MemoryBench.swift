import EngramSupport
import ArgumentParser
import EngramEmbedding
import EngramIndex
import EngramMemory
import Foundation

/// The memory layer's benchmark: a synthetic but realistic store (real MiniLM vectors reused with
/// noise, Zipf-sized tenants, three metadata fields), timed through the public API.
struct MemoryBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark adds, scoped filtered search (p50/p99, recall vs exact) and reopen on a synthetic store.")

    @Option(help: "Base vectors reused (with noise) as memory embeddings.") var base = "data/minilm-debian-20k/base.fvecs"
    @Option(help: "Memories.") var memories = 200_000
    @Option(help: "Tenants (user ids), Zipf-distributed sizes.") var tenants = 2_000
    @Option(help: "Searches timed.") var searches = 1_000
    @Option(help: "Memories per add transaction.") var batch = 1_000
    @Option(help: "Store directory (default: a new temporary one); with --database, the node's index files.") var store: String?
    @Option(help: "PostgreSQL record (postgres://user@host:port/database): the store's record lives there instead of SQLite in the store directory.")
    var database: String?
    @Option(help: "Single adds timed after the batch adds (one memory per transaction).") var singleAdds = 1_000
    @Flag(help: "JSON lines.") var json = false
    @Option(help: "Search mode timed: vector (with recall against exact), keyword or hybrid.") var mode: SearchMode = .vector
    @Option(help: "JSON lines with a \"text\" each: memory texts (cycled; each gets its memory number appended). Default: \"memory N\".")
    var texts: String?
    @Option(help: "JSON lines with a \"text\" each: query texts for keyword and hybrid searches.")
    var queryTexts = "data/debian-known-item/queries.jsonl"
    @Flag(help: "Only time opening the existing --store (e.g. under a profiler).") var openOnly = false
    @Flag(help: "Searches ask what was valid at the moment they run (as_of now) instead of what is current: every candidate's validity is checked.") var asOf = false
    @Option(help: "Searches weigh scores by recency with this half-life in days.") var recencyHalfLifeDays: Double?
    @Option(help: "Agents: memory i also gets agent_id agent(i mod N), and agent-wide and 5-user searches are timed too (0: none).") var agents = 0
    @Flag(help: "Record the native MiniLM embedder as the store's (the base vectors are MiniLM embeddings), so that `engram serve` can open the --store afterwards.")
    var nativeIdentity = false

    func validate() throws {
        if let days = recencyHalfLifeDays, Duration.halfLife(days: days) == nil { throw ValidationError("--recency-half-life-days must be > 0") }
    }

    func run() async throws {
        let vectors = try VectorFile.readVectors(base)
        let dimension = vectors.dimension
        let dir = store ?? NSTemporaryDirectory() + "engram-membench-\(UUID().uuidString)"
        defer { if store == nil { try? FileManager.default.removeItem(atPath: dir) } }  // a store of its own is ~1 GB at 200k
        let embedder: any Embedder = nativeIdentity ? try MiniLMEmbedder(directory: nil) : FixedEmbedder(dimension: dimension)
        let location = try database.map { try PostgresLocation(url: $0) }
        if openOnly {
            let open = ContinuousClock.now
            // When each stage ended, for the seconds each took.
            let ends = Locked<[(OpenProgress.Stage, ContinuousClock.Instant)]>([])
            let s = try MemoryStore(directory: dir, embedder: embedder, database: location) { progress in
                ends.withLock { ends in
                    if ends.last?.0 == progress.stage { ends.removeLast() }
                    ends.append((progress.stage, .now))
                }
            }
            let seconds = (ContinuousClock.now - open).seconds
            var fields: [(String, JSONValue)] = [("measure", .string("open")), ("memories", .int(s.count)), ("seconds", .number(seconds)),
                                                 ("record", .string(location == nil ? "sqlite" : "postgres"))]
            var from = open
            for (stage, end) in ends.withLock({ $0 }) {
                fields.append((stage.rawValue.replacingOccurrences(of: " ", with: "_") + "_seconds", .number((end - from).seconds)))
                from = end
            }
            if let read = ends.withLock({ $0.first { $0.0 == .readingMemories } }) {
                fields.append(("memories_read_per_second", .number((Double(s.count) / (read.1 - open).seconds).rounded())))
            }
            report(fields)
            try await s.close()
            return
        }
        let record = location == nil ? "sqlite" : "postgres"
        var rng = SplitMix64(seed: 7)
        let tenantOf = Self.zipfTenants(count: memories, tenants: tenants, rng: &rng)
        let textPool = try texts.map { try MemoryEval.lines($0).map { try $0.text("text") } } ?? []
        let queryPool = mode == .vector ? [] : try MemoryEval.lines(queryTexts).map { try $0.text("text") }
        var s: MemoryStore? = try MemoryStore(directory: dir, embedder: embedder, database: location)
        var rowVectors: [[Float]] = []
        rowVectors.reserveCapacity(memories)
        let start = ContinuousClock.now
        for chunk in stride(from: 0, to: memories, by: batch) {
            let range = chunk..<min(memories, chunk + batch)
            let items = range.map { i in
                NewMemory(text: textPool.isEmpty ? "memory \(i)" : textPool[i % textPool.count] + " \(i)",
                          scope: MemoryScope(userID: "user\(tenantOf[i])", agentID: agents > 0 ? "agent\(i % agents)" : nil),
                          metadata: ["category": .string(["work", "home", "health", "food", "travel"][i % 5]),
                                     "priority": .number(Double(i % 10)), "pinned": .bool(i % 7 == 0)])
            }
            let vs = range.map { i in Self.noisy(Array(vectors[i % vectors.count]), rng: &rng) }
            rowVectors += vs
            try await s!.add(items, vectors: vs)
        }
        let addSeconds = (ContinuousClock.now - start).seconds
        report([("measure", .string("add")), ("memories", .int(memories)), ("batch", .int(batch)),
                ("memories_per_second", .number((Double(memories) / addSeconds).rounded())), ("record", .string(record))])
        if singleAdds > 0 {
            let single = ContinuousClock.now
            for i in 0..<singleAdds {
                let item = NewMemory(text: "single \(i)", scope: MemoryScope(userID: "user\(tenantOf[i % memories])"))
                try await s!.add([item], vectors: [Self.noisy(Array(vectors[i % vectors.count]), rng: &rng)])
            }
            let seconds = (ContinuousClock.now - single).seconds
            report([("measure", .string("add_single")), ("memories", .int(singleAdds)), ("batch", .int(1)),
                    ("memories_per_second", .number((Double(singleAdds) / seconds).rounded())), ("record", .string(record))])
        }

        // Scoped search: a tenant (drawn like the traffic, so big tenants come often) + one metadata condition.
        var latencies: [Double] = [], recall = 0.0
        for q in 0..<searches {
            let tenant = tenantOf[Int.random(in: 0..<memories, using: &rng)]
            let filter = MemoryFilter.eq("user_id", .string("user\(tenant)")) && .eq("category", .string(["work", "home", "health", "food", "travel"][q % 5]))
            let query = Self.noisy(Array(vectors[Int.random(in: 0..<vectors.count, using: &rng)]), rng: &rng)
            let t = ContinuousClock.now
            let hits = try s!.search(queryPool.isEmpty ? "" : queryPool[q % queryPool.count], vector: query,
                                     scope: MemoryScope(userID: "user\(tenant)"), filter: filter, limit: 10, mode: mode,
                                     validity: asOf ? .asOf(Date()) : .current,
                                     recencyHalfLife: recencyHalfLifeDays.flatMap(Duration.halfLife(days:)))
            latencies.append((ContinuousClock.now - t).seconds * 1e3)
            guard mode == .vector else { continue }
            let exact = try s!.list(scope: MemoryScope(userID: "user\(tenant)"), filter: filter, limit: 1_000_000).memories
                .map { m -> (UUID, Float) in (m.id, zip(query, rowVectors[Int(m.text.split(separator: " ").last!)!]).reduce(0) { $0 + $1.0 * $1.1 }) }
                .sorted { $0.1 > $1.1 }.prefix(10).map(\.0)
            recall += exact.isEmpty ? 1 : Double(Set(exact).intersection(hits.map(\.memory.id)).count) / Double(exact.count)
        }
        latencies.sort()
        report([("measure", .string("scoped_search")), ("mode", .string(mode.rawValue)), ("memories", .int(memories)), ("tenants", .int(tenants)),
                ("as_of", .bool(asOf)), ("recency_half_life_days", recencyHalfLifeDays.map(JSONValue.number) ?? .string(nil)),
                ("p50_ms", .number(latencies[latencies.count / 2])), ("p99_ms", .number(latencies[latencies.count * 99 / 100])),
                ("recall_at_10", mode == .vector ? .number(recall / Double(searches)) : .string(nil)), ("record", .string(record))])

        if agents > 0 { try timeWideSearches(s!, vectors: vectors, tenantOf: tenantOf, rng: &rng) }

        let checkpoint = ContinuousClock.now
        try await s!.checkpoint()
        report([("measure", .string("checkpoint")), ("memories", .int(memories)), ("seconds", .number((ContinuousClock.now - checkpoint).seconds))])
        s = nil
        let open = ContinuousClock.now
        s = try MemoryStore(directory: dir, embedder: embedder, database: location)
        report([("measure", .string("open")), ("memories", .int(memories)), ("seconds", .number((ContinuousClock.now - open).seconds))])

        // A server's life after that open: a few adds to one small tenant, then a checkpoint, which
        // rewrites the view, writes the 100 new vectors as the flat tail and lists every graph and
        // the flat base as they were.
        let few = (0..<100).map { i in NewMemory(text: "later \(i)", scope: MemoryScope(userID: "user\(tenants - 1)")) }
        try await s!.add(few, vectors: few.indices.map { Self.noisy(Array(vectors[$0 % vectors.count]), rng: &rng) })
        let incremental = ContinuousClock.now
        try await s!.checkpoint()
        report([("measure", .string("checkpoint_after_100_adds")), ("memories", .int(memories)),
                ("seconds", .number((ContinuousClock.now - incremental).seconds))])
        // Deletes must leave the files at the next checkpoint: it writes the view whole (its base
        // holds the deleted memories), zeroes their vectors in the flat base and saves the changed graphs.
        let doomed = try s!.list(scope: MemoryScope(userID: "user0"), limit: 10).memories.map(\.id)
        try await s!.delete(doomed)
        let erasing = ContinuousClock.now
        try await s!.checkpoint()
        report([("measure", .string("checkpoint_after_10_deletes")), ("memories", .int(memories)),
                ("seconds", .number((ContinuousClock.now - erasing).seconds))])
        try writerWait(s!, vectors: vectors, tenant: tenants - 1, rng: &rng)
    }

    /// Searches wider than a tenant: one agent across every user it has memories with, and five
    /// users at once (ranked on one scale), with one metadata condition, as the scoped ones.
    private func timeWideSearches(_ s: MemoryStore, vectors: VectorMatrix, tenantOf: [Int], rng: inout SplitMix64) throws {
        for kind in ["agent_wide", "five_users"] {
            var latencies: [Double] = []
            for q in 0..<max(1, searches / 4) {
                let scopes = kind == "agent_wide" ? [MemoryScope(agentID: "agent\(q % agents)")]
                    : (0..<5).map { _ in MemoryScope(userID: "user\(tenantOf[Int.random(in: 0..<memories, using: &rng)])") }
                let filter = MemoryFilter.eq("category", .string(["work", "home", "health", "food", "travel"][q % 5]))
                let query = Self.noisy(Array(vectors[Int.random(in: 0..<vectors.count, using: &rng)]), rng: &rng)
                let t = ContinuousClock.now
                _ = try s.search("", vector: query, scopes: scopes, filter: filter, limit: 10, mode: .vector)
                latencies.append((ContinuousClock.now - t).seconds * 1e3)
            }
            latencies.sort()
            report([("measure", .string(kind + "_search")), ("memories", .int(memories)), ("tenants", .int(tenants)), ("agents", .int(agents)),
                    ("p50_ms", .number(latencies[latencies.count / 2])), ("p99_ms", .number(latencies[latencies.count * 99 / 100]))])
        }
    }

    /// How long a writer waits for a checkpoint: single adds one after another, first alone, then
    /// while another thread checkpoints the 100 of them.
    private func writerWait(_ s: MemoryStore, vectors: VectorMatrix, tenant: Int, rng: inout SplitMix64) throws {
        var added = 0
        func add() throws -> Double {
            added += 1
            let item = NewMemory(text: "during \(added)", scope: MemoryScope(userID: "user\(tenant)"))
            let vector = Self.noisy(Array(vectors[added % vectors.count]), rng: &rng)
            let start = ContinuousClock.now
            try s.add([item], vectors: [vector])
            return (ContinuousClock.now - start).seconds * 1e3
        }
        let alone = try (0..<100).map { _ in try add() }
        let outcome = ResultSlots<Double>(1)
        let running = DispatchGroup()
        DispatchQueue.global().async(group: running) {
            let start = ContinuousClock.now
            outcome.set(0, Result { try s.checkpoint(); return (ContinuousClock.now - start).seconds })
        }
        var during: [Double] = []
        repeat { during.append(try add()) } while running.wait(timeout: .now()) == .timedOut
        report([("measure", .string("adds_during_checkpoint")), ("memories", .int(s.count)),
                ("checkpoint_seconds", .number(try outcome.values()[0])), ("adds", .int(during.count)),
                ("median_add_ms", .number(Self.percentile(50, during))), ("p99_add_ms", .number(Self.percentile(99, during))),
                ("max_add_ms", .number(during.max()!)), ("median_add_ms_alone", .number(Self.percentile(50, alone))),
                ("p99_add_ms_alone", .number(Self.percentile(99, alone))), ("max_add_ms_alone", .number(alone.max()!))])
    }

    private static func percentile(_ p: Int, _ values: [Double]) -> Double { values.sorted()[values.count * p / 100] }

    private func report(_ fields: [(String, JSONValue)]) {
        print(json ? JSONValue.object(fields).text : fields.map { "\($0.0)=\($0.1.plain)" }.joined(separator: " "))
    }

    /// Tenant of each memory: tenant t gets weight 1/(t+1) (Zipf, s = 1).
    static func zipfTenants(count: Int, tenants: Int, rng: inout SplitMix64) -> [Int] {
        let weights = (0..<tenants).map { 1 / Double($0 + 1) }
        let total = weights.reduce(0, +)
        var cumulative: [Double] = []
        var sum = 0.0
        for w in weights { sum += w / total; cumulative.append(sum) }
        return (0..<count).map { _ in
            let u = Double.random(in: 0..<1, using: &rng)
            var lo = 0, hi = tenants - 1
            while lo < hi { let mid = (lo + hi) / 2; if cumulative[mid] < u { lo = mid + 1 } else { hi = mid } }
            return lo
        }
    }

    /// A unit vector near `v` (Gaussian noise of 0.05 per component, renormalized).
    static func noisy(_ v: [Float], rng: inout SplitMix64) -> [Float] {
        let x = v.map { $0 + Float.random(in: -0.087...0.087, using: &rng) }
        let n = x.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return x.map { $0 / n }
    }
}

/// Stands in for a real embedder when vectors are given directly (never called for text).
struct FixedEmbedder: Embedder {
    let dimension: Int
    var modelName: String { "precomputed" }
    func embed(_ texts: [String]) async throws -> [[Float]] {
        throw ValidationError("the benchmark store takes precomputed vectors only")
    }
}
