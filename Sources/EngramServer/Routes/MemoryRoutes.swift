import EngramMemory
import Foundation
import Hummingbird

/// The routes `mem0ai.MemoryClient` (2.x and 1.x) and Mem0's OSS server expose, on a store.
///
/// Each path answers with and without its trailing slash (the client never follows redirects).
/// Every route confines itself to the request key's ``KeyScope``: a memory outside it is "not
/// found", a query outside it is forbidden.
struct MemoryRoutes: Sendable {
    let store: MemoryStore
    let extractor: MemoryExtractor?

    func register(on router: Router<ServerContext>) {
        route(router, .get, "v1/ping") { _, _ in .json(.object([("status", .string("ok")), ("org_id", .string("engram")),
                                                               ("project_id", .string("default")), ("user_email", .string(nil))])) }
        for path in ["v3/memories/add", "v1/memories", "memories"] { route(router, .post, path, add) }
        for path in ["v3/memories/search", "v2/memories/search", "v1/memories/search", "search"] { route(router, .post, path, search) }
        for path in ["v3/memories", "v2/memories"] { route(router, .post, path, list) }
        route(router, .get, "memories", list)
        for prefix in ["v1/memories", "memories"] {
            route(router, .get, "\(prefix)/:id", get)
            route(router, .put, "\(prefix)/:id", update)
            route(router, .delete, "\(prefix)/:id", delete)
            route(router, .get, "\(prefix)/:id/history", history)
            route(router, .delete, prefix, deleteAll)
        }
        route(router, .get, "v1/entities", entities)
        route(router, .delete, "v2/entities/:type/:name", deleteEntity)
        route(router, .put, "v1/batch", batchUpdate)
        route(router, .delete, "v1/batch", batchDelete)
    }

    /// Registers `path`; the router matches `path/` to it as well (tested route by route).
    private func route(_ router: Router<ServerContext>, _ method: HTTPRequest.Method, _ path: String,
                       _ handler: @escaping @Sendable (Request, ServerContext) async throws -> Response) {
        router.on(RouterPath(path), method: method, use: handler)
        // HEAD too, for every GET (load balancers' health checks send it); the middleware drops the body.
        if method == .get { router.on(RouterPath(path), method: .head, use: handler) }
    }
}
