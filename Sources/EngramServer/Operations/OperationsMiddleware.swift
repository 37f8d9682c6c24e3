import EngramSupport
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// The outermost middleware: gives every response the request's id (`X-Request-Id`), records it
/// in the metrics (route, method, status, server time and its parts), and logs one line per
/// request: method, route, status, duration, the request id and which key was used (a digest,
/// never the key), never a memory's text.
struct OperationsMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let metrics: ServerMetrics?

    func handle(_ request: Request, context: ServerContext, next: (Request, ServerContext) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var response = try await next(request, context)
        let elapsed = ContinuousClock.now - start
        // The route as registered (`/v1/memories/{id}`, not the id): bounded label values.
        let route = context.endpointPath ?? "unmatched"
        response.headers[.requestID] = context.id
        metrics?.request(route: route, method: request.method.rawValue, status: response.status.code, duration: elapsed,
                         parts: Self.parts(response.headers[.serverTiming]))
        var metadata: Logger.Metadata = [
            "method": .string(request.method.rawValue), "route": .string(route), "status": .stringConvertible(response.status.code),
            "duration_ms": .string(ServerMiddleware.milliseconds(elapsed)),
        ]
        if let key = ServerMiddleware.presentedKey(request) { metadata["key"] = .string(String(ContentHash.of(key).prefix(8))) }
        context.logger.info("request", metadata: metadata)
        return response
    }

    /// The named parts of a `Server-Timing` header (`parse;dur=0.021, embed;dur=1.3, …`), but its total.
    static func parts(_ header: String?) -> [(String, Duration)] {
        guard let header else { return [] }
        return header.split(separator: ",").compactMap { entry in
            let fields = entry.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == 2, fields[0] != "total", fields[1].hasPrefix("dur="), let ms = Double(fields[1].dropFirst(4)), ms.isFinite, ms >= 0
            else { return nil }
            return (fields[0], .nanoseconds(Int64(ms * 1e6)))
        }
    }
}

extension HTTPField.Name {
    static let requestID = HTTPField.Name("X-Request-Id")!
}
