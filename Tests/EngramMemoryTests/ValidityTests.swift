import EngramSupport
import Foundation
import EngramTestSupport
import Testing
import EngramMemory

@Suite("Validity, supersession, as-of and recency")
struct ValidityTests {
    let alice = MemoryScope(userID: "alice")
    static let day: TimeInterval = 86_400

    /// Adds `text` to `scope` (valid from `from`, superseding `old`), embedded by WordsEmbedder.
    @discardableResult
    func add(_ store: MemoryStore, _ text: String, _ scope: MemoryScope, from: Date? = nil, supersedes old: UUID? = nil,
             metadata: [String: MetadataValue] = [:]) throws -> Memory {
        try store.add([NewMemory(text: text, scope: scope, metadata: metadata, validFrom: from, supersedes: old)],
                      vectors: [WordsEmbedder.vector(text)])[0]
    }

    func ids(_ memories: [Memory]) -> Set<UUID> { Set(memories.map(\.id)) }

    @Test("a supersession chain: each version closed at its successor's valid_from, current = the last, as-of = the one valid then, at every point; history says SUPERSEDE; reopen keeps it exactly",
          arguments: StoreBackend.available)
    func chain(backend: StoreBackend) throws {
        let dir = scratchDirectory("validity")
        let store = try openStore(dir, backend)
        let t0 = Date(timeIntervalSince1970: 1_700_000_000)
        let a = try add(store, "lives in Lisbon", alice, from: t0)
        let b = try add(store, "lives in Paris", alice, from: t0 + 10 * Self.day, supersedes: a.id)
        try store.checkpoint()  // holds a closed and b current: c and b's closure come after it
        let c = try add(store, "lives in Berlin", alice, from: t0 + 20 * Self.day, supersedes: b.id)
        let oldA = try store.get(a.id), oldB = try store.get(b.id)
        #expect(oldA.validTo == b.validFrom && oldA.supersededBy == b.id && oldA.validFrom == t0)
        #expect(oldB.validTo == c.validFrom && oldB.supersededBy == c.id && c.validTo == nil && c.supersededBy == nil)
        #expect(try store.history(a.id).map(\.kind) == [.add, .supersede] && store.history(a.id)[1].newText == "lives in Paris")

        func check(_ store: MemoryStore) throws {
            #expect(ids(try store.list(scope: alice).memories) == [c.id])
            #expect(try store.list(scope: alice, validity: .all).total == 3)
            let expected: [(TimeInterval, UUID?)] = [(-1, nil), (0, a.id), (9.9, a.id), (10, b.id), (19.9, b.id), (20, c.id), (400, c.id)]
            for (days, id) in expected {
                let at = Validity.asOf(t0 + days * Self.day)
                #expect(try store.list(scope: alice, validity: at).memories.map(\.id) == (id.map { [$0] } ?? []), "day \(days)")
                let hits = try store.search("lives in", vector: WordsEmbedder.vector("lives in"), scope: alice, limit: 10, mode: .hybrid, validity: at)
                #expect(hits.map(\.memory.id) == (id.map { [$0] } ?? []), "day \(days)")
            }
            #expect(try store.search(vector: WordsEmbedder.vector("lives in Lisbon"), scope: alice).map(\.memory.id) == [c.id])
        }
        try check(store)
        // What a kill leaves (the files as they are now): the checkpoint before c, caught up at open.
        let killed = scratchDirectory("validity-killed")
        try FileManager.default.copyItem(atPath: dir, toPath: killed)
        StoreBackend.share(killed, with: dir)
        let caughtUp = try openStore(killed, backend)
        try check(caughtUp)
        #expect(try caughtUp.get(b.id) == oldB)
        try caughtUp.close()
        // The view as a checkpoint wrote it, and as an open rebuilt it from the record.
        try store.checkpoint()
        try store.close()
        let reopened = try openStore(dir, backend)
        try check(reopened)
        #expect(try reopened.get(a.id) == oldA && reopened.list(scope: alice, validity: .all).memories.sorted { $0.validFrom < $1.validFrom } == [oldA, oldB, c])
        try reopened.close()
        try FileManager.default.removeItem(atPath: dir + "/index")
        let rebuilt = try openStore(dir, backend)
        try check(rebuilt)
        #expect(try rebuilt.get(b.id) == oldB)
        try rebuilt.close()
    }

