import Foundation
import NIOSSL
import PostgresNIO

/// Where a PostgreSQL record store lives: a `postgres://user:password@host:port/database` URL.
///
/// `sslmode=require` (or `verify-full`) in the query turns TLS on; the password may also come from
/// `$PGPASSWORD`. The URL is never logged or shown whole: ``description`` leaves the password out.
public struct PostgresLocation: Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int
    public let user: String
    let password: String?
    public let database: String
    public let requiresTLS: Bool

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
        let mode = url.queryItems?.first { $0.name == "sslmode" }?.value ?? "disable"
        requiresTLS = ["require", "verify-ca", "verify-full"].contains(mode)
    }

    public var description: String { "postgres://\(user)@\(host):\(port)/\(database)" }

    func configuration(connectTimeout: Duration) throws -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS = requiresTLS ? .require(.makeClientConfiguration()) : .disable
        var configuration = PostgresClient.Configuration(host: host, port: port, username: user, password: password, database: database, tls: tls)
        configuration.options.connectTimeout = connectTimeout
        configuration.options.maximumConnections = 4
        return configuration
    }
}
