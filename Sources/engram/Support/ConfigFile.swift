import ArgumentParser
import Foundation
import TOMLKit

/// A TOML file of a command's options (`engram serve --config engram.toml`): each key is an
/// option's name (`port`, `checkpoint-interval` or `checkpoint_interval`), each value of the
/// option's type. The file is turned into arguments placed before the command line's own, so that
/// a flag given on the command line overrides the file.
struct ConfigFile {
    /// What a key takes.
    enum Kind {
        /// A value (string or number).
        case value
        /// `true` → `--name`, `false` → `--no-name`.
        case invertibleFlag
        /// `true` → `--name`, `false` → nothing.
        case flag
    }

    /// The keys `engram serve` accepts: every option it has but `--config`.
    static let serve: [String: Kind] = [
        "store": .value, "database": .value, "embedder": .value, "model": .value, "precision": .value,
        "host": .value, "port": .value, "api-keys": .value, "llm-url": .value, "llm-model": .value,
        "embed-threads": .value, "embed-batch": .value, "query-cache": .value, "checkpoint-interval": .value, "idle-timeout": .value,
        "log-format": .value, "metrics": .invertibleFlag, "public-metrics": .flag,
    ]

    /// `arguments` with `--config FILE` (or `--config=FILE`) after the command replaced by the
    /// file's options, placed right after the command name.
    /// - Throws: `ValidationError` naming the file and the key (or the TOML error's place).
    static func expand(_ arguments: [String], command: String, keys: [String: Kind]) throws -> [String] {
        guard arguments.first == command else { return arguments }
        var rest = Array(arguments.dropFirst()), path: String?
        if let i = rest.firstIndex(of: "--config") {
            guard i + 1 < rest.count else { throw ValidationError("--config needs a file") }
            path = rest[i + 1]
            rest.removeSubrange(i...(i + 1))
        } else if let i = rest.firstIndex(where: { $0.hasPrefix("--config=") }) {
            path = String(rest[i].dropFirst("--config=".count))
            rest.remove(at: i)
        }
        guard let path else { return arguments }
        return [command] + (try options(path, keys: keys)) + rest
    }

    /// The options the file at `path` sets, as arguments.
    static func options(_ path: String, keys: [String: Kind]) throws -> [String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ValidationError("\(path): cannot read it") }
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch let error as TOMLParseError {
            throw ValidationError("\(path): line \(error.source.begin.line): \(error.description)")
        }
        var arguments: [String] = []
        for key in table.keys.sorted() {
            let name = key.replacingOccurrences(of: "_", with: "-")
            guard let kind = keys[name] else {
                throw ValidationError("\(path): unknown key '\(key)' (keys: \(keys.keys.sorted().joined(separator: ", ")))")
            }
            let value = table[key]!
            switch kind {
            case .value:
                if let s = value.string { arguments += ["--\(name)", s] }
                else if let i = value.int { arguments += ["--\(name)", String(i)] }
                else if let d = value.double { arguments += ["--\(name)", String(d)] }
                else { throw ValidationError("\(path): key '\(key)' must be a string or a number, not \(value.type)") }
            case .invertibleFlag, .flag:
                guard let b = value.bool else { throw ValidationError("\(path): key '\(key)' must be true or false, not \(value.type)") }
                if b { arguments.append("--\(name)") } else if kind == .invertibleFlag { arguments.append("--no-\(name)") }
            }
        }
        return arguments
    }
}
