/// One search hit: the external id and its score in the metric's natural sense (see ``Metric``).
public struct SearchResult: Hashable, Sendable {
    /// The id the vector was added with.
    public var id: UInt64
    /// The score in the metric's natural sense (see ``Metric``).
    public var score: Float

    /// A result.
    @inlinable public init(id: UInt64, score: Float) {
        self.id = id
        self.score = score
    }
}
