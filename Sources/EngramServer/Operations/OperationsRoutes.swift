import EngramMemory
import EngramSupport
import Hummingbird

/// `GET /healthz` (the process answers), `GET /readyz` (the store has finished opening: 503
/// until its background work after the open is done) and `GET /metrics` (Prometheus text).
/// Health and readiness need no key; metrics need one unless the server makes them public.
struct OperationsRoutes: Sendable {
    static let unauthenticated: Set<String> = ["/healthz", "/readyz"]
    let store: MemoryStore
    let metrics: ServerMetrics?

    func register(on router: Router<ServerContext>) {
        for path in ["healthz", "readyz", "metrics"] {
            router.get(RouterPath(path), use: handler(path))
            router.head(RouterPath(path), use: handler(path))
        }
    }

    private func handler(_ path: String) -> @Sendable (Request, ServerContext) async throws -> Response {
        switch path {
        case "healthz": { _, _ in .json(.object([("status", .string("ok"))])) }
        case "readyz": { [store] _, _ in
            store.isReady ? .json(.object([("status", .string("ready"))]))
                : .json(.object([("status", .string("starting")), ("detail", .string("the store is still building its indexes"))]), status: .serviceUnavailable)
        }
        default: { [store, metrics] _, _ in
            guard let metrics else { throw ServerError.notFound("metrics are off (engram serve --no-metrics)") }
            metrics.set("engram_memories", Double(store.count))
            metrics.set("engram_changes_since_checkpoint", Double(store.changesSinceCheckpoint))
            metrics.set("engram_ready", store.isReady ? 1 : 0)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: metrics.exposition())))
        }
        }
    }
}
