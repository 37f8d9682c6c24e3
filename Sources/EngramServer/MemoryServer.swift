import EngramMemory
import EngramSupport
import Foundation
import Hummingbird
import Logging
import NIOCore

/// A Mem0-compatible memory server over HTTP: the routes `mem0ai.MemoryClient` calls, on a
/// ``MemoryStore``, with API keys and per-key tenant restrictions.
public struct MemoryServer: Sendable {
    /// Where the server listens and whom it lets in.
    public struct Configuration: Sendable {
        /// The address to bind (a non-loopback one needs API keys).
        public var host: String
        /// The TCP port (0: any free one).
        public var port: Int
        /// The API keys and their tenant restrictions.
        public var keys: APIKeys
        /// Extracts memories from conversations when requests leave `infer` on (nil: each user
        /// message is stored as it is).
        public var extractor: MemoryExtractor?
        /// How often the store is checkpointed when due (``MemoryStore/checkpointIfDue()``), so that
        /// a crash leaves little for the next open to catch up; nil: only at shutdown.
        public var checkpointInterval: Duration?
        /// How long a connection may send nothing before the server closes it (an idle keep-alive
        /// connection, or a request that stopped halfway), so that clients cannot hold file
        /// descriptors for ever.
        public var idleTimeout: Duration
        /// Whether `GET /metrics` reports the server's metrics (else 404).
        public var metrics: Bool
        /// Whether `GET /metrics` is answered without an API key.
        public var publicMetrics: Bool

        /// A configuration; by default loopback, port 8765, no keys, no extraction, checkpoints
        /// every 5 minutes, connections closed after 60 idle seconds, metrics behind the keys.
        public init(host: String = "127.0.0.1", port: Int = 8765, keys: APIKeys = .none, extractor: MemoryExtractor? = nil,
                    checkpointInterval: Duration? = .seconds(300), idleTimeout: Duration = .seconds(60), metrics: Bool = true,
                    publicMetrics: Bool = false) {
            self.host = host
            self.port = port
            self.keys = keys
            self.extractor = extractor
            self.checkpointInterval = checkpointInterval
            self.idleTimeout = idleTimeout
            self.metrics = metrics
            self.publicMetrics = publicMetrics
        }
    }

    /// The store it serves (empty while it opens: see ``run(opening:onServerRunning:)``).
    public let served: ServedStore
    /// The configuration it was made with.
    public let configuration: Configuration
    /// What `GET /metrics` reports (nil when metrics are off).
    public let metrics: ServerMetrics?
    /// MCP at `/mcp`.
    let mcp: MCPRoute

    /// A server of `store` (nil: a store that ``run(opening:onServerRunning:)`` opens).
    /// - Throws: ``ServerError/configuration(_:)`` for a non-loopback address without API keys.
    public init(store: MemoryStore?, configuration: Configuration) throws {
        guard !configuration.keys.isEmpty || Self.isLoopback(configuration.host) else {
            throw ServerError.configuration("refusing to serve \(configuration.host) without API keys: set ENGRAM_API_KEY or --api-keys")
        }
        served = ServedStore(store)
        self.configuration = configuration
        metrics = configuration.metrics ? ServerMetrics() : nil
        mcp = MCPRoute(served: served)
    }

    /// The router with every route and the authentication and error middleware.
    public func router() -> Router<ServerContext> {
        let router = Router(context: ServerContext.self)
        router.add(middleware: OperationsMiddleware(metrics: metrics))
        let open = OperationsRoutes.unauthenticated.union(configuration.publicMetrics ? ["/metrics"] : [])
        router.add(middleware: ServerMiddleware(keys: configuration.keys, unauthenticated: open))
        MemoryRoutes(served: served, extractor: configuration.extractor).register(on: router)
        OperationsRoutes(served: served, metrics: metrics).register(on: router)
        mcp.register(on: router)
        return router
    }

    /// The application, for running (``run()``) or testing.
    public func application(logger: Logger? = nil, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        -> some ApplicationProtocol {
        let idle = TimeAmount.nanoseconds(Int64(configuration.idleTimeout / .nanoseconds(1)))
        return Application(router: router(), server: .http1(configuration: .init(idleTimeout: idle)),
                           configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "engram"),
                    onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
                    logger: logger ?? Logger(label: "engram.server"))
    }

    /// Serves until SIGTERM or SIGINT, then finishes the requests in flight and checkpoints the
    /// store; meanwhile, every ``Configuration/checkpointInterval``, erases expired memories
    /// (``MemoryStore/purgeExpired()``) and checkpoints the store when due.
    ///
    /// - Parameters:
    ///   - open: opens the store, for a server made without one: the server listens meanwhile,
    ///     answering `/healthz`, and 503 on `/readyz` and every route that needs the store.
    ///   - onServerRunning: called with the port once the server listens and its store is open.
    /// - Throws: what opening the store throws (the server then stops).
    public func run(opening open: (@Sendable () async throws -> MemoryStore)? = nil,
                    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let ready = Readiness(onReady: onServerRunning, storeOpen: served.ifOpen != nil)
        let checkpoints = Task { [served, metrics, interval = configuration.checkpointInterval] in
            guard let interval else { return }
            // The store checkpoints on a thread of its own: writes wait only while it writes the
            // changed index files, not the view files.
            while (try? await Task.sleep(for: interval)) != nil {
                guard let store = served.ifOpen else { continue }
                _ = try? await store.purgeExpired()
                let start = ContinuousClock.now
                if (try? await store.checkpointIfDue()) == true { metrics?.checkpoint(ContinuousClock.now - start) }
            }
        }
        defer { checkpoints.cancel() }
        let application = application(onServerRunning: { port in await ready.listening(port) })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await application.runService() }
            if let open, served.ifOpen == nil {
                group.addTask { [served] in
                    served.opened(try await open())
                    await ready.storeOpened()
                }
            }
            // The first to end: the service (at SIGTERM), or a failed open, which stops the service.
            do { try await group.next() } catch { group.cancelAll(); throw error }
            try await group.waitForAll()
        }
        checkpoints.cancel()
        await mcp.stop()
        try await served.ifOpen?.close()
    }

    /// Calls `onReady` once both the server listens and the store is open.
    private actor Readiness {
        let onReady: @Sendable (Int) async -> Void
        var port: Int?
        var storeOpen: Bool

        init(onReady: @escaping @Sendable (Int) async -> Void, storeOpen: Bool) {
            self.onReady = onReady
            self.storeOpen = storeOpen
        }

        func listening(_ port: Int) async {
            self.port = port
            if storeOpen { await onReady(port) }
        }

        func storeOpened() async {
            storeOpen = true
            if let port { await onReady(port) }
        }
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}
