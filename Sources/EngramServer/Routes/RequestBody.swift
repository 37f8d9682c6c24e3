import EngramMemory
import Foundation
import Hummingbird

/// A request's JSON body and query, read loosely (Mem0 clients send extra fields) but validated
/// strictly where it matters: scope, filters, metadata, numbers.
struct RequestBody {
    let object: [String: Any]
    let query: [String: String]

    init(_ request: Request, _ context: ServerContext) async throws {
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { query[String(key)] = String(value).removingPercentEncoding ?? String(value) }
        self.query = query
        var request = request
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)
        guard buffer.readableBytes > 0 else { object = [:]; return }
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any] else {
            throw ServerError.badRequest("the body must be a JSON object")
        }
        self.object = object
    }

    func string(_ key: String) throws -> String? {
        guard let value = object[key] ?? query[key], !(value is NSNull) else { return nil }
        guard let s = value as? String else { throw ServerError.unprocessable("'\(key)' must be a string") }
        return s
    }

    func int(_ key: String, default fallback: Int, range: ClosedRange<Int>) throws -> Int {
        guard let value = object[key] ?? query[key], !(value is NSNull) else { return fallback }
        guard let n = (value as? Int) ?? (value as? String).flatMap(Int.init), range.contains(n) else {
            throw ServerError.unprocessable("'\(key)' must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return n
    }

    func filter() throws -> MemoryFilter {
        guard let raw = object["filters"], !(raw is NSNull) else { return .all }
        return try MemoryFilter(jsonObject: raw)
    }

    func metadata() throws -> [String: MetadataValue]? {
        guard let raw = object["metadata"], !(raw is NSNull) else { return nil }
        guard let dict = raw as? [String: Any] else { throw ServerError.unprocessable("'metadata' must be an object") }
        return try Mem0JSON.metadata(dict)
    }

    /// The scope named at the top level (or in the query), completed by the filters' equality
    /// conditions on user_id / agent_id / run_id, which Mem0 2.x clients send instead.
    func scope(filter: MemoryFilter) throws -> MemoryScope {
        MemoryScope(userID: try string("user_id"), agentID: try string("agent_id"), runID: try string("run_id"))
            .merging(MemoryScope(pinnedBy: filter))
    }

    /// An ISO-8601 date or day (`2026-12-31`), for `expiration_date`.
    func date(_ key: String) throws -> Date? {
        guard let text = try string(key) else { return nil }
        if let d = try? Date(text, strategy: .iso8601) { return d }
        if let d = try? Date(text + "T00:00:00Z", strategy: .iso8601) { return d }
        throw ServerError.unprocessable("'\(key)' must be an ISO-8601 date")
    }
}
