/// Turns texts into vectors. Batching is the embedder's job: pass as many texts as you have.
public protocol Embedder: Sendable {
    /// Floats per embedding.
    var dimension: Int { get }
    /// A name that identifies the model (stored with memories, so a store never mixes models).
    var modelName: String { get }
    /// One embedding per text, in order.
    func embed(_ texts: [String]) async throws -> [[Float]]
}

/// Errors of the embedders, each naming what to do about it.
public enum EmbeddingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No model directory was found; `hint` says how to get one.
    case modelNotFound(searched: [String], hint: String)
    /// A model file is missing or malformed.
    case invalidModel(path: String, reason: String)
    /// The remote endpoint failed; `status` is the HTTP status (0 for transport errors).
    case remote(status: Int, message: String)
    /// The endpoint's answer could not be understood.
    case invalidResponse(String)
    /// An embedder was configured with values it cannot work with.
    case invalidConfiguration(String)

    /// The error and what to do about it.
    public var description: String {
        switch self {
        case let .modelNotFound(searched, hint): "no model found (looked in: \(searched.joined(separator: ", "))). \(hint)"
        case let .invalidModel(path, reason): "\(path): \(reason)"
        case let .remote(status, message): status == 0 ? "embedding request failed: \(message)" : "embedding endpoint answered \(status): \(message)"
        case let .invalidResponse(message): "unexpected embedding response: \(message)"
        case let .invalidConfiguration(message): "invalid embedder configuration: \(message)"
        }
    }
}
