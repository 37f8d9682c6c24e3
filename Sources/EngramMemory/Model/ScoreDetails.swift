/// The scores behind a hit, shaped like Mem0's `score_details`; a score is nil when the hit did
/// not come from that ranking (or, for `semantic`, when no query vector was needed).
public struct ScoreDetails: Sendable, Hashable {
    /// Cosine similarity with the query vector.
    public var semantic: Float?
    /// BM25 score of the query's terms.
    public var keyword: Float?
    /// The fused score (hybrid mode): the weighted sum of the min-max normalized semantic and
    /// keyword scores over the candidates of each ranking.
    public var fused: Float?
    /// The recency factor the score was weighed by, 2^(−age / half-life) (searches with a
    /// recency half-life only).
    public var recency: Float?

    /// Details; nil where a ranking did not contribute.
    public init(semantic: Float? = nil, keyword: Float? = nil, fused: Float? = nil, recency: Float? = nil) {
        self.semantic = semantic
        self.keyword = keyword
        self.fused = fused
        self.recency = recency
    }
}
