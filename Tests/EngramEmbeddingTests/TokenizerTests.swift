import Foundation
import Testing
import EngramEmbedding

enum Reference {
    struct Line: Decodable {
        let text: String
        let input_ids: [Int32]
        let embedding: [Float]
    }

    static let lines: [Line] = {
        var path = #filePath
        for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
        let text = try! String(contentsOfFile: path + "/data/minilm-reference/reference.jsonl", encoding: .utf8)
        return text.split(separator: "\n").map { try! JSONDecoder().decode(Line.self, from: Data($0.utf8)) }
    }()

    /// The model directory, or nil when it has not been fetched (`scripts/fetch-model`).
    static let modelDirectory: String? = try? ModelLocation.resolve(nil)
}

@Suite("WordPiece tokenizer", .enabled(if: Reference.modelDirectory != nil, "run scripts/fetch-model"))
struct TokenizerTests {
    @Test("token ids match the reference on every sentence, edge cases included")
    func matchesReference() throws {
        let tokenizer = try WordPieceTokenizer(vocabularyFile: Reference.modelDirectory! + "/vocab.txt", maxLength: 256)
        var mismatches: [String] = []
        for line in Reference.lines where tokenizer.encode(line.text) != line.input_ids {
            mismatches.append(line.text)
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(Reference.lines.count) differ, first: \(mismatches.prefix(3))")
    }
}
