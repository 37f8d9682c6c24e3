// swift-tools-version: 6.1
// Microbenchmarks of Engram's kernels with ordo-one/package-benchmark. A nested package, so that
// library users never resolve benchmark-only dependencies. Run: `cd Benchmarks && swift package benchmark`.
import PackageDescription

let package = Package(
    name: "EngramBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Engram", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "Kernels",
            dependencies: [
                .product(name: "EngramIndex", package: "Engram"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/Kernels",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
