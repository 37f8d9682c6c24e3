import EngramMemory
import Foundation
import Hummingbird

/// The routes `mem0ai.MemoryClient` (2.x and 1.x) and Mem0's OSS server expose, on a store.
///
/// Each path answers with and without its trailing slash (the client never follows redirects).
/// Every route confines itself to the request key's ``KeyScope``: a memory outside it is "not
/// found", a query outside it is forbidden.
struct MemoryRoutes: Sendable {
    let served: ServedStore
    /// The store, once open (503 before).
    var store: MemoryStore { get throws { try served.get() } }
    let extractor: MemoryExtractor?
    let exports = ExportRequests()

    func register(on router: Router<ServerContext>) {
        route(router, .get, "v1/ping") { _, _ in .json(.object([("status", .string("ok")), ("org_id", .string("engram")),
                                                               ("project_id", .string("default")), ("user_email", .string(nil))])) }
        for path in ["v3/memories/add", "v1/memories", "memories"] { route(router, .post, path, add) }
        for path in ["v3/memories/search", "v2/memories/search", "v1/memories/search", "search"] { route(router, .post, path, search) }
        for path in ["v3/memories", "v2/memories"] { route(router, .post, path, list) }
        route(router, .post, "v1/memories/recall", recall)
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
        route(router, .post, "v1/exports", createExport)
        route(router, .post, "v1/exports/get", getExport)
        registerNotOffered(on: router)
    }

    /// The other routes `mem0ai.MemoryClient` 2.x calls: a clear 501 saying what is not offered,
    /// never a 404 that reads like a missing memory.
    private func registerNotOffered(on router: Router<ServerContext>) {
        let absent: [(HTTPRequest.Method, String, String)] = [
            (.post, "v1/summary", "summaries (get_summary)"),
            (.get, "v2/entities/:type/:name/profile", "profiles (get_profile)"),
            (.get, "v2/profiles/settings", "profile settings (get_profile_settings)"),
            (.post, "v2/profiles/settings", "profile settings (update_profile_settings)"),
            (.post, "v2/profiles/jobs", "profile jobs (generate_profile, sample_profiles)"),
            (.get, "v2/profiles/jobs/:job", "profile jobs (get_profile_job)"),
            (.get, "api/v1/orgs/organizations/:org/projects/:project", "projects (get_project)"),
            (.patch, "api/v1/orgs/organizations/:org/projects/:project", "projects (update_project)"),
            (.get, "api/v1/webhooks/projects/:project", "webhooks (get_webhooks)"),
            (.post, "api/v1/webhooks/projects/:project", "webhooks (create_webhook)"),
            (.put, "api/v1/webhooks/:webhook", "webhooks (update_webhook)"),
            (.delete, "api/v1/webhooks/:webhook", "webhooks (delete_webhook)"),
            (.post, "v1/feedback", "feedback"),
        ]
        for (method, path, what) in absent {
            route(router, method, path) { _, _ in throw ServerError.notOffered("Engram does not offer \(what)") }
        }
    }

    /// Registers `path`; the router matches `path/` to it as well (tested route by route).
    private func route(_ router: Router<ServerContext>, _ method: HTTPRequest.Method, _ path: String,
                       _ handler: @escaping @Sendable (Request, ServerContext) async throws -> Response) {
        router.on(RouterPath(path), method: method, use: handler)
        // HEAD too, for every GET (load balancers' health checks send it); the middleware drops the body.
        if method == .get { router.on(RouterPath(path), method: .head, use: handler) }
    }
}
