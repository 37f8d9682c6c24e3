/// A search hit: the memory, its score (higher is better: the cosine similarity in vector mode,
/// BM25 in keyword mode, the fused score in hybrid mode) and the scores it was made of.
public struct MemoryHit: Sendable, Hashable {
    /// The memory found.
    public var memory: Memory
    /// Higher is better; what it measures depends on the ``SearchMode``.
    public var score: Float
    /// The scores it was made of.
    public var details = ScoreDetails()
}
