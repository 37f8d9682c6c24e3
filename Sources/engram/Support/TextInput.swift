import ArgumentParser
import Foundation

/// Texts from a .txt (one per line) or .jsonl (`text` field) file.
enum TextInput {
    static func read(_ path: String) throws -> [String] {
        let content = try String(contentsOfFile: path, encoding: .utf8)
        var lines = content.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        if lines.last == "" { lines.removeLast() }
        guard path.hasSuffix(".jsonl") else { return lines }
        return try lines.enumerated().map { i, line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let text = object["text"] as? String
            else { throw ValidationError("\(path):\(i + 1): expected a JSON object with a string \"text\"") }
            return text
        }
    }
}
