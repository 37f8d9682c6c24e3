import EngramIndex
import Foundation

extension MemoryStore {
    /// The memories in `scope` that best match `query`, passing `filter`, best first.
    /// - Parameters:
    ///   - query: what to look for, in words.
    ///   - scope: at least one field set; only memories inside it are found.
    ///   - filter: Mem0's filter grammar (see ``MemoryFilter``).
    ///   - limit: the most hits (positive).
    ///   - threshold: minimum semantic (cosine) similarity a hit must reach, in every mode.
    ///   - mode: vector, keyword (BM25) or hybrid (both, fused).
    ///   - validity: what is true now (default), at an instant, or every version.
    ///   - recencyHalfLife: when given (positive), each score is weighed by 2^(−age / half-life),
    ///     the age of the fact (from its `validFrom`) at the as-of instant or now; the factor is
    ///     in ``ScoreDetails/recency``.
    /// - Throws: ``MemoryError`` for a bad limit, half-life or an empty scope; embedder errors.
    public func search(_ query: String, scope: MemoryScope, filter: MemoryFilter = .all, limit: Int = 10,
                       threshold: Float? = nil, mode: SearchMode = .hybrid, validity: Validity = .current,
                       recencyHalfLife: Duration? = nil) async throws -> [MemoryHit] {
        let vector = mode != .keyword || threshold != nil ? try await embedder.embed([query])[0] : nil
        return try search(query, vector: vector, scope: scope, filter: filter, limit: limit, threshold: threshold, mode: mode,
                          validity: validity, recencyHalfLife: recencyHalfLife)
    }

    /// `search(_:scope:filter:limit:threshold:mode:validity:recencyHalfLife:)` with the query's
    /// embedding given (nil only in keyword mode without a threshold).
    /// - Complexity: the filter's posting-list work, then a graph search of the tenant (large
    ///   tenants) or an exact scan of the allowed memories, and BM25 over the query's terms.
    public func search(_ query: String, vector: [Float]?, scope: MemoryScope, filter: MemoryFilter = .all, limit: Int = 10,
                       threshold: Float? = nil, mode: SearchMode = .hybrid, validity: Validity = .current,
                       recencyHalfLife: Duration? = nil) throws -> [MemoryHit] {
        try MemoryValidation.check(scope: scope)
        return try search(query, vector: vector, reach: .scope(scope), filter: filter, limit: limit, threshold: threshold, mode: mode,
                          validity: validity, recencyHalfLife: recencyHalfLife)
    }

    /// The memories of several scopes at once (several users, an agent across its users …) that
    /// best match `query`, ranked on one scale: as ``search(_:vector:scope:filter:limit:threshold:mode:validity:recencyHalfLife:)``
    /// with a memory in any of `scopes` a candidate. The caller decides that the asker may see
    /// every one of them.
    /// - Throws: ``MemoryError`` for no scope, more than ``maxScopesPerSearch``, an empty or bad one.
    /// - Complexity: one search over the union of the scopes' candidates: an exact scan when
    ///   they span partitions.
    public func search(_ query: String, vector: [Float]?, scopes: [MemoryScope], filter: MemoryFilter = .all, limit: Int = 10,
                       threshold: Float? = nil, mode: SearchMode = .hybrid, validity: Validity = .current,
                       recencyHalfLife: Duration? = nil) throws -> [MemoryHit] {
        guard !scopes.isEmpty else { throw MemoryError.missingScope }
        guard scopes.count <= Self.maxScopesPerSearch else { throw MemoryError.invalidParameter("at most \(Self.maxScopesPerSearch) scopes per search") }
        for scope in scopes { try MemoryValidation.check(scope: scope) }
        return try search(query, vector: vector, reach: .of(scopes), filter: filter, limit: limit, threshold: threshold, mode: mode,
                          validity: validity, recencyHalfLife: recencyHalfLife)
    }

    /// The searches' common part, the scopes checked.
    private func search(_ query: String, vector: [Float]?, reach: MemorySearch.Reach, filter: MemoryFilter, limit: Int,
                        threshold: Float?, mode: SearchMode, validity: Validity, recencyHalfLife: Duration?) throws -> [MemoryHit] {
        try ensureOpen()
        guard limit > 0 else { throw MemoryError.invalidParameter("limit must be positive") }
        if let recencyHalfLife, recencyHalfLife <= .zero { throw MemoryError.invalidParameter("the recency half-life must be positive") }
        guard vector != nil || (mode == .keyword && threshold == nil) else {
            throw MemoryError.invalidParameter("\(mode) search needs the query's embedding")
        }
        if let vector { try MemoryValidation.check(vector: vector, dimension: embedder.dimension) }
        let search = MemorySearch(state: writer.state, vectors: writer.vectors, reach: reach, filter: filter, now: Date(),
                                  validity: validity, recencyHalfLife: recencyHalfLife)
        let outcome = try search.run(query, vector: vector, limit: limit, threshold: threshold, mode: mode)
        if let built = outcome.builtKeyword { installKeyword(built.index, builtFrom: built.partition) }
        return outcome.hits
    }

    /// The most scopes one search may name.
    public static let maxScopesPerSearch = 1_000

    /// ``search(_:vector:scopes:filter:limit:threshold:mode:validity:recencyHalfLife:)``, the query embedded by the store's embedder.
    public func search(_ query: String, scopes: [MemoryScope], filter: MemoryFilter = .all, limit: Int = 10,
                       threshold: Float? = nil, mode: SearchMode = .hybrid, validity: Validity = .current,
                       recencyHalfLife: Duration? = nil) async throws -> [MemoryHit] {
        let vector = mode != .keyword || threshold != nil ? try await embedder.embed([query])[0] : nil
        return try search(query, vector: vector, scopes: scopes, filter: filter, limit: limit, threshold: threshold, mode: mode,
                          validity: validity, recencyHalfLife: recencyHalfLife)
    }

    /// ``search(_:vector:scope:filter:limit:threshold:mode:)`` in vector mode.
    public func search(vector: [Float], scope: MemoryScope, filter: MemoryFilter = .all, limit: Int = 10,
                       threshold: Float? = nil) throws -> [MemoryHit] {
        try search("", vector: vector, scope: scope, filter: filter, limit: limit, threshold: threshold, mode: .vector)
    }
}
