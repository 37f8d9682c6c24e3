/// A search hit: the memory, its score (higher is better: the cosine similarity in vector mode,
/// BM25 in keyword mode, the fused score in hybrid mode) and the scores it was made of.
public struct MemoryHit: Sendable, Hashable {
    public var memory: Memory
    public var score: Float
    public var details = ScoreDetails()
}
