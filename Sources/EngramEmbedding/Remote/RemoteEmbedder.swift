import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Embeddings from any OpenAI-compatible `/v1/embeddings` endpoint (OpenAI, Ollama, vLLM, LM Studio…).
///
/// Texts are sent in batches of ``Configuration/batchSize``, with ``OpenAICompatibleClient``'s
/// retry policy. Every answer is checked: one embedding per input, each of
/// ``Configuration/dimension`` finite floats.
public final class RemoteEmbedder: Embedder, @unchecked Sendable {  // immutable after init; URLSession is thread-safe
    /// Where and how to reach the endpoint.
    public struct Configuration: Sendable {
        /// The API root, e.g. `https://api.openai.com/v1` or `http://localhost:11434/v1`.
        public var baseURL: URL
        /// The model name the endpoint knows.
        public var model: String
        /// Floats per embedding (1536 for text-embedding-3-small, 384 for all-minilm …).
        public var dimension: Int
        /// Bearer token; default `$ENGRAM_EMBEDDING_API_KEY`, then `$OPENAI_API_KEY`; none for local servers.
        public var apiKey: String?
        /// Texts per request.
        public var batchSize = 64
        /// Retries of a request that failed for a reason worth retrying (transport errors, 429, 5xx).
        public var maxRetries = 4
        /// The wait before the first retry; each retry doubles it.
        public var initialBackoff: Duration = .milliseconds(500)
        /// How long one request may take.
        public var timeout: Duration = .seconds(30)

        /// A configuration with the default batch size, retries and timeout.
        public init(baseURL: URL, model: String, dimension: Int, apiKey: String? = Configuration.environmentKey) {
            self.baseURL = baseURL
            self.model = model
            self.dimension = dimension
            self.apiKey = apiKey
        }

        /// `$ENGRAM_EMBEDDING_API_KEY`, else `$OPENAI_API_KEY`.
        public static var environmentKey: String? {
            let env = ProcessInfo.processInfo.environment
            return env["ENGRAM_EMBEDDING_API_KEY"] ?? env["OPENAI_API_KEY"]
        }
    }

    /// The configuration it was made with.
    public let configuration: Configuration
    /// Floats per embedding, as configured.
    public var dimension: Int { configuration.dimension }
    /// The configured model name.
    public var modelName: String { configuration.model }
    private let client: OpenAICompatibleClient

    /// - Throws: ``EmbeddingError/invalidConfiguration(_:)`` for a dimension outside 1...65,536, a
    ///   batch size below 1 or negative retries.
    public init(_ configuration: Configuration) throws {
        guard (1...65_536).contains(configuration.dimension) else {
            throw EmbeddingError.invalidConfiguration("the embedding dimension must be in 1...65536, got \(configuration.dimension)")
        }
        guard configuration.batchSize > 0 else { throw EmbeddingError.invalidConfiguration("the batch size must be positive, got \(configuration.batchSize)") }
        guard configuration.maxRetries >= 0 else { throw EmbeddingError.invalidConfiguration("retries cannot be negative, got \(configuration.maxRetries)") }
        self.configuration = configuration
        client = OpenAICompatibleClient(baseURL: configuration.baseURL, apiKey: configuration.apiKey, maxRetries: configuration.maxRetries,
                                        initialBackoff: configuration.initialBackoff, timeout: configuration.timeout)
    }

    /// One embedding per text, in order, in requests of ``Configuration/batchSize``.
    /// - Throws: ``EmbeddingError`` when the endpoint fails or answers anything but one finite
    ///   embedding of the configured dimension per text.
    public func embed(_ texts: [String]) async throws -> [[Float]] {
        var out: [[Float]] = []
        out.reserveCapacity(texts.count)
        for start in stride(from: 0, to: texts.count, by: configuration.batchSize) {
            out += try await embedBatch(Array(texts[start..<min(texts.count, start + configuration.batchSize)]))
        }
        return out
    }

    private func embedBatch(_ texts: [String]) async throws -> [[Float]] {
        try decode(await client.post("embeddings", ["model": configuration.model, "input": texts, "encoding_format": "float"]),
                   expected: texts.count)
    }

    private func decode(_ data: Data, expected: Int) throws -> [[Float]] {
        guard let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let items = json["data"] as? [[String: Any]] else {
            throw EmbeddingError.invalidResponse("no data array")
        }
        guard items.count == expected else { throw EmbeddingError.invalidResponse("\(items.count) embeddings for \(expected) inputs") }
        var out = [[Float]](repeating: [], count: expected)
        for (position, item) in items.enumerated() {
            let index = item["index"] as? Int ?? position
            guard (0..<expected).contains(index), out[index].isEmpty, let values = item["embedding"] as? [NSNumber] else {
                throw EmbeddingError.invalidResponse("item \(position) has a bad index or embedding")
            }
            let vector = values.map { $0.floatValue }
            guard vector.count == configuration.dimension else {
                throw EmbeddingError.invalidResponse("embedding of dimension \(vector.count), configured \(configuration.dimension)")
            }
            guard vector.allSatisfy(\.isFinite) else { throw EmbeddingError.invalidResponse("embedding \(index) has NaN or infinite values") }
            out[index] = vector
        }
        return out
    }
}