    @Test("superseding refuses what it must: a closed version, another tenant's memory (not found), an earlier valid_from; a fact may come back after it was replaced; a successor text that is current already becomes the successor",
          arguments: StoreBackend.available)
    func rules(backend: StoreBackend) throws {
        let store = try openStore(scratchDirectory("validity-rules"), backend)
        let t0 = Date(timeIntervalSince1970: 1_700_000_000)
        let lisbon = try add(store, "lives in Lisbon", alice, from: t0)
        let paris = try add(store, "lives in Paris", alice, from: t0 + Self.day, supersedes: lisbon.id)
        #expect(throws: MemoryError.alreadySuperseded(lisbon.id, by: paris.id)) { try add(store, "lives in Rome", alice, supersedes: lisbon.id) }
        let bobs = try add(store, "bob lives in Oslo", MemoryScope(userID: "bob"))
        #expect(throws: MemoryError.notFound(bobs.id)) { try add(store, "lives in Oslo", alice, supersedes: bobs.id) }
        #expect(throws: MemoryError.notFound(bobs.id)) { try add(store, "lives in Oslo", MemoryScope(userID: "bob", agentID: "x"), supersedes: bobs.id) }
        #expect(throws: (any Error).self) { try add(store, "lives in Rome", alice, from: t0, supersedes: paris.id) }
        let (bobsNow, parisNow) = (try store.get(bobs.id), try store.get(paris.id))
        #expect(bobsNow.validTo == nil && parisNow.validTo == nil)  // nothing half done
        // Lisbon again: a new version, not the closed one.
        let back = try add(store, "lives in Lisbon", alice, from: t0 + 2 * Self.day, supersedes: paris.id)
        let currentNow = try store.list(scope: alice).memories
        #expect(back.id != lisbon.id && back.validTo == nil && ids(currentNow) == [back.id])
        // A successor text that a current memory holds: that memory is the successor.
        let tea = try add(store, "likes tea", alice)
        let coffee = try add(store, "likes coffee", alice)
        let again = try add(store, "likes tea", alice, supersedes: coffee.id)
        let closedCoffee = try store.get(coffee.id)
        #expect(again.id == tea.id && closedCoffee.supersededBy == tea.id && closedCoffee.validTo != nil)
        #expect(ids(try store.list(scope: alice).memories) == [back.id, tea.id])
    }

    @Test("an immutable memory refuses update, expiry change, supersession, invalidation and delete by id, changing nothing; erasing its scope removes it; the flag survives catch-up, checkpoint and rebuild",
          arguments: StoreBackend.available)
    func immutable(backend: StoreBackend) async throws {
        let dir = scratchDirectory("validity-immutable")
        let store = try openStore(dir, backend)
        try await store.checkpoint()  // empty: the memories below are caught up at the killed copy's open
        let fixed = try await store.add([NewMemory(text: "allergic to peanuts", scope: alice, metadata: ["k": 1], immutable: true)],
                                  vectors: [WordsEmbedder.vector("allergic to peanuts")])[0]
        let plain = try add(store, "likes tea", alice)
        #expect(fixed.immutable && !plain.immutable)
        let refused = MemoryError.immutable(fixed.id)
        #expect(throws: refused) { try store.update(fixed.id, text: "likes peanuts", vector: WordsEmbedder.vector("likes peanuts")) }
        #expect(throws: refused) { try store.update(fixed.id, text: nil, vector: nil, metadata: ["k": 2]) }
        #expect(throws: refused) { try store.update([MemoryEdit(id: fixed.id, expiry: .never)], vectors: [nil]) }
        // A batch holding one immutable memory changes none of it.
        #expect(throws: refused) {
            try store.update([MemoryEdit(id: plain.id, metadata: ["k": 3]), MemoryEdit(id: fixed.id, metadata: ["k": 3])], vectors: [nil, nil])
        }
        #expect(throws: refused) { try add(store, "no longer allergic", alice, supersedes: fixed.id) }
        await #expect(throws: refused) { try await store.invalidate([plain.id, fixed.id]) }
        #expect(throws: refused) { try store.delete(fixed.id) }
        let (fixedNow, plainNow) = (try await store.get(fixed.id), try await store.get(plain.id))
        #expect(fixedNow == fixed && plainNow == plain)
        #expect(ids(try store.list(scope: alice).memories) == [fixed.id, plain.id])
        #expect(try await store.history(fixed.id).map(\.kind) == [.add])

