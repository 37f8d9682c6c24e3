import ArgumentParser
import EngramEmbedding

extension MiniLMEmbedder.Precision: ExpressibleByArgument {}

/// `--precision`, for every command that runs the native embedder.
struct PrecisionOption: ParsableArguments {
    @Option(help: "Arithmetic of the native embedder's dense layers: float32, or bfloat16 on CPUs with AVX-512 BF16 (faster, slightly less faithful: README, \"Embedder precision\").")
    var precision: MiniLMEmbedder.Precision = .float32
}
