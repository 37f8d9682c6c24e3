// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Engram",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "EngramIndex", targets: ["EngramIndex"]),
        .library(name: "EngramEmbedding", targets: ["EngramEmbedding"]),
        .library(name: "EngramMemory", targets: ["EngramMemory"]),
        .library(name: "EngramServer", targets: ["EngramServer"]),
        .executable(name: "engram", targets: ["engram"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk", from: "0.12.1"),
        // `swift package generate-documentation --target EngramIndex` (or EngramMemory) builds the DocC catalogs.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        // Allocation counts of the search paths (Benchmarks/SearchAllocations), checked by CI.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // MARK: - System and C shims

        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "blas",
            providers: [.apt(["libblas-dev", "liblapack-dev", "libopenblas0-pthread"])]
        ),
        .target(name: "CEngramSupport"),
        .target(
            name: "CEngramKernels",
            linkerSettings: [.linkedLibrary("blas"), .linkedLibrary("dl"), .linkedLibrary("m")]
        ),

        // MARK: - Libraries

        // Parallel loops, locks, mapped files, atomic file writes, hashing: what every library needs.
        .target(name: "EngramSupport", dependencies: ["CEngramSupport"]),

        .target(
            name: "EngramIndex",
            dependencies: ["EngramSupport", "CBLAS", "CEngramKernels"]
        ),

        .target(
            name: "EngramEmbedding",
            dependencies: ["EngramSupport", "CBLAS", "CEngramKernels"]
        ),

        .target(
            name: "EngramMemory",
            dependencies: [
                "EngramSupport", "EngramIndex", "EngramEmbedding",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "HashTreeCollections", package: "swift-collections"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),

        // Mem0's JSON shapes and request fields, shared by the server and the CLI.
        .target(name: "EngramMem0", dependencies: ["EngramSupport", "EngramMemory"]),

        .target(
            name: "EngramServer",
            dependencies: [
                "EngramSupport",
                "EngramEmbedding",
                "EngramMem0",
                "EngramMemory",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "MCP", package: "swift-sdk"),
            ]
        ),

        // MARK: - Command line

        .executableTarget(
            name: "engram",
            dependencies: [
                "EngramSupport",
                "EngramIndex",
                "EngramEmbedding",
                "EngramMemory",
                "EngramMem0",
                "EngramServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ]
        ),

        // MARK: - Benchmarks

        .executableTarget(
            name: "SearchAllocations",
            dependencies: [
                "EngramSupport", "EngramIndex", "EngramEmbedding", "EngramMemory",
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/SearchAllocations",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),

        // MARK: - Tests

        .target(name: "EngramTestSupport", path: "Tests/EngramTestSupport"),
        .testTarget(name: "EngramIndexTests", dependencies: ["EngramSupport", "EngramIndex", "EngramTestSupport"]),
        .testTarget(name: "EngramEmbeddingTests", dependencies: ["EngramEmbedding", "CEngramKernels"]),
        .testTarget(name: "EngramReadmeTests", dependencies: ["EngramIndex", "EngramEmbedding", "EngramMemory"]),
        .testTarget(name: "EngramMemoryTests", dependencies: ["EngramSupport", "EngramMemory", "EngramTestSupport"]),
        .testTarget(name: "EngramCLITests", dependencies: ["engram", "EngramMemory", "EngramEmbedding", "EngramTestSupport"]),
        .testTarget(
            name: "EngramServerTests",
            dependencies: ["EngramServer", "EngramMemory", "EngramEmbedding", "EngramTestSupport",
                           .product(name: "HummingbirdTesting", package: "hummingbird")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
