/// How two vectors are compared.
///
/// Scores follow each metric's natural sense: ``l2`` reports the squared Euclidean distance
/// (smaller is better); ``innerProduct`` and ``cosine`` report the similarity (larger is better).
/// Results are always sorted best first. Cosine vectors are normalized at insert and at query, so
/// cosine is computed as an inner product of unit vectors.
public enum Metric: String, Sendable, CaseIterable, Codable {
    /// Squared Euclidean distance; smaller is better.
    case l2
    /// Inner product; larger is better.
    case innerProduct = "ip"
    /// Cosine similarity (vectors normalized when stored and when they query); larger is better.
    case cosine

    /// Whether vectors are normalized to unit length when stored and queried.
    @inlinable public var normalizes: Bool { self == .cosine }

    /// Converts the internal distance (smaller is better for every metric) to the public score.
    @inlinable func score(fromDistance distance: Float) -> Float {
        self == .l2 ? distance : -distance
    }
}
