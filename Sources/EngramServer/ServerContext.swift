import Hummingbird

/// Per-request context: the scope the request's API key grants.
public struct ServerContext: RequestContext {
    /// Hummingbird's per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// Set by the authentication middleware before any route runs.
    public var keyScope = KeyScope.unrestricted
    /// Bodies above this are refused with 413.
    public var maxUploadSize: Int { 1 << 20 }

    /// A context for a new request (unrestricted until the middleware authenticates it).
    public init(source: Source) {
        coreContext = .init(source: source)
    }
}
