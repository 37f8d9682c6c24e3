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
    ],
    targets: [
        // MARK: - System and C shims

        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "blas",
            providers: [.apt(["libblas-dev", "liblapack-dev", "libopenblas0-pthread"])]
        ),
        .target(
            name: "CEngramKernels",
            linkerSettings: [.linkedLibrary("blas"), .linkedLibrary("dl"), .linkedLibrary("m")]
        ),

        // MARK: - Libraries

        .target(
            name: "EngramIndex",
            dependencies: ["CBLAS", "CEngramKernels"]
        ),

        .target(
            name: "EngramEmbedding",
            dependencies: ["EngramIndex", "CBLAS", "CEngramKernels"]
        ),

        .target(
            name: "EngramMemory",
            dependencies: ["EngramIndex", "EngramEmbedding", .product(name: "GRDB", package: "GRDB.swift")]
        ),

        .target(
            name: "EngramServer",
            dependencies: [
                "EngramMemory",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // MARK: - Command line

        .executableTarget(
            name: "engram",
            dependencies: [
                "EngramIndex",
                "EngramEmbedding",
                "EngramMemory",
                "EngramServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: - Tests

        .target(name: "EngramTestSupport", path: "Tests/EngramTestSupport"),
        .testTarget(name: "EngramIndexTests", dependencies: ["EngramIndex", "EngramTestSupport"]),
        .testTarget(name: "EngramEmbeddingTests", dependencies: ["EngramEmbedding"]),
        .testTarget(name: "EngramMemoryTests", dependencies: ["EngramMemory", "EngramTestSupport"]),
        .testTarget(name: "EngramCLITests", dependencies: ["engram", "EngramMemory", "EngramEmbedding", "EngramTestSupport"]),
        .testTarget(
            name: "EngramServerTests",
            dependencies: ["EngramServer", "EngramMemory", "EngramEmbedding", "EngramTestSupport",
                           .product(name: "HummingbirdTesting", package: "hummingbird")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
