// Allocation counts of the search paths, checked by CI against Benchmarks/Thresholds (swift-nio's
// pattern): time is noise on shared machines, the number of mallocs a query makes is not.
//
//     swift package benchmark --target SearchAllocations                  # run, print the table
//     swift package benchmark thresholds check --target SearchAllocations --path Benchmarks/Thresholds  # CI
//     swift package --allow-writing-to-package-directory benchmark thresholds update --target SearchAllocations --path Benchmarks/Thresholds
// Names without spaces: the thresholds check reads files by name as written (1.38 writes spaces as _).
import Benchmark
import EngramEmbedding
import EngramIndex
import EngramMemory
import EngramSupport
import Foundation

/// Unit vectors from a seeded generator (the same on every machine).
func unitVectors(_ n: Int, dimension: Int, seed: UInt64) -> [[Float]] {
    var rng = SplitMix64(seed: seed)
    return (0..<n).map { _ in
        let v = (0..<dimension).map { _ in Float.random(in: -1...1, using: &rng) }
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return v.map { $0 / norm }
    }
}

/// The store's embedder is never asked: every memory and query comes with its vector.
struct GivenVectors: Embedder {
    let dimension: Int
    var modelName: String { "given" }
    func embed(_ texts: [String]) async throws -> [[Float]] { throw EmbeddingError.invalidConfiguration("vectors are given") }
}

let benchmarks: @Sendable () -> Void = {
    // Counted per query after warm-up (time is measured by `engram bench`, not here).
    let configuration = Benchmark.Configuration(
        metrics: [.mallocCountTotal], warmupIterations: 20, scalingFactor: .one,
        maxDuration: .seconds(2), maxIterations: 2_000,
        thresholds: [.mallocCountTotal: .init(absolute: [.p90: 0])])
    let dimension = 64
    let base = unitVectors(5_000, dimension: dimension, seed: 1), queries = unitVectors(64, dimension: dimension, seed: 2)

    let flat = try! FlatIndex(dimension: dimension, metric: .cosine)
    try! flat.add(VectorMatrix(dimension: dimension, rows: base), ids: (0..<UInt64(base.count)).map { $0 })
    Benchmark("FlatOneQuery", configuration: configuration) { benchmark in
        for i in benchmark.scaledIterations { blackHole(try flat.search(queries[i % queries.count], k: 10)) }
    }

    let hnsw = try! HNSWIndex(dimension: dimension, metric: .cosine)
    try! hnsw.add(VectorMatrix(dimension: dimension, rows: base), ids: (0..<UInt64(base.count)).map { $0 })
    Benchmark("HNSWOneQuery", configuration: configuration) { benchmark in
        for i in benchmark.scaledIterations { blackHole(try hnsw.search(queries[i % queries.count], k: 10, ef: 64)) }
    }
    let allowed = hnsw.filter(allowing: stride(from: UInt64(0), to: UInt64(base.count), by: 10))
    Benchmark("HNSWFilteredQuery", configuration: configuration) { benchmark in
        for i in benchmark.scaledIterations { blackHole(try hnsw.search(queries[i % queries.count], k: 10, filter: allowed)) }
    }

    // 5,000 memories of 20 users (250 each: below a partition's graph threshold, an exact scan);
    // a scoped search with one posted metadata condition.
    let directory = NSTemporaryDirectory() + "engram-allocations-\(getpid())"
    let store = try! MemoryStore(directory: directory, embedder: GivenVectors(dimension: dimension))
    let items = base.indices.map { i in
        NewMemory(text: "memory \(i)", scope: MemoryScope(userID: "user\(i % 20)"), metadata: ["topic": .string(["a", "b", "c"][i % 3])])
    }
    _ = try! store.add(items, vectors: base)
    let topic = MemoryFilter.eq("topic", "b")  // the caller's value: built once, as a server's decoded request is
    Benchmark("MemoryScopedSearch", configuration: configuration) { benchmark in
        for i in benchmark.scaledIterations {
            blackHole(try store.search(vector: queries[i % queries.count], scope: MemoryScope(userID: "user\(i % 20)"),
                                       filter: topic, limit: 10))
        }
    }
    Benchmark.teardown = { try? FileManager.default.removeItem(atPath: directory) }
}
