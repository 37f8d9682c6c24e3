import Foundation

/// A prompt-ready context: the memories that best answer a query and fit a token budget, one
/// dated line each.
public struct Recall: Sendable, Hashable {
    /// The lines, `[2026-03-04] prefers tea`, best first, joined by newlines.
    public var context: String
    /// The memories behind the lines, in the same order.
    public var memories: [MemoryHit]
    /// What the context takes, by the counter used.
    public var tokens: Int
}

/// How ``MemoryStore/recall(_:scope:filter:budgetTokens:options:)`` chooses and counts.
public struct RecallOptions: Sendable {
    /// Versions seen (current by default).
    public var validity: Validity = .current
    /// Weighs relevance by age (see ``MemoryStore/search(_:scope:filter:limit:threshold:mode:validity:recencyHalfLife:)``).
    public var recencyHalfLife: Duration?
    /// The search mode that finds the candidates.
    public var mode: SearchMode = .hybrid
    /// Maximal marginal relevance: 1 ranks by relevance alone, lower values prefer memories unlike
    /// those already chosen (cosine of their embeddings).
    public var lambda: Float = 0.7
    /// A candidate at least this similar (cosine) to a chosen memory is a near-duplicate: dropped.
    public var duplicateSimilarity: Float = 0.95
    /// The candidates considered (the best of a search).
    public var candidates: Int = 50
    /// Counts the context's tokens.
    public var counter: any TokenCounter = EstimatedTokenCounter()

    public init(validity: Validity = .current, recencyHalfLife: Duration? = nil, mode: SearchMode = .hybrid, lambda: Float = 0.7,
                counter: any TokenCounter = EstimatedTokenCounter()) {
        self.validity = validity
        self.recencyHalfLife = recencyHalfLife
        self.mode = mode
        self.lambda = lambda
        self.counter = counter
    }
}

extension Recall: CustomStringConvertible {
    public var description: String { context }
}
