import EngramSupport

/// An embedder that remembers the embeddings of the texts it was last asked for.
///
/// Agents ask the same questions again ("what does the user prefer?"), and a server's
/// throughput is bound by embedding its queries; a hit costs a dictionary lookup instead of a
/// transformer pass. Entries are keyed by model and text, so the cache never answers for another
/// model. Texts of one-text calls (queries, single adds) are remembered; those of larger batches
/// (imports) are looked up but not stored, so that a bulk load does not flush the queries out.
public final class CachingEmbedder: Embedder, Sendable {
    /// The embedder that computes what the cache does not hold.
    public let base: any Embedder
    /// The base embedder's dimension.
    public var dimension: Int { base.dimension }
    /// The base embedder's model name.
    public var modelName: String { base.modelName }
    private let state: Locked<State>

    private struct Key: Hashable {
        var model: String
        var text: String
    }

    private struct State {
        var cache: LRUCache<Key, [Float]>
        var hits = 0, misses = 0
    }

    /// - Parameter capacity: embeddings kept (at least 1); each takes `dimension` floats.
    public init(_ base: any Embedder, capacity: Int) {
        self.base = base
        state = Locked(State(cache: LRUCache(capacity: capacity)))
    }

    /// What the cache holds and how often it answered.
    public struct Statistics: Sendable, Equatable {
        /// Texts answered from the cache.
        public var hits: Int
        /// Texts the base embedder computed.
        public var misses: Int
        /// Embeddings held now.
        public var entries: Int
        /// Most embeddings held.
        public var capacity: Int

        /// Hits over lookups (0 before the first).
        public var hitRate: Double { hits + misses == 0 ? 0 : Double(hits) / Double(hits + misses) }
    }

    /// The cache's figures now.
    public var statistics: Statistics {
        state.withLock { Statistics(hits: $0.hits, misses: $0.misses, entries: $0.cache.count, capacity: $0.cache.capacity) }
    }

    /// One embedding per text, in order: cached ones at once, the rest from the base embedder in
    /// one call.
    /// - Throws: the base embedder's errors (nothing is cached then).
    public func embed(_ texts: [String]) async throws -> [[Float]] {
        let model = modelName
        var found = state.withLock { state in
            texts.map { text -> [Float]? in
                let vector = state.cache.value(Key(model: model, text: text))
                if vector == nil { state.misses += 1 } else { state.hits += 1 }
                return vector
            }
        }
        let missing = texts.indices.filter { found[$0] == nil }
        guard !missing.isEmpty else { return found.map { $0! } }
        let computed = try await base.embed(missing.map { texts[$0] })
        for (i, vector) in zip(missing, computed) { found[i] = vector }
        if texts.count == 1 { state.withLock { $0.cache.insert(computed[0], for: Key(model: model, text: texts[0])) } }
        return found.map { $0! }
    }
}
