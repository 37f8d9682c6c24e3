import EngramEmbedding
import EngramMemory
import EngramSupport
import Hummingbird

/// `GET /healthz` (the process answers), `GET /readyz` (503 while the store opens and until the
/// background work after its open is done) and `GET /metrics` (Prometheus text).
/// Health and readiness need no key; metrics need one unless the server makes them public.
struct OperationsRoutes: Sendable {
    static let unauthenticated: Set<String> = ["/healthz", "/readyz"]
    let served: ServedStore
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
        case "readyz": { [served] _, _ in
            guard let store = served.ifOpen else {
                return .json(.object([("status", .string("opening")), ("detail", .string(ServerError.starting.description))]), status: .serviceUnavailable)
            }
            return store.isReady ? .json(.object([("status", .string("ready"))]))
                : .json(.object([("status", .string("starting")), ("detail", .string("the store is still building its indexes"))]), status: .serviceUnavailable)
        }
        default: { [served, metrics] _, _ in
            guard let metrics else { throw ServerError.notFound("metrics are off (engram serve --no-metrics)") }
            let store = served.ifOpen
            if let store {
                metrics.set("engram_memories", Double(store.count))
                metrics.set("engram_tenants", Double(store.entities().count))
                metrics.set("engram_changes_since_checkpoint", Double(store.changesSinceCheckpoint))
                metrics.set("engram_checkpoint_bytes", Double(store.checkpointBytes))
                if let lag = store.catchUpLag { metrics.set("engram_catchup_lag_seconds", Double(ServerMetrics.nanoseconds(lag)) / 1e9) }
                let caching = store.embedder as? CachingEmbedder
                if let figures = caching?.statistics {
                    metrics.advance("engram_query_cache_hits_total", to: figures.hits)
                    metrics.advance("engram_query_cache_misses_total", to: figures.misses)
                    metrics.set("engram_query_cache_entries", Double(figures.entries))
                }
                if let batching = (caching?.base ?? store.embedder) as? BatchingEmbedder {
                    let figures = batching.statistics
                    metrics.set("engram_embed_queue_texts", Double(figures.queuedTexts))
                    metrics.advance("engram_embed_batches_total", to: figures.batches)
                    metrics.advance("engram_embed_texts_total", to: figures.texts)
                }
            }
            metrics.set("engram_ready", store?.isReady == true ? 1 : 0)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: metrics.exposition())))
        }
        }
    }
}
