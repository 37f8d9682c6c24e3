import Foundation
import Testing

@Suite("README")
struct ReadmeTests {
    static let root: String = {
        var path = #filePath
        for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path
    }()

    /// The lines of a text without their leading blanks, blank lines and imports dropped.
    static func code(_ text: String) -> [String] {
        var lines: [String] = []
        for line in text.split(separator: "\n") {
            let trimmed = String(line.drop { $0 == " " })
            if !trimmed.isEmpty && !trimmed.hasPrefix("import ") { lines.append(trimmed) }
        }
        return lines
    }

    @Test("every Swift snippet of the README is compiled: it appears verbatim in ReadmeExamples.swift")
    func snippetsCompile() throws {
        let readme = try String(contentsOfFile: Self.root + "/README.md", encoding: .utf8)
        let examples = Self.code(try String(contentsOfFile: Self.root + "/Tests/EngramReadmeTests/ReadmeExamples.swift", encoding: .utf8))
        let blocks: [String] = readme.components(separatedBy: "```swift\n").dropFirst().map { part in
            part.components(separatedBy: "```").first ?? ""
        }
        #expect(blocks.count >= 5)
        for block in blocks {
            let lines = Self.code(block)
            var found = false
            for start in 0..<max(0, examples.count - lines.count + 1) where Array(examples[start..<(start + lines.count)]) == lines {
                found = true
            }
            #expect(found, "README snippet not in ReadmeExamples.swift:\n\(block)")
        }
    }
}
