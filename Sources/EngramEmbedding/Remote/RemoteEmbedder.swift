import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Embeddings from any OpenAI-compatible `/v1/embeddings` endpoint (OpenAI, Ollama, vLLM, LM Studio…).
///
/// Texts are sent in batches of ``Configuration/batchSize``; 429 and 5xx answers and transport
/// errors are retried with exponential backoff (honouring `Retry-After`), other errors are thrown at
/// once with the endpoint's message. Every answer is checked: one embedding per input, each of
/// ``Configuration/dimension`` finite floats.
public final class RemoteEmbedder: Embedder, @unchecked Sendable {  // immutable after init; URLSession is thread-safe
    public struct Configuration: Sendable {
        /// The API root, e.g. `https://api.openai.com/v1` or `http://localhost:11434/v1`.
        public var baseURL: URL
        public var model: String
        /// Floats per embedding (1536 for text-embedding-3-small, 384 for all-minilm …).
        public var dimension: Int
        /// Bearer token; default `$ENGRAM_EMBEDDING_API_KEY`, then `$OPENAI_API_KEY`; none for local servers.
        public var apiKey: String?
        public var batchSize = 64
        public var maxRetries = 4
        public var initialBackoff: Duration = .milliseconds(500)
        public var timeout: Duration = .seconds(30)

        public init(baseURL: URL, model: String, dimension: Int, apiKey: String? = Configuration.environmentKey) {
            self.baseURL = baseURL
            self.model = model
            self.dimension = dimension
            self.apiKey = apiKey
        }

        public static var environmentKey: String? {
            let env = ProcessInfo.processInfo.environment
            return env["ENGRAM_EMBEDDING_API_KEY"] ?? env["OPENAI_API_KEY"]
        }
    }

    public let configuration: Configuration
    public var dimension: Int { configuration.dimension }
    public var modelName: String { configuration.model }
    private let session: URLSession

    public init(_ configuration: Configuration) {
        precondition(configuration.batchSize > 0 && configuration.dimension > 0)
        self.configuration = configuration
        let c = URLSessionConfiguration.ephemeral
        c.timeoutIntervalForRequest = Self.seconds(configuration.timeout)
        session = URLSession(configuration: c)
    }

    public func embed(_ texts: [String]) async throws -> [[Float]] {
        var out: [[Float]] = []
        out.reserveCapacity(texts.count)
        for start in stride(from: 0, to: texts.count, by: configuration.batchSize) {
            out += try await embedBatch(Array(texts[start..<min(texts.count, start + configuration.batchSize)]))
        }
        return out
    }

    private func embedBatch(_ texts: [String]) async throws -> [[Float]] {
        var request = URLRequest(url: configuration.baseURL.appendingPathComponent("embeddings"))
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let key = configuration.apiKey, !key.isEmpty { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        request.httpBody = try JSONSerialization.data(withJSONObject: ["model": configuration.model, "input": texts, "encoding_format": "float"])
        var backoff = configuration.initialBackoff
        for attempt in 0...configuration.maxRetries {
            let isLast = attempt == configuration.maxRetries
            do {
                let (data, response) = try await session.data(for: request)
                let status = (response as? HTTPURLResponse)?.statusCode ?? 0
                if status == 200 { return try decode(data, expected: texts.count) }
                let message = Self.errorMessage(data)
                guard status == 429 || status >= 500, !isLast else { throw EmbeddingError.remote(status: status, message: message) }
                let retryAfter = ((response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Retry-After")).flatMap(Double.init)
                try await Task.sleep(for: retryAfter.map { .milliseconds(Int($0 * 1000)) } ?? backoff)
            } catch let error as EmbeddingError {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                guard !isLast else { throw EmbeddingError.remote(status: 0, message: "\(error.localizedDescription)") }
                try await Task.sleep(for: backoff)
            }
            backoff *= 2
        }
        throw EmbeddingError.remote(status: 0, message: "retries exhausted")
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

    private static func errorMessage(_ data: Data) -> String {
        if let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            if let error = json["error"] as? [String: Any], let message = error["message"] as? String { return message }
            if let message = json["error"] as? String ?? json["detail"] as? String { return message }
        }
        return String(decoding: data.prefix(500), as: UTF8.self)
    }

    private static func seconds(_ d: Duration) -> TimeInterval {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}