        let killed = scratchDirectory("validity-immutable-killed")
        try FileManager.default.copyItem(atPath: dir, toPath: killed)
        StoreBackend.share(killed, with: dir)
        let caughtUp = try openStore(killed, backend)
        #expect(try caughtUp.list(scope: alice).memories.first { $0.id == fixed.id }?.immutable == true)
        try await caughtUp.close()
        try await store.checkpoint()
        try await store.close()
        for rebuild in [false, true] {
            if rebuild { try FileManager.default.removeItem(atPath: dir + "/index") }
            let reopened = try openStore(dir, backend)
            #expect(try reopened.list(scope: alice).memories.first { $0.id == fixed.id } == fixed, "rebuilt: \(rebuild)")
            #expect(throws: refused) { try reopened.delete(fixed.id) }
            if rebuild {
                #expect(try await reopened.deleteAll(scope: alice) == 2)
                #expect(throws: MemoryError.notFound(fixed.id)) { try reopened.get(fixed.id) }
            }
            try await reopened.close()
        }
    }

    @Test("as-of, current and every version, with filters, in list and in every search mode, agree with a brute-force oracle over random histories",
          arguments: StoreBackend.available)
    func oracle(backend: StoreBackend) throws {
        let store = try openStore(scratchDirectory("validity-oracle"), backend)
        var rng = SplitMix64(seed: 17)
        let t0 = Date(timeIntervalSince1970: 1_700_000_000)
        let words = ["tea", "coffee", "city", "job", "car", "dog", "book", "song"]
        var current: [UUID] = []
        for i in 0..<300 {
            let text = "fact \(i) \(words[Int(rng.next() % 8)]) \(words[Int(rng.next() % 8)])"
            let metadata: [String: MetadataValue] = ["topic": .string(words[Int(rng.next() % 4)]), "n": .number(Double(i % 7))]
            // Valid from some day in the first 100; a third supersede a current memory dated no later.
            let from = t0 + Double(rng.next() % 100) * Self.day
            let old = rng.next() % 3 == 0 ? current.first { (try? store.get($0).validFrom).map { $0 <= from } ?? false } : nil
            let memory = try add(store, text, alice, from: from, supersedes: old, metadata: metadata)
            current.removeAll { $0 == old }
            current.append(memory.id)
        }
        let all = try store.list(scope: alice, limit: 10_000, validity: .all).memories
        #expect(all.count == 300 && all.filter { $0.validTo != nil }.count == 300 - current.count)
        let filters: [MemoryFilter] = [.all, .eq("topic", "tea"), .gte("n", 3), .or([.eq("topic", "city"), .lt("n", 2)])]
        for _ in 0..<12 {
            let instant = t0 + Double(rng.next() % 110) * Self.day + 3_600
            for validity in [Validity.asOf(instant), .current, .all] {
                for filter in filters {
                    let expected = Set(all.filter { m in
                        let valid: Bool = switch validity {
                        case let .asOf(t): m.validFrom <= t && (m.validTo.map { t < $0 } ?? true)
                        case .current: m.validTo == nil
                        case .all: true
                        }
                        return valid && filter.matches(m)
                    }.map(\.id))
                    #expect(ids(try store.list(scope: alice, filter: filter, limit: 10_000, validity: validity).memories) == expected)
                    for mode in [SearchMode.vector, .hybrid] {
                        let hits = try store.search("fact tea", vector: WordsEmbedder.vector("fact tea"), scope: alice, filter: filter,
                                                    limit: 1_000, mode: mode, validity: validity)
                        #expect(ids(hits.map(\.memory)) == expected, "\(mode) \(validity) \(filter)")
                    }
                    let keyword = try store.search("tea", vector: nil, scope: alice, filter: filter, limit: 1_000, mode: .keyword, validity: validity)
                    #expect(ids(keyword.map(\.memory)) == Set(expected.filter { id in all.first { $0.id == id }!.text.contains("tea") }))
                }
            }
        }
    }

    @Test("recency: the score is weighed by 2^(-age / half-life) from valid_from to now or the as-of instant; a newer, weaker match can overtake an older, stronger one")
    func recency() throws {
        let store = try openStore(scratchDirectory("validity-recency"), .sqlite)
        let now = Date()
        let old = try add(store, "prefers green tea in the morning", alice, from: now - 30 * Self.day)
        let new = try add(store, "prefers black coffee", alice, from: now - 1 * Self.day)
        let query = WordsEmbedder.vector("prefers green tea")
        let plain = try store.search(vector: query, scope: alice)
        #expect(plain.map(\.memory.id) == [old.id, new.id] && plain.allSatisfy { $0.details.recency == nil })
        let decayed = try store.search("", vector: query, scope: alice, mode: .vector, recencyHalfLife: .seconds(10 * Self.day))
        #expect(decayed.map(\.memory.id) == [new.id, old.id])
        for hit in decayed {
            let age = now.timeIntervalSince(hit.memory.validFrom) / (10 * Self.day)
            #expect(abs(Double(hit.details.recency!) - exp2(-age)) < 1e-3, "\(hit)")
            #expect(abs(hit.score - hit.details.semantic! * hit.details.recency!) < 1e-5)
        }
        // Measured from the as-of instant: 30 days after the old fact, 1 day before the new one existed.
        let then = now - 2 * Self.day
        let asOf = try store.search("", vector: query, scope: alice, mode: .vector, validity: .asOf(then), recencyHalfLife: .seconds(10 * Self.day))
        #expect(asOf.map(\.memory.id) == [old.id] && abs(Double(asOf[0].details.recency!) - exp2(-2.8)) < 1e-3)
        #expect(throws: MemoryError.self) { try store.search("", vector: query, scope: alice, mode: .vector, recencyHalfLife: .zero) }
    }
}

