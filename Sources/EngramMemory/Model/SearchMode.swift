/// How a text query is matched.
public enum SearchMode: String, Sendable, CaseIterable, Codable {
    /// Embedding similarity only.
    case vector
    /// BM25 over the words of the text only.
    case keyword
    /// Both rankings fused (the default: best on the measured data, see README).
    case hybrid
}
