import ArgumentParser
import EngramMemory
import Foundation

/// One line of a JSONL input file, with the file and line number for error messages.
struct JSONLine {
    let object: [String: Any]
    let location: String

    /// Every line of the file at `path` (blank lines skipped).
    /// - Throws: `ValidationError` naming the first line that is not a JSON object.
    static func read(_ path: String) throws -> [JSONLine] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").enumerated().compactMap { i, line in
            guard !line.allSatisfy(\.isWhitespace) else { return nil }
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw ValidationError("\(path):\(i + 1): expected a JSON object")
            }
            return JSONLine(object: object, location: "\(path):\(i + 1)")
        }
    }

    /// The value of `key` as text: a string as it is, a number in its JSON form.
    /// - Throws: `ValidationError` when the key is missing or holds anything else.
    func text(_ key: String) throws -> String {
        if let s = object[key] as? String { return s }
        if let raw = object[key], case let .number(x)? = MetadataValue(json: raw) {
            return x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(x)
        }
        throw ValidationError("\(location): expected \"\(key)\" (a string or a number)")
    }
}
