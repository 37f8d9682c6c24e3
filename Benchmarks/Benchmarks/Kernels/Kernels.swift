import Benchmark
import EngramIndex

/// Distance kernels at every level this CPU supports, and flat search single vs batched.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .throughput, .mallocCountTotal], maxDuration: .seconds(2))

    let dimension = 384
    var rng = SystemRandomNumberGenerator()
    let a = (0..<dimension).map { _ in Float.random(in: -1...1, using: &rng) }
    let b = (0..<dimension).map { _ in Float.random(in: -1...1, using: &rng) }

    for level in DistanceKernels.Level.allCases where level <= .supported {
        let kernels = DistanceKernels(level: level)
        Benchmark("dot 384-d \(level.rawValue)", configuration: .init(scalingFactor: .kilo)) { benchmark in
            for _ in benchmark.scaledIterations { blackHole(try kernels.dotProduct(a, b)) }
        }
        Benchmark("l2 384-d \(level.rawValue)", configuration: .init(scalingFactor: .kilo)) { benchmark in
            for _ in benchmark.scaledIterations { blackHole(try kernels.squaredL2(a, b)) }
        }
    }

    let base = try! VectorMatrix(dimension: dimension, values: (0..<20_000 * dimension).map { _ in Float.random(in: -1...1) })
    let queries = try! VectorMatrix(dimension: dimension, values: (0..<256 * dimension).map { _ in Float.random(in: -1...1) })
    let flat = try! FlatIndex(dimension: dimension, metric: .innerProduct)
    try! flat.add(base, ids: (0..<20_000).map { UInt64($0) })
    Benchmark("flat 20k x 384 one query") { _ in blackHole(try! flat.search(Array(queries[0]), k: 10)) }
    Benchmark("flat 20k x 384 batch of 256") { _ in blackHole(try! flat.search(batch: queries, k: 10)) }
}
