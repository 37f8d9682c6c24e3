import EngramSupport
import Logging
import NIOCore
import PostgresNIO

/// The connections of this process to one PostgreSQL database, shared by every store open on it:
/// a connection pool, a connection listening for change notifications, and the threads their
/// async work runs on. Opening a store on a database this process already uses costs no new
/// connection; the last store to close shuts them down.
///
/// The link also knows whether the database answers. postgres-nio's pool waits, retrying, for as
/// long as the server is away, so a call would hang until its timeout; instead, once the link has
/// seen the database go away (the listening connection dropped, a call timed out or lost its
/// connection), calls fail at once with ``MemoryError/unavailable(_:)`` while a probe reconnects
/// in the background, and the first successful probe (or the listener back on) ends the outage.
final class PostgresLink: Sendable {
    let location: PostgresLocation
    let client: PostgresClient
    let changed = ChangeSignal()
    /// Where the pool, the listener and every call's work run: a serial queue, so that a caller
    /// waiting for a call never holds a thread the call needs (see `waitForAsync`). Serial on
    /// purpose: the work only suspends (on NIO's threads), never blocks, and a serial queue gets a
    /// thread whenever it has work, where a concurrent one shares dispatch's pool of as many
    /// threads as cores with callers that may all be blocked waiting (a checkpoint behind the
    /// writer, the follower behind a call): adds then stalled for most of a second until dispatch
    /// added a thread.
    let executor = QueueExecutor(label: "engram.postgres")
    private let logger: Logger
    /// Reports outages and recoveries (the pool's own logger stays at errors only).
    private let events: Logger
    private let tasks: Locked<[Task<Void, Never>]>
    /// Set when the last store lets go: what fails after that is the link shutting down.
    private let closing = Locked(false)
    /// Why and since when the database is unreachable; nil while it answers.
    private let outage = Locked<(reason: String, since: ContinuousClock.Instant)?>(nil)

    static let channel = "engram_changes"
    static let connectTimeout = Duration.seconds(2)
    private static let open = Locked<[String: (link: PostgresLink, users: Int)]>([:])

    private init(location: PostgresLocation, logger: Logger) throws {
        self.location = location
        self.logger = logger
        var events = Logger(label: "engram.postgres")
        events.logLevel = .notice
        self.events = events
        client = PostgresClient(configuration: try location.configuration(connectTimeout: Self.connectTimeout), backgroundLogger: logger)
        tasks = Locked([])
        let client = client
        tasks.withLock { tasks in
            tasks.append(Task(executorPreference: executor) { await client.run() })
            tasks.append(Task(executorPreference: executor) { [weak self] in await self?.listen() })
        }
    }

    /// The link to `location`, opened if this process has none.
    static func acquire(_ location: PostgresLocation, logger: Logger) throws -> PostgresLink {
        try open.withLock { open in
            if let entry = open[location.key] {
                open[location.key] = (entry.link, entry.users + 1)
                return entry.link
            }
            let link = try PostgresLink(location: location, logger: logger)
            open[location.key] = (link, 1)
            return link
        }
    }

    /// Gives back one ``acquire(_:logger:)``; the last one closes the connections.
    static func release(_ location: PostgresLocation) {
        let closing = open.withLock { open -> PostgresLink? in
            guard let entry = open[location.key] else { return nil }
            if entry.users > 1 {
                open[location.key] = (entry.link, entry.users - 1)
                return nil
            }
            open[location.key] = nil
            return entry.link
        }
        guard let closing else { return }
        closing.closing.withLock { $0 = true }
        // The pool's task last, so that nothing sees its connections close before it is cancelled.
        closing.tasks.withLock { tasks in for task in tasks.reversed() { task.cancel() } }
    }

    // MARK: Reachability

    /// Throws while the database is known to be unreachable.
    /// - Throws: ``MemoryError/unavailable(_:)`` saying why and for how long.
    func checkReachable() throws {
        guard let (reason, since) = outage.withLock({ $0 }) else { return }
        let seconds = (ContinuousClock.now - since).components.seconds
        throw MemoryError.unavailable("the database \(location) is unreachable (\(reason); for \(seconds) s, retrying)")
    }

