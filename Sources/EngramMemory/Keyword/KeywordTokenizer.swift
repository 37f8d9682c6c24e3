import Foundation

/// Splits text into the terms the keyword index counts: runs of letters and digits, lower-cased,
/// with diacritics removed ("Café" and "cafe" are one term). No stemming yet: Porter stemming
/// measured +0.027 keyword and +0.008 hybrid MRR@10 on debian-known-item (README). Anything else (punctuation, quotes, `*`, `-`, operators of
/// query languages) only separates terms, so no query text can be an error or an injection.
enum KeywordTokenizer {
    static func terms(_ text: String) -> [String] {
        var text = text
        return text.withUTF8(asciiTerms) ?? unicodeTerms(text)
    }

    /// The common case, byte by byte (measured: with Foundation's folding for every text, 200k
    /// batched adds ran at 3,973/s instead of 4,730/s);
    /// nil at the first non-ASCII byte, for the Unicode path to redo the text.
    private static func asciiTerms(_ bytes: UnsafeBufferPointer<UInt8>) -> [String]? {
        var terms: [String] = []
        var start = -1
        var term: [UInt8] = []
        for (i, byte) in bytes.enumerated() {
            guard byte < 0x80 else { return nil }
            let isDigit = byte &- 0x30 < 10, isLetter = (byte | 0x20) &- 0x61 < 26
            if isDigit || isLetter {
                if start < 0 { start = i; term.removeAll(keepingCapacity: true) }
                term.append(isLetter ? byte | 0x20 : byte)
            } else if start >= 0 {
                terms.append(String(decoding: term, as: UTF8.self))
                start = -1
            }
        }
        if start >= 0 { terms.append(String(decoding: term, as: UTF8.self)) }
        return terms
    }

    private static func unicodeTerms(_ text: String) -> [String] {
        let folded = text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil)
        var terms: [String] = []
        var current = String.UnicodeScalarView()
        for scalar in folded.unicodeScalars {
            if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                current.append(scalar)
            } else if !current.isEmpty {
                terms.append(String(current))
                current = String.UnicodeScalarView()
            }
        }
        if !current.isEmpty { terms.append(String(current)) }
        return terms
    }
}
