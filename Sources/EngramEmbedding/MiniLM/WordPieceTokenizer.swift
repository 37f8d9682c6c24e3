import Foundation

/// BERT's uncased WordPiece tokenizer, exactly as the reference (Hugging Face `BertTokenizer` /
/// `tokenizers` BertNormalizer + BertPreTokenizer + WordPiece):
///
/// 1. clean: drop U+0000, U+FFFD and control/format characters; every whitespace becomes a space;
/// 2. put spaces around CJK ideographs;
/// 3. strip accents (NFD, drop non-spacing marks) and lower-case;
/// 4. split on whitespace and on every punctuation character (ASCII symbols and Unicode P*);
/// 5. WordPiece each word: greedy longest match, `##` for continuations, `[UNK]` for a word that
///    cannot be covered or is longer than 100 characters;
/// 6. `[CLS] … [SEP]`, truncated to the model's maximum length.
public struct WordPieceTokenizer: Sendable {
    let vocabulary: [String: Int32]
    /// Longest sequence, [CLS] and [SEP] included; longer texts are truncated.
    public let maxLength: Int
    let cls: Int32, sep: Int32, unk: Int32, pad: Int32
    static let maxCharactersPerWord = 100

    /// Loads `vocab.txt` (one token per line, line number = id).
    public init(vocabularyFile path: String, maxLength: Int) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var vocabulary: [String: Int32] = [:]
        for (i, token) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !token.isEmpty {
            vocabulary[String(token.hasSuffix("\r") ? token.dropLast() : token)] = Int32(i)
        }
        guard let cls = vocabulary["[CLS]"], let sep = vocabulary["[SEP]"], let unk = vocabulary["[UNK]"], let pad = vocabulary["[PAD]"] else {
            throw EmbeddingError.invalidModel(path: path, reason: "vocabulary lacks [CLS], [SEP], [UNK] or [PAD]")
        }
        self.vocabulary = vocabulary
        self.maxLength = maxLength
        (self.cls, self.sep, self.unk, self.pad) = (cls, sep, unk, pad)
    }

    /// Token ids of `text`, with `[CLS]` and `[SEP]`, at most ``maxLength`` long.
    public func encode(_ text: String) -> [Int32] {
        var ids: [Int32] = [cls]
        let budget = maxLength - 1
        outer: for word in Self.words(of: text) {
            for piece in wordPieces(word) {
                guard ids.count < budget else { break outer }
                ids.append(piece)
            }
        }
        ids.append(sep)
        return ids
    }

    /// Steps 1–4: normalized words.
    static func words(of text: String) -> [String] {
        var cleaned = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            let v = scalar.value
            if v == 0 || v == 0xFFFD { continue }
            if isWhitespace(scalar) {
                cleaned.append(" ")
            } else if isControl(scalar) {
                continue
            } else if isCJK(v) {
                cleaned.append(" ")
                cleaned.append(scalar)
                cleaned.append(" ")
            } else {
                cleaned.append(scalar)
            }
        }
        let normalized = String(cleaned).decomposedStringWithCanonicalMapping.unicodeScalars
            .filter { $0.properties.generalCategory != .nonspacingMark }
        var words: [String] = []
        var current = String.UnicodeScalarView()
        func flush() {
            if !current.isEmpty { words.append(String(current).lowercased()) }
            current = String.UnicodeScalarView()
        }
        for scalar in normalized {
            if scalar == " " {
                flush()
            } else if isPunctuation(scalar) {
                flush()
                words.append(String(scalar).lowercased())
            } else {
                current.append(scalar)
            }
        }
        flush()
        return words
    }

    /// Step 5 for one word.
    func wordPieces(_ word: String) -> [Int32] {
        let chars = Array(word.unicodeScalars)
        guard chars.count <= Self.maxCharactersPerWord else { return [unk] }
        var pieces: [Int32] = []
        var start = 0
        while start < chars.count {
            var end = chars.count
            var found: Int32?
            while start < end {
                var candidate = String(String.UnicodeScalarView(chars[start..<end]))
                if start > 0 { candidate = "##" + candidate }
                if let id = vocabulary[candidate] {
                    found = id
                    break
                }
                end -= 1
            }
            guard let id = found else { return [unk] }
            pieces.append(id)
            start = end
        }
        return pieces
    }

    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        s == " " || s == "\t" || s == "\n" || s == "\r" || s.properties.generalCategory == .spaceSeparator
    }

    static func isControl(_ s: Unicode.Scalar) -> Bool {
        if s == "\t" || s == "\n" || s == "\r" { return false }
        switch s.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned: return true
        default: return false
        }
    }

    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) { return true }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation: return true
        default: return false
        }
    }

    static func isCJK(_ v: UInt32) -> Bool {
        (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x20000...0x2A6DF).contains(v)
            || (0x2A700...0x2B73F).contains(v) || (0x2B740...0x2B81F).contains(v) || (0x2B820...0x2CEAF).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0x2F800...0x2FA1F).contains(v)
    }
}
