import Hummingbird

/// Per-request context: the scope the request's API key grants.
public struct ServerContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by the authentication middleware before any route runs.
    public var keyScope = KeyScope.unrestricted
    /// Bodies above this are refused with 413.
    public var maxUploadSize: Int { 1 << 20 }

    public init(source: Source) {
        coreContext = .init(source: source)
    }
}
