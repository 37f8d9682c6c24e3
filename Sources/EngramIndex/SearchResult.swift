/// One search hit: the external id and its score in the metric's natural sense (see ``Metric``).
public struct SearchResult: Hashable, Sendable {
    public var id: UInt64
    public var score: Float

    @inlinable public init(id: UInt64, score: Float) {
        self.id = id
        self.score = score
    }
}
