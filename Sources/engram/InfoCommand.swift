import EngramSupport
import ArgumentParser
import EngramEmbedding
import EngramIndex

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Print the BLAS library, distance kernels and embedder precisions this process runs on.")

    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let fields: [(String, JSONValue)] = [
            ("blas_library", .string(BLASRuntime.libraryPath)),
            ("openblas_core", .string(BLASRuntime.openBLASCore)),
            ("openblas_config", .string(BLASRuntime.openBLASConfig)),
            ("distance_kernels", .string(DistanceKernels.active.level.rawValue)),
            ("cpu_level", .string(DistanceKernels.Level.supported.rawValue)),
            ("code_kernels", .string(DistanceKernels.codeKernels.map(\.name).joined(separator: ","))),
            ("embedder_precisions", .string(MiniLMEmbedder.Precision.allCases.filter { $0 == .float32 || MiniLMEmbedder.supportsBFloat16 }
                .map(\.rawValue).joined(separator: ","))),
        ]
        if json {
            print(JSONValue.object(fields).text)
        } else {
            for (key, value) in fields { print("\(key): \(value.plain)") }
        }
    }
}

struct SGEMMProbe: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sgemm", abstract: "Measure cblas_sgemm GFLOP/s.")
    @Option var m = 2048
    @Option var n = 2048
    @Option var k = 2048
    @Option var threads = 1
    func run() { print(String(format: "%.1f GFLOP/s", BLASRuntime.measureSGEMM(m: m, n: n, k: k, threads: threads))) }
}
