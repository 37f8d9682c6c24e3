import EngramMemory
import Foundation

/// What an API key may see and change.
public struct KeyScope: Sendable, Equatable {
    /// Users whose memories the key reaches (nil: any).
    public var users: Set<String>?
    /// Agents whose memories the key reaches (nil: any).
    public var agents: Set<String>?

    /// Every user and agent.
    public static let unrestricted = KeyScope(users: nil, agents: nil)

    /// A scope; nil for a field means any value.
    public init(users: Set<String>?, agents: Set<String>?) {
        self.users = users
        self.agents = agents
    }

    /// Whether every memory in `scope` is within reach: a restricted field must be named, with an
    /// allowed value.
    public func allows(_ scope: MemoryScope) -> Bool {
        (users.map { scope.userID.map($0.contains) ?? false } ?? true) && (agents.map { scope.agentID.map($0.contains) ?? false } ?? true)
    }
}

/// The server's API keys and their scopes.
public struct APIKeys: Sendable {
    private let keys: [(key: [UInt8], scope: KeyScope)]

    /// No keys: every request is let in (the server then only listens on loopback).
    public static let none = APIKeys(keys: [])

    /// Whether no key is configured (the server then refuses non-loopback addresses).
    public var isEmpty: Bool { keys.isEmpty }

    init(keys: [(key: [UInt8], scope: KeyScope)]) { self.keys = keys }

    /// Keys from `ENGRAM_API_KEY` (unrestricted) and a JSON file mapping each key to its
    /// restriction: `{}` (none), `{"user_id": ["alice"]}`, `{"agent_id": ["planner"]}`.
    /// - Throws: ``ServerError`` naming the file's problem.
    public static func load(environmentKey: String?, file: String?) throws -> APIKeys {
        var keys: [(key: [UInt8], scope: KeyScope)] = []
        if let environmentKey, !environmentKey.isEmpty { keys.append((Array(environmentKey.utf8), .unrestricted)) }
        if let file {
            guard let data = FileManager.default.contents(atPath: file),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw ServerError.configuration("\(file): expected a JSON object of key → restriction")
            }
            for (key, raw) in object.sorted(by: { $0.key < $1.key }) {
                guard !key.isEmpty, let restriction = raw as? [String: Any] else { throw ServerError.configuration("\(file): '\(key)' needs an object") }
                func names(_ field: String) throws -> Set<String>? {
                    guard let value = restriction[field] else { return nil }
                    guard let list = value as? [String] else { throw ServerError.configuration("\(file): '\(key)'.\(field) must be a list of strings") }
                    return Set(list)
                }
                if let unknown = restriction.keys.first(where: { $0 != "user_id" && $0 != "agent_id" }) {
                    throw ServerError.configuration("\(file): '\(key)' has unknown restriction '\(unknown)'")
                }
                keys.append((Array(key.utf8), KeyScope(users: try names("user_id"), agents: try names("agent_id"))))
            }
        }
        return APIKeys(keys: keys)
    }

    /// The scope of `presented`, nil when it matches no key. Every key is compared in full, in
    /// time independent of where the bytes differ.
    func scope(of presented: String) -> KeyScope? {
        let bytes = Array(presented.utf8)
        var found: KeyScope?
        for (key, scope) in keys where Self.constantTimeEqual(key, bytes) { found = scope }
        return found
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count) | (a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) {
            difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0
    }
}
