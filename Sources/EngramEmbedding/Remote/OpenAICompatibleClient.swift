import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// JSON POSTs to an OpenAI-compatible API (embeddings, chat completions), with the retry policy
/// every such call needs: 429 and 5xx answers and transport errors are retried with exponential
/// backoff (honouring `Retry-After`); other errors are thrown at once with the endpoint's message.
package final class OpenAICompatibleClient: @unchecked Sendable {  // immutable after init; URLSession is thread-safe
    let baseURL: URL
    let apiKey: String?
    let maxRetries: Int
    let initialBackoff: Duration
    private let session: URLSession

    package init(baseURL: URL, apiKey: String?, maxRetries: Int = 4, initialBackoff: Duration = .milliseconds(500), timeout: Duration = .seconds(30)) {
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.maxRetries = maxRetries
        self.initialBackoff = initialBackoff
        let c = URLSessionConfiguration.ephemeral
        c.timeoutIntervalForRequest = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) * 1e-18
        session = URLSession(configuration: c)
    }

    /// POSTs `body` as JSON to `path` under the base URL.
    /// - Returns: the body of the 200 answer.
    /// - Throws: ``EmbeddingError/remote(status:message:)`` (status 0: transport), `CancellationError`.
    package func post(_ path: String, _ body: [String: Any]) async throws -> Data {
        var request = URLRequest(url: baseURL.appendingPathComponent(path))
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let apiKey, !apiKey.isEmpty { request.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization") }
        request.httpBody = try JSONSerialization.data(withJSONObject: body)
        var backoff = initialBackoff
        for attempt in 0...maxRetries {
            let isLast = attempt == maxRetries
            do {
                let (data, response) = try await session.data(for: request)
                let status = (response as? HTTPURLResponse)?.statusCode ?? 0
                if status == 200 { return data }
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

    private static func errorMessage(_ data: Data) -> String {
        if let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            if let error = json["error"] as? [String: Any], let message = error["message"] as? String { return message }
            if let message = json["error"] as? String ?? json["detail"] as? String { return message }
        }
        return String(decoding: data.prefix(500), as: UTF8.self)
    }
}
