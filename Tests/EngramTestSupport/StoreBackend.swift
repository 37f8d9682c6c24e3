import Foundation
import Synchronization

/// The record stores the memory and server suites run against: SQLite always; PostgreSQL when
/// `ENGRAM_TEST_POSTGRES` names a server to create throwaway databases on (an admin URL such as
/// `postgres://postgres@127.0.0.1:5432/postgres`). `.ci/run` starts one and sets
/// `ENGRAM_REQUIRE_POSTGRES=1`, under which a missing server fails the run instead of skipping.
public enum StoreBackend: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite, postgres

    public var description: String { rawValue }

    /// The admin URL of the test server, if one is configured.
    public static let server = ProcessInfo.processInfo.environment["ENGRAM_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }

    /// Whether the run must test PostgreSQL (and fail when it cannot).
    public static let postgresRequired = ProcessInfo.processInfo.environment["ENGRAM_REQUIRE_POSTGRES"] == "1"

    /// The backends of this run.
    public static var available: [StoreBackend] { server != nil || postgresRequired ? [.sqlite, .postgres] : [.sqlite] }

    /// The record of the store in `directory`: nil for SQLite (in the directory), else the URL of a
    /// database of its own, created on first use and dropped when the tests exit.
    public func database(for directory: String) throws -> String? {
        guard self == .postgres else { return nil }
        guard let server = Self.server else {
            throw BackendError("PostgreSQL tests need ENGRAM_TEST_POSTGRES (an admin URL of a server to create databases on)")
        }
        let name = Self.aliases.withLock { $0[directory] } ?? Self.name(for: directory)
        try Self.createOnce(name, on: server)
        guard var url = URLComponents(string: server) else { throw BackendError("ENGRAM_TEST_POSTGRES is not a URL") }
        url.path = "/" + name
        return url.string
    }

    private static let aliases = Mutex<[String: String]>([:])

    private static func name(for directory: String) -> String {
        "engram_test_" + String(UInt64(bitPattern: Int64(directory.hashValue)), radix: 36)
    }

    /// Makes the store in `copy` (a copy of `original`'s directory) use `original`'s record: a copy
    /// of a PostgreSQL store's directory holds only its index files.
    public static func share(_ copy: String, with original: String) {
        aliases.withLock { $0[copy] = $0[original] ?? name(for: original) }
    }

    public struct BackendError: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    private static let created = Mutex<Set<String>?>(nil)

    private static func createOnce(_ name: String, on server: String) throws {
        let isNew = created.withLock { names -> Bool in
            if names == nil {
                names = []
                atexit { StoreBackend.dropAll() }
            }
            return names!.insert(name).inserted
        }
        if isNew { try psql(server, "CREATE DATABASE \(name)") }
    }

    private static func dropAll() {
        guard let server else { return }
        for name in created.withLock({ $0 ?? [] }) { try? psql(server, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
    }

    /// Runs one SQL command with `psql`.
    public static func psql(_ url: String, _ command: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-c", command]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BackendError("psql: \(String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))")
        }
    }
}
