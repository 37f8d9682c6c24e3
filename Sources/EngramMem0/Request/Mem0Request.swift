import EngramMemory
import Foundation

/// The fields of a Mem0 request: its JSON body and its URL query (or one line of a JSONL file the
/// CLI reads), read loosely, as Mem0 clients send extra fields, but validated strictly where it
/// matters: scope, filters, metadata, numbers, messages.
package struct Mem0Request {
    package let object: [String: Any]
    package let query: [String: String]

    package init(object: [String: Any], query: [String: String] = [:]) {
        self.object = object
        self.query = query
    }

    /// A request from its body bytes (none: an empty object).
    /// - Throws: ``Mem0RequestError/malformed(_:)`` unless the body is a JSON object.
    package init(body: Data, query: [String: String] = [:]) throws {
        guard !body.isEmpty else {
            self.init(object: [:], query: query)
            return
        }
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw Mem0RequestError.malformed("the body must be a JSON object")
        }
        self.init(object: object, query: query)
    }

    /// One line of a JSONL file.
    /// - Throws: ``Mem0RequestError/malformed(_:)`` naming `location` unless the line is a JSON object.
    package init(line: some StringProtocol, location: String) throws {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw Mem0RequestError.malformed("\(location): expected a JSON object")
        }
        self.init(object: object)
    }

    private func value(_ key: String) -> Any? {
        guard let value = object[key] ?? query[key], !(value is NSNull) else { return nil }
        return value
    }

    package func string(_ key: String) throws -> String? {
        guard let value = value(key) else { return nil }
        guard let s = value as? String else { throw Mem0RequestError.invalid("'\(key)' must be a string") }
        return s
    }

    package func bool(_ key: String) throws -> Bool? {
        guard let value = value(key) else { return nil }
        if let number = value as? NSNumber, case .bool(let b)? = MetadataValue(json: number) { return b }
        switch (value as? String)?.lowercased() {
        case "true"?: return true
        case "false"?: return false
        default: throw Mem0RequestError.invalid("'\(key)' must be true or false")
        }
    }

    package func int(_ key: String, default fallback: Int, range: ClosedRange<Int>) throws -> Int {
        guard let value = value(key) else { return fallback }
        let number: Int? = switch value {
        case let n as NSNumber: MetadataValue(json: n).flatMap { if case let .number(x) = $0, x == x.rounded(), abs(x) < 1e15 { Int(x) } else { nil } }
        case let s as String: Int(s)
        default: nil
        }
        guard let number, range.contains(number) else {
            throw Mem0RequestError.invalid("'\(key)' must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return number
    }

    /// A finite number, if given.
    package func number(_ key: String) throws -> Double? {
        guard let value = value(key) else { return nil }
        guard let n = value as? NSNumber, case let .number(x)? = MetadataValue(json: n), x.isFinite else {
            throw Mem0RequestError.invalid("'\(key)' must be a number")
        }
        return x
    }

    /// `filters` in Mem0's grammar (none: everything).
    /// - Throws: ``FilterError`` naming the offending part.
    package func filter() throws -> MemoryFilter {
        guard let raw = object["filters"], !(raw is NSNull) else { return .all }
        return try MemoryFilter(jsonObject: raw)
    }

    package func metadata() throws -> [String: MetadataValue]? {
        guard let raw = object["metadata"], !(raw is NSNull) else { return nil }
        guard let dict = raw as? [String: Any] else { throw Mem0RequestError.invalid("'metadata' must be an object") }
        return try Mem0JSON.metadata(dict)
    }

    /// The scope named at the top level (or in the query), completed by the filters' equality
    /// conditions on user_id / agent_id / run_id, which Mem0 2.x clients send instead.
    package func scope(filter: MemoryFilter) throws -> MemoryScope {
        MemoryScope(userID: try string("user_id"), agentID: try string("agent_id"), runID: try string("run_id"))
            .merging(MemoryScope(pinnedBy: filter))
    }

    /// The scopes a search reads: the one ``scope(filter:)`` names, else the alternatives the
    /// filters name (``MemoryScope/alternatives(pinnedBy:)``: `user_id` `in` a list, an `OR` of scopes).
    package func scopes(filter: MemoryFilter) throws -> [MemoryScope] {
        let pinned = try scope(filter: filter)
        return pinned.isEmpty ? MemoryScope.alternatives(pinnedBy: filter) : [pinned]
    }

    /// An ISO-8601 time, or a day (`2026-12-31`: its start, UTC; with `dayEnds`, its last
    /// millisecond, as Mem0 reads an `expiration_date`).
    package func date(_ key: String, dayEnds: Bool = false) throws -> Date? {
        guard let text = try string(key) else { return nil }
        if let d = try? Date(text, strategy: .iso8601) { return d }
        if let d = try? Date(text + "T00:00:00Z", strategy: .iso8601) { return dayEnds ? d + 86_399.999 : d }
        throw Mem0RequestError.invalid("'\(key)' must be an ISO-8601 date")
    }

    /// `expiration_date`: absent (nil), null (`.never`: no expiry), or a time or day (its end).
    package func expiry() throws -> ExpiryChange? {
        guard object.keys.contains("expiration_date") || query["expiration_date"] != nil else { return nil }
        return try date("expiration_date", dayEnds: true).map(ExpiryChange.at) ?? .never
    }

    /// The fields of Mem0's API that Engram does not implement, refused by name rather than
    /// silently dropped (422).
    package func refuse(_ keys: [String: String]) throws {
        for key in keys.keys.sorted() where value(key) != nil {
            throw Mem0RequestError.invalid("'\(key)' is not supported: \(keys[key]!)")
        }
    }

    /// Whether any of `keys` is given (not null).
    package func names(_ keys: String...) -> Bool { keys.contains { value($0) != nil } }

    /// A memory id, if given.
    package func id(_ key: String) throws -> UUID? {
        guard let text = try string(key) else { return nil }
        guard let id = UUID(uuidString: text) else { throw Mem0RequestError.invalid("'\(key)' must be a memory id") }
        return id
    }

    /// Which versions a search or list sees: `as_of` (an ISO-8601 instant or day: what was valid
    /// then), `include_superseded: true` (every version), else what is current.
    package func validity() throws -> Validity {
        let asOf = try date("as_of"), every = try bool("include_superseded") ?? false
        if asOf != nil && every { throw Mem0RequestError.invalid("'as_of' and 'include_superseded' exclude each other") }
        return asOf.map(Validity.asOf) ?? (every ? .all : .current)
    }

    /// `dedup_threshold` in 0...1 (1 turns near-duplicate merging off); by default
    /// ``NearDuplicate/defaultThreshold``.
    package func dedupThreshold() throws -> Float {
        guard let t = try number("dedup_threshold") else { return NearDuplicate.defaultThreshold }
        guard (0...1).contains(t) else { throw Mem0RequestError.invalid("'dedup_threshold' must lie in 0...1 (1: off)") }
        return Float(t)
    }

    /// `recency_half_life_days` (a number > 0) as a duration, if given.
    package func recencyHalfLife() throws -> Duration? {
        guard let days = try number("recency_half_life_days") else { return nil }
        guard let halfLife = Duration.halfLife(days: days) else { throw Mem0RequestError.invalid("'recency_half_life_days' must be a number > 0") }
        return halfLife
    }

    /// `mode`: vector, keyword or hybrid (default).
    package func searchMode() throws -> SearchMode {
        guard let name = try string("mode") else { return .hybrid }
        guard let mode = SearchMode(rawValue: name) else { throw Mem0RequestError.invalid("'mode' must be vector, keyword or hybrid") }
        return mode
    }

    /// One message of a conversation.
    package struct Message: Sendable, Equatable {
        package var role: String
        package var content: String
        /// Who said it (`name`), when the message names one.
        package var name: String? = nil
    }

    /// `messages`: a string (a user message), one `{role, content}`, or a list of them; messages
    /// without text are dropped.
    package func messages() throws -> [Message] {
        try Self.messages(object["messages"])
    }

    private static func messages(_ raw: Any?) throws -> [Message] {
        switch raw {
        case let text as String: return try messages([["role": "user", "content": text]])
        case let message as [String: Any]: return try messages([message])
        case let list as [Any]:
            return try list.compactMap { item in
                guard let message = item as? [String: Any], let role = message["role"] as? String else {
                    throw Mem0RequestError.invalid("each message needs a 'role' and a 'content'")
                }
                guard let content = message["content"] as? String else { throw Mem0RequestError.invalid("message content must be text") }
                let name = (message["name"] as? String).flatMap { $0.isEmpty ? nil : $0 }
                return content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : Message(role: role, content: content, name: name)
            }
        default: throw Mem0RequestError.invalid("'messages' must be a list of {role, content}")
        }
    }
}

extension MemoryScope {
    /// `user_id=…, agent_id=…, run_id=…` for messages.
    package var mem0Description: String {
        [("user_id", userID), ("agent_id", agentID), ("run_id", runID)]
            .compactMap { k, v in v.map { "\(k)=\($0)" } }.joined(separator: ", ")
    }
}
