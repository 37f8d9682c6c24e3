import EngramSupport
import Logging
import PostgresNIO

/// The connections of this process to one PostgreSQL database, shared by every store open on it:
/// a connection pool, a connection listening for change notifications, and the threads their
/// async work runs on. Opening a store on a database this process already uses costs no new
/// connection; the last store to close shuts them down.
final class PostgresLink: Sendable {
    let client: PostgresClient
    let changed = ChangeSignal()
    /// Where the pool, the listener and every call's work run: threads of their own, so that a
    /// caller waiting for a call never holds a thread the call needs (see `waitForAsync`).
    let executor = QueueExecutor(label: "engram.postgres", concurrent: true)
    private let tasks: Locked<[Task<Void, Never>]>

    static let channel = "engram_changes"
    private static let open = Locked<[String: (link: PostgresLink, users: Int)]>([:])

    private init(location: PostgresLocation, logger: Logger) throws {
        client = PostgresClient(configuration: try location.configuration(connectTimeout: .seconds(2)), backgroundLogger: logger)
        let client = client, changed = changed
        tasks = Locked([
            Task(executorPreference: executor) { await client.run() },
            Task(executorPreference: executor) { await Self.listen(client, signal: changed) },
        ])
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
        closing?.tasks.withLock { tasks in for task in tasks { task.cancel() } }
    }

    /// Keeps a connection listening for change notifications, and reconnects after losing one;
    /// every notification (and every reconnection, after which some may have been missed) wakes
    /// the waiters.
    private static func listen(_ client: PostgresClient, signal: ChangeSignal) async {
        while !Task.isCancelled {
            do {
                try await client.withConnection { connection in
                    try await connection.listen(on: channel) { notifications in
                        signal.fire()
                        for try await _ in notifications { signal.fire() }
                    }
                }
            } catch {
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }
}

extension PostgresLocation {
    /// What tells two locations apart: the same server, database and credentials share a link.
    var key: String { "\(user):\(password ?? "")@\(host):\(port)/\(database)?tls=\(requiresTLS)" }
}
