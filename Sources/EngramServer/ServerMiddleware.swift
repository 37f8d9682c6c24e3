import EngramSupport
import Foundation
import HTTPTypes
import Hummingbird

/// Authenticates every request (the ping too: a client checks its key with it; not the health
/// probes), answers HEAD without a
/// body, and turns every error into `{"detail": ...}`.
struct ServerMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let keys: APIKeys
    /// Paths answered without a key (health and readiness probes).
    var unauthenticated: Set<String> = []

    func handle(_ request: Request, context: ServerContext, next: (Request, ServerContext) async throws -> Response) async throws -> Response {
        var context = context
        do {
            if !keys.isEmpty, !unauthenticated.contains(request.uri.path) {
                guard let presented = Self.presentedKey(request), let scope = keys.scope(of: presented) else { throw ServerError.unauthorized }
                context.keyScope = scope
            }
            let start = ContinuousClock.now
            var response = try await next(request, context)
            // Server-Timing: the whole handling, and (set by the route) the query embedding in it.
            let total = "total;dur=\(Self.milliseconds(ContinuousClock.now - start))"
            response.headers[.serverTiming] = response.headers[.serverTiming].map { $0 + ", " + total } ?? total
            return Self.bodiless(response, for: request)
        } catch {
            let (status, detail) = ServerError.from(error)
            if status == .internalServerError { context.logger.error("request failed: \(error)") }
            return Self.bodiless(.json(.object([("detail", .string(detail))]), status: status), for: request)
        }
    }

    /// The response without its body when the request is a HEAD (routed like its GET).
    static func bodiless(_ response: Response, for request: Request) -> Response {
        guard request.method == .head else { return response }
        var response = response
        response.body = .init()
        return response
    }

    /// `Authorization: Token <key>` (what mem0ai sends), `Authorization: Bearer <key>`, or `X-API-Key`.
    static func presentedKey(_ request: Request) -> String? {
        if let authorization = request.headers[.authorization] {
            for prefix in ["Token ", "Bearer "] where authorization.hasPrefix(prefix) { return String(authorization.dropFirst(prefix.count)) }
        }
        return request.headers[Self.apiKeyHeader]
    }
}

extension ServerMiddleware {
    static let apiKeyHeader = HTTPField.Name("X-API-Key")!

    static func milliseconds(_ d: Duration) -> String {
        String(format: "%.3f", Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) * 1e-15)
    }
}

extension HTTPField.Name {
    static let serverTiming = HTTPField.Name("Server-Timing")!
}

extension Response {
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: value.text)))
    }
}
