import EngramSupport
import Foundation
import Logging

/// A swift-log handler that writes one JSON object per line to standard error: `time` (ISO 8601),
/// `level`, `label`, `message` and the metadata's fields (`engram serve --log-format json`), for
/// log collectors that parse lines.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        var fields: [(String, JSONValue)] = [
            ("time", .string(Date().formatted(.iso8601.time(includingFractionalSeconds: true).year().month().day().dateSeparator(.dash)))),
            ("level", .string(event.level.rawValue)), ("label", .string(label)), ("message", .string(event.message.description)),
        ]
        fields += merged.keys.sorted().map { key in (key == "hb.request.id" ? "request_id" : key, Self.value(merged[key]!)) }
        FileHandle.standardError.write(Data((JSONValue.object(fields).text + "\n").utf8))
    }

    private static func value(_ v: Logger.Metadata.Value) -> JSONValue {
        switch v {
        case let .string(s): .string(s)
        case let .stringConvertible(c): (c as? Int).map(JSONValue.int) ?? .string(c.description)
        case let .array(items): .array(items.map(value))
        case let .dictionary(d): .object(d.keys.sorted().map { ($0, value(d[$0]!)) })
        }
    }
}
