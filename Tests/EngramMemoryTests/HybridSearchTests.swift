import Foundation
import EngramTestSupport
import Testing
import EngramMemory

@Suite("Keyword and hybrid search")
struct HybridSearchTests {
    let alice = MemoryScope(userID: "alice"), bob = MemoryScope(userID: "bob")
    static let texts = [
        "the cat sat on the mat", "a dog chased the cat", "tea with milk and honey", "green tea is good for the heart",
        "the mat was red", "dogs and cats living together", "honey bees make honey", "Café au lait, s'il vous plaît",
        "Red wine and cheese", "the heart of the matter", "cat cat cat", "a quiet morning with tea",
    ]

    func store(_ backend: StoreBackend) async throws -> MemoryStore {
        let store = try temporaryStore(backend)
        try await store.add(Self.texts, scope: alice, metadata: ["n": 1])
        // Another tenant's words must not change alice's statistics.
        try await store.add(["cat " + String(repeating: "tea ", count: 30), "honey honey honey"], scope: bob)
        return store
    }

    /// Okapi BM25 (k1 1.2, b 0.75, idf ln(1 + (N - n + 0.5)/(n + 0.5))) over `docs`, computed directly.
    static func bm25(_ query: String, _ docs: [String]) -> [String: Float] {
        func terms(_ s: String) -> [String] {
            s.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil)
                .split { !$0.isLetter && !$0.isNumber }.map(String.init)
        }
        let tokenized = docs.map(terms)
        let n = Float(docs.count), avg = Float(tokenized.map(\.count).reduce(0, +)) / n
        var scores: [String: Float] = [:]
        for term in Set(terms(query)) {
            let df = Float(tokenized.count { $0.contains(term) })
            guard df > 0 else { continue }
            let idf = log(1 + (n - df + 0.5) / (df + 0.5))
            for (doc, words) in zip(docs, tokenized) {
                let tf = Float(words.count { $0 == term })
                guard tf > 0 else { continue }
                scores[doc, default: 0] += idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * Float(words.count) / avg))
            }
        }
        return scores
    }

    @Test("keyword scores are BM25 over the tenant's own memories, computed directly", arguments: StoreBackend.available)
    func bm25Scores(backend: StoreBackend) async throws {
        let store = try await store(backend)
        for query in ["cat", "the cat on the mat", "HONEY tea", "cafe", "heart matter red"] {
            let expected = Self.bm25(query, Self.texts)
            let hits = try await store.search(query, scope: alice, limit: 20, mode: .keyword)
            #expect(hits.count == expected.count, "\(query)")
            for hit in hits {
                #expect(abs(hit.score - expected[hit.memory.text]!) < 1e-4, "\(query): \(hit.memory.text)")
                #expect(hit.details.keyword == hit.score && hit.details.semantic == nil)
            }
            #expect(zip(hits, hits.dropFirst()).allSatisfy { $0.score >= $1.score })
        }
    }

    @Test("hybrid is the equal-weight sum of min-max normalized semantic and keyword scores at depth 100", arguments: StoreBackend.available)
    func fusion(backend: StoreBackend) async throws {
        let store = try await store(backend)
        for query in ["cat on a mat", "tea and honey", "red heart"] {
            let vector = try await store.search(query, scope: alice, limit: 100, mode: .vector)
            let keyword = try await store.search(query, scope: alice, limit: 100, mode: .keyword)
            var fused: [UUID: Float] = [:]
            for list in [vector, keyword] {
                let (high, low) = (list.map(\.score).max()!, list.map(\.score).min()!)
                for hit in list { fused[hit.memory.id, default: 0] += 0.5 * (high > low ? (hit.score - low) / (high - low) : 1) }
            }
            let hybrid = try await store.search(query, scope: alice, limit: 5, mode: .hybrid)
            let expected = fused.sorted { $0.value > $1.value }.prefix(5)
            #expect(zip(hybrid.map(\.score), expected.map(\.value)).allSatisfy { abs($0 - $1) < 1e-5 } && hybrid.count == 5)
            for hit in hybrid {
                #expect(abs(hit.score - fused[hit.memory.id]!) < 1e-5 && hit.details.fused == hit.score)
                #expect(hit.details.semantic == vector.first { $0.memory.id == hit.memory.id }?.score)
                #expect(hit.details.keyword == keyword.first { $0.memory.id == hit.memory.id }?.score)
            }
        }
    }

    @Test("scope and filters apply identically in every mode", arguments: StoreBackend.available)
    func filtersInEveryMode(backend: StoreBackend) async throws {
        let store = try temporaryStore(backend)
        var all: [Memory] = []
        for i in 0..<300 {
            let scope = [alice, bob, MemoryScope(userID: "alice", agentID: "helper")][i % 3]
            all += try await store.add(["note \(i) about \(["cats", "tea", "honey", "red wine"][i % 4]) and \(["mats", "hearts"][i % 2])"],
                                       scope: scope, metadata: ["n": .number(Double(i % 10))])
        }
        let filters: [MemoryFilter] = [.all, .gte("n", 5), .eq("agent_id", "helper"), !.eq("n", 3) && .lt("n", 8)]
        for mode in SearchMode.allCases {
            for filter in filters {
                for scope in [alice, bob, MemoryScope(agentID: "helper")] {
                    let hits = try await store.search("tea and cats on mats", scope: scope, filter: filter, limit: 300, mode: mode)
                    let allowed = Set(all.filter { scope.contains($0.scope) && filter.matches($0) }.map(\.id))
                    #expect(hits.allSatisfy { allowed.contains($0.memory.id) }, "\(mode) \(filter) \(scope)")
                    if mode == .keyword {
                        // Every allowed memory has "and" and "about": keyword search finds all of them.
                        #expect(Set(hits.map(\.memory.id)) == allowed, "\(filter) \(scope)")
                    }
                }
            }
        }
    }

    @Test("after heavy churn (half the memories rewritten twelve times, some deleted) keyword scores are still BM25 over what is live", arguments: StoreBackend.available)
    func churn(backend: StoreBackend) async throws {
        let store = try await store(backend)
        _ = try await store.search("warm up", scope: alice, mode: .keyword)  // the partition's index exists now
        var live = try store.list(scope: alice, limit: 100).memories
        // 72 removals while the other half stays: the index renumbers its documents (past 64 removed)
        // with memories from before and after that in it.
        for round in 1...12 {
            for i in 0..<6 {
                live[i] = try await store.update(live[i].id, text: Self.texts[(i + round) % Self.texts.count] + " round \(round) item \(i)")
            }
        }
        try await store.delete(live.removeLast().id)
        let texts = live.map(\.text)
        for query in ["cat", "the cat on the mat", "honey tea round 12", "item 3", "heart matter red", "morning wine"] {
            let expected = Self.bm25(query, texts)
            let hits = try await store.search(query, scope: alice, limit: 50, mode: .keyword)
            #expect(hits.count == expected.count, "\(query)")
            for hit in hits { #expect(abs(hit.score - expected[hit.memory.text]!) < 1e-4, "\(query): \(hit.memory.text)") }
        }
    }

    @Test("updates and deletes reach the keyword index at once", arguments: StoreBackend.available)
    func keywordIndexFollowsWrites(backend: StoreBackend) async throws {
        let store = try await store(backend)
        _ = try await store.search("warm up", scope: alice, mode: .keyword)  // the partition's index exists now
        let zebra = try await store.add(["a zebra crossing"], scope: alice)[0]
        #expect(try await store.search("zebra", scope: alice, mode: .keyword).map(\.memory.id) == [zebra.id])
        try await store.update(zebra.id, text: "a giraffe crossing")
        #expect(try await store.search("zebra", scope: alice, mode: .keyword).isEmpty)
        #expect(try await store.search("giraffe", scope: alice, mode: .keyword).map(\.memory.id) == [zebra.id])
        try await store.delete(zebra.id)
        #expect(try await store.search("giraffe crossing", scope: alice, mode: .keyword).isEmpty)
        try await store.deleteAll(scope: alice)
        #expect(try await store.search("cat", scope: alice, mode: .keyword).isEmpty)
        try await store.add(["cat again"], scope: alice)
        #expect(try await store.search("cat", scope: alice, mode: .keyword).map(\.memory.text) == ["cat again"])
    }

    @Test("query syntax characters are plain text, never an error or an injection", arguments: [
        "", "   ", "!!!", "\"unbalanced", "*", "cat*", "NEAR(cat mat)", "-cat", "cat OR", "AND OR NOT", "'; DROP TABLE memory; --",
        "{user_id}: cat", "^cat", "cat:mat", "(((",
    ])
    func hostileQueries(_ query: String) async throws {
        let store = try await store(.sqlite)
        for mode in SearchMode.allCases {
            let hits = try await store.search(query, scope: alice, mode: mode)
            #expect(hits.allSatisfy { $0.memory.scope == alice })
            if mode == .keyword { #expect(Set(hits.map(\.memory.text)) == Set(Self.bm25(query, Self.texts).keys.prefix(10)) || hits.count == 10) }
        }
        #expect(try store.list(scope: alice).total == Self.texts.count)
    }
}