    /// Notes that the database stopped answering, and starts probing for its return.
    func lost(_ reason: String) {
        guard !closing.withLock({ $0 }) else { return }
        let first = outage.withLock { outage in
            defer { if outage == nil { outage = (reason, .now) } }
            return outage == nil
        }
        guard first else { return }
        events.error("the database is unreachable; retrying", metadata: ["database": "\(location)", "reason": "\(reason)"])
        tasks.withLock { $0.append(Task(executorPreference: executor) { [weak self] in await self?.probeUntilBack() }) }
    }

    /// Ends an outage: the database answered again. Wakes the followers, who may have missed
    /// notifications meanwhile.
    private func recovered() {
        guard outage.withLock({ o in defer { o = nil }; return o != nil }) else { return }
        events.notice("the database answers again", metadata: ["database": "\(location)"])
        changed.fire()
    }

    private func probeUntilBack() async {
        while outage.withLock({ $0 != nil }), !Task.isCancelled {
            if await probe(within: Self.connectTimeout * 2) {
                recovered()
                return
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
    }

    /// Whether ``probe()`` succeeds within `limit`: the connect timeout covers the TCP handshake
    /// only, and a frozen server completes that much (its kernel does) and then says nothing.
    private func probe(within limit: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { (try? await self.probe()) != nil }
            group.addTask { try? await Task.sleep(for: limit); return false }
            defer { group.cancelAll() }
            return await group.next() ?? false
        }
    }

    /// Opens and closes one connection of its own: unlike the pool's, it fails at once when the
    /// server refuses or rejects it (wrong database, password), and within ``connectTimeout``
    /// when nothing answers.
    /// - Throws: ``MemoryError/unavailable(_:)`` with the server's reason.
    func probe() async throws {
        var configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password,
            database: location.database, tls: try location.connectionTLS())
        configuration.options.connectTimeout = TimeAmount(Self.connectTimeout)
        do {
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
            try await connection.close()
        } catch let error as PSQLError {
            throw MemoryError.unavailable("cannot connect to \(location): \(error.summary)")
        }
    }

    /// Keeps a connection listening for change notifications, and reconnects after losing one;
    /// every notification (and every reconnection, after which some may have been missed) wakes
    /// the waiters. The listener is also the first to see the database go away or come back.
    private func listen() async {
        while !Task.isCancelled {
            do {
                try await client.withConnection { connection in
                    try await connection.listen(on: Self.channel) { notifications in
                        self.recovered()
                        self.changed.fire()
                        for try await notification in notifications { self.changed.fire(from: notification.payload) }
                    }
                }
                if !Task.isCancelled { lost("the listening connection closed") }
            } catch {
                if !Task.isCancelled { lost("the listening connection failed: \((error as? PSQLError)?.summary ?? "\(error)")") }
                try? await Task.sleep(for: .milliseconds(250))
            }
        }
    }
}

extension PostgresLocation {
    /// What tells two locations apart: the same server, database and credentials share a link.
    var key: String { "\(user):\(password ?? "")@\(host):\(port)/\(database)?tls=\(requiresTLS)" }
}

extension PSQLError {
    /// What went wrong, in words: the server's message when it sent one (a missing database, a
    /// rejected password, a constraint), else the client-side code. postgres-nio's own
    /// description hides both, to keep queries out of logs.
    var summary: String {
        if let message = serverInfo?[.message] { return message }
        return "\(code)" + (underlying.map { ": \($0)" } ?? "")
    }

    /// Whether the error says the database cannot serve us now, rather than that a statement was
    /// wrong: a client-side failure (no connection, lost connection, timeout), or a server in the
    /// SQLSTATE classes 08 (connection exception), 53 (insufficient resources: too many
    /// connections) or 57 (operator intervention: shutting down, starting up).
    var meansUnreachable: Bool {
        guard let state = serverInfo?[.sqlState] else { return true }
        return ["08", "53", "57"].contains(String(state.prefix(2)))
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
