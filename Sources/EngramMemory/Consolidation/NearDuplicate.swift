/// When an added text is the same fact as a stored one although its words differ a little
/// (`Prefers oolong tea` / `prefers oolong tea!`): its embedding's cosine with the stored one's
/// reaches a threshold, neither text negates what the other says, and both hold the same numbers
/// (`room 12` is not `room 21`; dates, amounts and versions are facts of their own).
///
/// The negation guard is there because embeddings barely see negation: with MiniLM, `I live in
/// Lisbon.` and `I no longer live in Lisbon.` reach 0.97 (`Benchmarks/scripts/dedup_study.py`).
/// Its cues are English words; other languages rely on the threshold alone.
public enum NearDuplicate {
    /// The threshold measured on fact pairs (dedup_study.py, MiniLM): at 0.9, 99.4% of small
    /// edits merge, 2.6% of rewordings, no fact with another value, and no negation once the
    /// guard applies (35% without it).
    public static let defaultThreshold: Float = 0.9

    /// Whether `a` and `b`, of cosine `similarity`, are one fact under `threshold`.
    public static func isSameFact(_ a: String, _ b: String, similarity: Float, threshold: Float) -> Bool {
        similarity >= threshold && negations(a) == negations(b) && numbers(a) == numbers(b)
    }

    /// The digit runs of a text, in order.
    static func numbers(_ text: String) -> [Substring] {
        text.split(whereSeparator: { !$0.isNumber })
    }

    /// The negation cues a text holds (lowercased words; `n't` for every contraction of not).
    static func negations(_ text: String) -> Set<String> {
        var found = Set<String>()
        for word in text.lowercased().split(whereSeparator: { !$0.isLetter && $0 != "'" && $0 != "’" }) {
            let w = word.replacingOccurrences(of: "’", with: "'")
            if w.hasSuffix("n't") { found.insert("n't") } else if cues.contains(w) { found.insert(w) }
        }
        return found
    }

    private static let cues: Set<String> = [
        "not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "cannot", "without", "anymore",
        "longer", "quit", "quitted", "stopped", "gave", "formerly", "false", "untrue",
    ]
}