@Suite("Searches across several scopes")
struct MultiScopeTests {
    @Test("a search over several users and agents ranks their memories on one scale, as one brute-force ranking over the union does; a memory outside every scope never comes back",
          arguments: StoreBackend.available)
    func union(backend: StoreBackend) throws {
        let store = try openStore(scratchDirectory("multi-scope"), backend)
        var rng = SplitMix64(seed: 3)
        let words = ["tea", "coffee", "city", "job", "car", "dog", "book", "song", "garden", "piano"]
        var all: [Memory] = []
        for i in 0..<400 {
            let scope = MemoryScope(userID: "user\(i % 8)", agentID: i % 3 == 0 ? "planner" : nil)
            let text = (0..<4).map { _ in words[Int(rng.next() % 10)] }.joined(separator: " ") + " \(i)"
            all += try store.add([NewMemory(text: text, scope: scope)], vectors: [WordsEmbedder.vector(text)])
        }
        let cases: [[MemoryScope]] = [
            [MemoryScope(userID: "user1"), MemoryScope(userID: "user2")],
            [MemoryScope(agentID: "planner"), MemoryScope(userID: "user5")],
            [MemoryScope(userID: "user3"), MemoryScope(userID: "user3", agentID: "planner")],
        ]
        for scopes in cases {
            for query in ["tea garden", "piano song dog", "car"] {
                let v = WordsEmbedder.vector(query)
                let hits = try store.search(query, vector: v, scopes: scopes, limit: 10, mode: .vector)
                let inScope = all.filter { m in scopes.contains { $0.contains(m.scope) } }
                let cos = { (m: Memory) in zip(v, WordsEmbedder.vector(m.text)).reduce(Float(0)) { $0 + $1.0 * $1.1 } }
                let expected = inScope.map(cos).sorted(by: >).prefix(10)
                #expect(hits.allSatisfy { h in scopes.contains { $0.contains(h.memory.scope) } })
                #expect(zip(hits.map(\.score), expected).allSatisfy { abs($0 - $1) < 1e-4 } && hits.count == expected.count, "\(scopes) \(query)")
            }
        }
        #expect(throws: MemoryError.missingScope) { try store.search("x", vector: WordsEmbedder.vector("x"), scopes: []) }
    }
}
