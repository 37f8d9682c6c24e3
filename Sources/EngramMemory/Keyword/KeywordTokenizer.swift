import Foundation

/// Splits text into the terms the keyword index counts: runs of letters and digits, lower-cased,
/// with diacritics removed ("Café" and "cafe" are one term). No stemming: measured on
/// debian-known-item, see the README. Anything else (punctuation, quotes, `*`, `-`, operators of
/// query languages) only separates terms, so no query text can be an error or an injection.
enum KeywordTokenizer {
    static func terms(_ text: String) -> [String] {
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
