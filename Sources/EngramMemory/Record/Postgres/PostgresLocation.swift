import Foundation
import NIOSSL
import PostgresNIO

/// Where a PostgreSQL record store lives: a `postgres://user:password@host:port/database` URL.
///
/// Query parameters: `sslmode=require` (or `verify-ca`, `verify-full`) turns TLS on;
/// `timeout=SECONDS` bounds every call to the database (default 10; a call that takes longer
/// fails with ``MemoryError/unavailable(_:)`` and the store treats the database as down until it
/// answers again). The password may also come from `$PGPASSWORD`. The URL is never logged or
/// shown whole: ``description`` leaves the password out.
public struct PostgresLocation: Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int
    public let user: String
    let password: String?
    public let database: String
    public let requiresTLS: Bool
    /// How long one call to the database may take.
    public let operationTimeout: Duration

    /// Parses a `postgres://` or `postgresql://` URL.
    /// - Throws: ``MemoryError/invalidParameter(_:)`` naming what is missing or malformed.
    public init(url text: String) throws {
        guard let url = URLComponents(string: text), ["postgres", "postgresql"].contains(url.scheme ?? "") else {
            throw MemoryError.invalidParameter("the database must be a postgres://user@host:port/database URL")
        }
        guard let host = url.host, !host.isEmpty else { throw MemoryError.invalidParameter("the database URL names no host") }
        let database = String(url.path.drop { $0 == "/" })
        guard !database.isEmpty else { throw MemoryError.invalidParameter("the database URL names no database") }
        self.host = host
        port = url.port ?? 5432
        user = url.user ?? ProcessInfo.processInfo.environment["PGUSER"] ?? "postgres"
        password = url.password ?? ProcessInfo.processInfo.environment["PGPASSWORD"]
        self.database = database
        let parameters = Dictionary((url.queryItems ?? []).map { ($0.name, $0.value ?? "") }) { $1 }
        if let unknown = parameters.keys.first(where: { !["sslmode", "timeout"].contains($0) }) {
            throw MemoryError.invalidParameter("the database URL has an unsupported parameter '\(unknown)' (supported: sslmode, timeout)")
        }
        let mode = parameters["sslmode"] ?? "disable"
        guard ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"].contains(mode) else {
            throw MemoryError.invalidParameter("the database URL's sslmode '\(mode)' is none of disable, require, verify-ca, verify-full")
        }
        requiresTLS = ["require", "verify-ca", "verify-full"].contains(mode)
        let seconds = parameters["timeout"].map { Double($0) } ?? 10
        guard let seconds, seconds.isFinite, seconds > 0, seconds <= 3_600 else {
            throw MemoryError.invalidParameter("the database URL's timeout must be a number of seconds in (0, 3600]")
        }
        operationTimeout = .milliseconds(Int((seconds * 1_000).rounded(.up)))
    }

    public var description: String { "postgres://\(user)@\(host):\(port)/\(database)" }

    func configuration(connectTimeout: Duration) throws -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS = requiresTLS ? .require(.makeClientConfiguration()) : .disable
        var configuration = PostgresClient.Configuration(host: host, port: port, username: user, password: password, database: database, tls: tls)
        configuration.options.connectTimeout = connectTimeout
        configuration.options.maximumConnections = 4
        return configuration
    }

    /// TLS for a connection of its own (the link's probe), as ``configuration(connectTimeout:)``'s.
    func connectionTLS() throws -> PostgresConnection.Configuration.TLS {
        requiresTLS ? .require(try NIOSSLContext(configuration: .makeClientConfiguration())) : .disable
    }
}
