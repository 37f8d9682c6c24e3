import EngramEmbedding
import Foundation
import EngramTestSupport
import Testing
import EngramMemory

/// A deterministic embedder: a normalized bag of hashed words (texts sharing words are similar).
struct WordsEmbedder: Embedder {
    let dimension = 64
    let modelName = "test-words"
    func embed(_ texts: [String]) async throws -> [[Float]] { texts.map(Self.vector) }
    static func vector(_ text: String) -> [Float] {
        var v = [Float](repeating: 0, count: 64)
        for word in text.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }) {
            var h: UInt64 = 1469598103934665603
            for b in word.utf8 { h = (h ^ UInt64(b)) &* 1099511628211 }
            v[Int(h % 64)] += 1
        }
        if v.allSatisfy({ $0 == 0 }) { v[0] = 1 }
        let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return v.map { $0 / n }
    }
}

func temporaryStore(_ backend: StoreBackend) throws -> MemoryStore {
    try openStore(scratchDirectory("store"), backend, WordsEmbedder())
}

/// A store in `directory` on `backend` (for PostgreSQL, a database of the directory's own).
func openStore(_ directory: String, _ backend: StoreBackend, _ embedder: some Embedder = WordsEmbedder()) throws -> MemoryStore {
    try MemoryStore(directory: directory, embedder: embedder, database: backend.database(for: directory).map { try PostgresLocation(url: $0) })
}

@Suite("MemoryStore")
struct MemoryStoreTests {
    let alice = MemoryScope(userID: "alice"), bob = MemoryScope(userID: "bob")

    @Test("add, get, list, search, update, history, delete", arguments: StoreBackend.available)
    func lifecycle(backend: StoreBackend) async throws {
        let store = try temporaryStore(backend)
        let added = try await store.add(["likes thai food", "allergic to peanuts", "works at night"], scope: alice,
                                        metadata: ["category": "food", "rating": 4])
        #expect(added.count == 3)
        #expect(try await store.get(added[0].id).text == "likes thai food")
        #expect(try store.list(scope: alice).total == 3)
        let hits = try await store.search("thai food", scope: alice, limit: 2, mode: .vector)
        #expect(hits.first?.memory.id == added[0].id && abs(hits.first!.score - 2 / Float(6).squareRoot()) < 1e-5)  // 2 shared words of 2 and 3
        let updated = try await store.update(added[1].id, text: "allergic to tree nuts", metadata: ["category": "health"], scope: alice)
        #expect(updated.text == "allergic to tree nuts" && updated.metadata["category"] == "health")
        #expect(try await store.search("tree nuts", scope: alice, limit: 1).first?.memory.id == added[1].id)
        let events = try await store.history(added[1].id)
        #expect(events.map(\.kind) == [.add, .update] && events[1].oldText == "allergic to peanuts")
        try await store.delete(added[2].id, scope: alice)
        #expect(throws: MemoryError.notFound(added[2].id)) { try store.get(added[2].id) }
        #expect(try await store.history(added[2].id).allSatisfy { $0.oldText == nil && $0.newText == nil })
    }

    @Test("exact duplicates in one scope are stored once, also under concurrent adds; other scopes keep their own", arguments: StoreBackend.available)
    func dedup(backend: StoreBackend) async throws {
        let store = try temporaryStore(backend)
        try await withThrowingTaskGroup(of: [Memory].self) { group in
            for _ in 0..<16 { group.addTask { try await store.add(["prefers dark mode"], scope: alice) } }
            var ids = Set<UUID>()
            for try await memories in group { ids.formUnion(memories.map(\.id)) }
            #expect(ids.count == 1)
        }
        try await store.add(["prefers dark mode"], scope: bob)
        #expect(try store.list(scope: alice).total == 1 && store.list(scope: bob).total == 1)
    }

    @Test("tenants never see or touch each other's memories (random scopes)", arguments: StoreBackend.available)
    func isolation(backend: StoreBackend) async throws {
        let store = try temporaryStore(backend)
        var rng = SystemRandomNumberGenerator()
        let users = ["u1", "u2", "u3"], agents = ["a1", "a2", nil]
        var truth: [MemoryScope: Int] = [:]
        for i in 0..<300 {
            let scope = MemoryScope(userID: users.randomElement(using: &rng)!, agentID: agents.randomElement(using: &rng)!)
            try await store.add(["memory \(i) about topic \(i % 7)"], scope: scope, metadata: ["n": .number(Double(i))])
            truth[scope, default: 0] += 1
        }
        for (scope, count) in truth {
            let listed = try store.list(scope: scope, limit: 1_000)
            let expected = truth.filter { scope.contains($0.key) }.values.reduce(0, +)
            #expect(listed.total == expected && listed.memories.allSatisfy { scope.contains($0.scope) })
            #expect(try await store.search("topic 3", scope: scope, limit: 50).allSatisfy { scope.contains($0.memory.scope) })
            _ = count
        }
        let removed = try await store.deleteAll(scope: MemoryScope(userID: "u1"))
        #expect(removed == truth.filter { $0.key.userID == "u1" }.values.reduce(0, +))
        #expect(try store.list(scope: MemoryScope(userID: "u1")).total == 0)
        #expect(try store.list(scope: MemoryScope(userID: "u2"), limit: 1_000).total == truth.filter { $0.key.userID == "u2" }.values.reduce(0, +))
    }

    @Test("filtered search equals a brute-force ranking of the memories the filter passes", arguments: StoreBackend.available)
    func filteredSearch(backend: StoreBackend) async throws {
        let store = try temporaryStore(backend)
        var rng = SystemRandomNumberGenerator()
        let words = ["red", "green", "blue", "cat", "dog", "tea", "code", "rain"]
        for i in 0..<400 {
            let text = (0..<4).map { _ in words.randomElement(using: &rng)! }.joined(separator: " ") + " \(i)"
            try await store.add([text], scope: alice, metadata: ["n": .number(Double(i % 10)), "tag": .string(words[i % 8]),
                                                               "tags": .strings([words[i % 3], words[i % 5]])])
        }
        let filters: [MemoryFilter] = [.gte("n", 5), .eq("tag", "cat"), .isIn("tags", ["red", "dog"]) && .lt("n", 3),
                                       !.eq("tag", "tea"), .icontains("tag", "E"), .or([.eq("n", 1), .exists("missing")])]
        for filter in filters {
            let all = try store.list(scope: alice, filter: filter, limit: 1_000).memories
            for query in ["red cat", "blue rain tea"] {
                let q = WordsEmbedder.vector(query)
                let expected = all.map { m in (m.id, zip(q, WordsEmbedder.vector(m.text)).reduce(Float(0)) { $0 + $1.0 * $1.1 }) }
                    .sorted { $0.1 > $1.1 }.prefix(10)
                let got = try store.search(vector: q, scope: alice, filter: filter, limit: 10)
                #expect(got.allSatisfy { filter.matches($0.memory) })
                #expect(got.count == expected.count)
                for (g, e) in zip(got, expected) { #expect(abs(g.score - e.1) < 1e-5) }
            }
        }
    }

    @Test("searches answered by several posting lists (rare and common, agent scopes), one after another, equal a brute-force ranking")
    func postedConditions() async throws {
        let store = try temporaryStore(.sqlite)
        let words = ["red", "green", "blue", "cat", "dog", "tea", "code", "rain"]
        let agent = MemoryScope(userID: "alice", agentID: "helper")
        for i in 0..<600 {
            let text = "\(words[i % 8]) \(words[(i / 8) % 8]) \(words[(i * 7) % 8]) \(i)"
            let metadata: [String: MetadataValue] = ["tag": .string(words[i % 8]), "rare": .string(i % 97 == 0 ? "yes" : "no"),
                                                     "tags": .strings([words[i % 3], words[i % 5]])]
            try await store.add([text], scope: i % 4 == 0 ? agent : alice, metadata: metadata)
        }
        // Lists of very different sizes intersect by galloping, close ones by merging; a big
        // candidate set followed by a small one checks that reused buffers carry nothing over.
        let filters: [MemoryFilter] = [.all, .eq("tag", "cat") && .eq("rare", "yes"), .eq("rare", "no"),
                                       .eq("tag", "cat") && .isIn("tags", ["red", "dog"]), .eq("rare", "yes"),
                                       .eq("tag", "dog") && .eq("rare", "no") && .isIn("tags", ["blue", "green"])]
        for scope in [alice, agent] {
            let everything = try store.list(scope: scope, limit: 1_000).memories
            for filter in filters {
                let passing = everything.filter { filter.matches($0) }
                for query in ["red cat", "blue rain tea"] {
                    let q = WordsEmbedder.vector(query)
                    let expected = passing.map { m in (m.id, zip(q, WordsEmbedder.vector(m.text)).reduce(Float(0)) { $0 + $1.0 * $1.1 }) }
                        .sorted { $0.1 > $1.1 }.prefix(10)
                    let got = try store.search(vector: q, scope: scope, filter: filter, limit: 10)
                    #expect(got.allSatisfy { filter.matches($0.memory) && scope.contains($0.memory.scope) })
                    #expect(got.count == expected.count, "\(filter) in \(scope)")
                    for (g, e) in zip(got, expected) { #expect(abs(g.score - e.1) < 1e-5) }
                }
            }
        }
    }

    @Test("deleteAll removes thousands of memories and their history, atomically; survives reopen", arguments: StoreBackend.available)
    func deleteAllAndReopen(backend: StoreBackend) async throws {
        let dir = scratchDirectory("store")
        var store: MemoryStore? = try openStore(dir, backend, WordsEmbedder())
        let texts = (0..<3_000).map { "fact number \($0)" }
        let vectors = texts.map(WordsEmbedder.vector)
        let added = try await store!.add(texts, vectors: vectors, scope: alice)
        try await store!.add(["bob's fact"], vectors: [WordsEmbedder.vector("bob's fact")], scope: bob)
        #expect(try await store!.deleteAll(scope: alice) == 3_000)
        #expect(try await store!.history(added[17].id).isEmpty)
        store = nil
        let reopened = try openStore(dir, backend, WordsEmbedder())
        #expect(try reopened.list(scope: alice).total == 0 && reopened.list(scope: bob).total == 1)
        #expect(try await reopened.search("fact", scope: bob).first?.memory.text == "bob's fact")
    }

    @Test("expired memories are hidden unless asked for, and erased by a purge", arguments: StoreBackend.available)
    func expiry(backend: StoreBackend) async throws {
        let store = try temporaryStore(backend)
        // Stored expired, a memory would never be seen: refused.
        await #expect(throws: MemoryError.self) { try await store.add(["stale news"], scope: alice, expiresAt: Date(timeIntervalSinceNow: -1)) }
        try await store.add(["old news"], scope: alice, expiresAt: Date(timeIntervalSinceNow: 0.5))
        try await store.add(["fresh news"], scope: alice, expiresAt: Date(timeIntervalSinceNow: 3_600))
        try await Task.sleep(for: .milliseconds(600))
        #expect(try store.list(scope: alice).memories.map(\.text) == ["fresh news"])
        #expect(try store.list(scope: alice, includeExpired: true).total == 2)
        #expect(try await store.search("news", scope: alice).map(\.memory.text) == ["fresh news"])
        // Purged: gone from the record with its history, not only hidden; the others stay.
        let old = try #require(try store.list(scope: alice, includeExpired: true).memories.first { $0.text == "old news" })
        try await store.add(["agent's stale note"], scope: MemoryScope(agentID: "bot"), expiresAt: Date(timeIntervalSinceNow: 0.2))
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await store.purgeExpired() == 2)
        #expect(try store.list(scope: alice, includeExpired: true).memories.map(\.text) == ["fresh news"])
        #expect(try store.list(scope: MemoryScope(agentID: "bot"), includeExpired: true).total == 0)
        await #expect(throws: MemoryError.notFound(old.id)) { try await store.get(old.id) }
        #expect(try await store.history(old.id).isEmpty)
        #expect(try await store.purgeExpired() == 0)
    }

    @Test("filters address nested metadata by dotted paths: a literal dotted key wins, arrays match by any element, posted and evaluated alike",
          arguments: StoreBackend.available)
    func nestedMetadataFilters(backend: StoreBackend) async throws {
        let store = try temporaryStore(backend)
        let thai = try await store.add(["likes thai food"], scope: alice,
                                       metadata: ["prefs": .object(["food": "thai", "spice": 3]), "scores": .array([1, 5, 9])])[0]
        let literal = try await store.add(["likes sushi"], scope: alice,
                                          metadata: ["prefs": .object(["food": "sushi"]), "prefs.food": "literal"])[0]
        let vegan = try await store.add(["is vegan"], scope: alice,
                                        metadata: ["prefs": .object(["diet": .object(["vegan": true])]), "scores": .array([2, "x"])])[0]
        _ = try await store.add(["bob likes thai too"], scope: bob, metadata: ["prefs": .object(["food": "thai"])])
        let cases: [(String, [Memory])] = [
            (#"{"prefs.food": "thai"}"#, [thai]), (#"{"prefs.food": "literal"}"#, [literal]), (#"{"prefs.food": "sushi"}"#, []),
            (#"{"prefs.diet.vegan": true}"#, [vegan]), (#"{"prefs.spice": {"gte": 3}}"#, [thai]), (#"{"prefs.spice": "*"}"#, [thai]),
            (#"{"scores": {"gt": 8}}"#, [thai]), (#"{"scores": 2}"#, [vegan]), (#"{"scores": {"in": ["x", 5]}}"#, [thai, vegan]),
            (#"{"scores": {"contains": "x"}}"#, [vegan]), (#"{"prefs.food": {"ne": "thai"}}"#, [literal, vegan]),
            (#"{"OR": [{"prefs.food": "thai"}, {"prefs.diet.vegan": true}]}"#, [thai, vegan]), (#"{"prefs": "thai"}"#, []),
        ]
        for (json, expected) in cases {
            let filter = try parse(json)
            #expect(Set(try store.list(scope: alice, filter: filter).memories.map(\.id)) == Set(expected.map(\.id)), "\(json)")
            #expect(try await store.search("food", scope: alice, filter: filter, limit: 10).allSatisfy { filter.matches($0.memory) }, "\(json)")
        }
        #expect(thai.filterValue("prefs") == .object(["food": "thai", "spice": 3]) && thai.filterValue("prefs.none") == nil)
    }

    @Test("metadata survives the database exactly: escapes, unicode, numbers, arrays, nested objects and arrays; reopen included",
          arguments: StoreBackend.available)
    func metadataRoundTrip(backend: StoreBackend) async throws {
        let dir = scratchDirectory("store")
        let metadata: [String: MetadataValue] = [
            "quote \" back \\ slash": "line\nbreak\ttab\u{1}ctl \u{7F} é 🧠 \"q\"", "big": 1e300, "neg": -0.5, "int": 3, "tiny": .number(.leastNonzeroMagnitude),
            "yes": true, "no": false, "none": nil, "list": .strings(["a\"b", "", "ü"]), "empty": .strings([]),
            "prefs": .object(["food": "thai", "spice": 3, "tags": .strings(["hot"]), "inner": .object(["deep": .array([1, nil, .object([:])])])]),
            "mixed": .array(["a", 2.5, false, .strings(["b"]), .object(["k\u{0}": "v"])]), "empty object": .object([:]),
        ]
        var store: MemoryStore? = try openStore(dir, backend, WordsEmbedder())
        let id = try await store!.add(["remember this"], scope: alice, metadata: metadata)[0].id
        #expect(try await store!.get(id).metadata == metadata)
        store = nil
        #expect(try await openStore(dir, backend, WordsEmbedder()).get(id).metadata == metadata)
    }

    @Test("bad input gets typed errors", arguments: StoreBackend.available)
    func badInput(backend: StoreBackend) async throws {
        let store = try temporaryStore(backend)
        await #expect(throws: MemoryError.emptyText) { try await store.add(["  "], scope: alice) }
        await #expect(throws: MemoryError.missingScope) { try await store.add(["x"], scope: MemoryScope()) }
        await #expect(throws: MemoryError.self) { try await store.add(["x"], scope: alice, metadata: ["user_id": "mallory"]) }
        await #expect(throws: MemoryError.self) {
            try await store.add(["x"], scope: alice, metadata: ["big": .string(String(repeating: "x", count: 70_000))])
        }
        await #expect(throws: MemoryError.self) { try await store.add(["x"], scope: alice, metadata: ["n": .number(.nan)]) }
        await #expect(throws: MemoryError.self) { try await store.add(["x"], scope: alice, metadata: ["n": .number(-.infinity)]) }
        await #expect(throws: MemoryError.self) { try await store.add(["x"], scope: alice, metadata: ["o": .object(["a": .array([.number(.nan)])])]) }
        // The metadata object, 14 nested objects and an array: 16 levels, the most allowed; one more is refused.
        func nested(_ levels: Int) -> MetadataValue { (0..<levels).reduce(MetadataValue.strings(["bottom"])) { inner, _ in .object(["d": inner]) } }
        await #expect(throws: MemoryError.self) { try await store.add(["x"], scope: alice, metadata: ["d": nested(15)]) }
        let deepest = try await store.add(["deep enough"], scope: alice, metadata: ["d": nested(14)])[0]
        #expect(try store.list(scope: alice, filter: .eq("d" + String(repeating: ".d", count: 14), "bottom")).memories.map(\.id) == [deepest.id])
        #expect(throws: MemoryError.missingScope) { try store.list(scope: MemoryScope()) }
        #expect(throws: MemoryError.missingScope) { try store.deleteAll(scope: MemoryScope()) }
        let memory = try await store.add(["mine"], scope: alice)[0]
        #expect(throws: MemoryError.notFound(memory.id)) { try store.get(memory.id, scope: bob) }
        #expect(throws: MemoryError.notFound(memory.id)) { try store.delete(memory.id, scope: bob) }
        #expect(try await store.get(memory.id, scope: alice).text == "mine")
    }

    @Test("a NUL byte never moves memories between tenants: scope ids and texts with NUL are refused on every call; blank and control-character ids are refused for new memories; metadata keeps NUL exactly",
          arguments: StoreBackend.available)
    func nulAndHostileScopes(backend: StoreBackend) async throws {
        let dir = scratchDirectory("store")
        var store: MemoryStore? = try openStore(dir, backend, WordsEmbedder())
        let victim = MemoryScope(userID: "victim")
        let secret = try await store!.add(["the victim's secret"], scope: victim)[0]
        for hostile in [MemoryScope(userID: "victim\u{0}attacker"), MemoryScope(agentID: "a\u{0}"), MemoryScope(userID: "victim", runID: "\u{0}")] {
            await #expect(throws: MemoryError.self) { try await store!.add(["the victim's secret"], scope: hostile) }
            #expect(throws: MemoryError.self) { try store!.list(scope: hostile) }
            await #expect(throws: MemoryError.self) { try await store!.search("secret", scope: hostile) }
            #expect(throws: MemoryError.self) { try store!.deleteAll(scope: hostile) }
        }
        for refused in ["", "   ", "a\u{1}b", "tab\there", "new\nline", String(repeating: "x", count: 513)] {
            await #expect(throws: MemoryError.self, "\(refused.debugDescription)") { try await store!.add(["x"], scope: MemoryScope(userID: refused)) }
        }
        await #expect(throws: MemoryError.self) { try await store!.add(["visible\u{0}hidden"], scope: victim) }
        await #expect(throws: MemoryError.self) { try await store!.update(secret.id, text: "visible\u{0}hidden", scope: victim) }
        // Unicode ids and NUL inside metadata are kept exactly, through a reopen.
        let unicode = MemoryScope(userID: "ü 😀 名前", agentID: "\u{202E}rtl")
        let metadata: [String: MetadataValue] = ["nul\u{0}key": "a\u{0}b", "list": .strings(["\u{0}"])]
        let kept = try await store!.add(["unicode tenant"], scope: unicode, metadata: metadata)[0]
        store = nil
        let reopened = try openStore(dir, backend, WordsEmbedder())
        #expect(try reopened.list(scope: victim).memories.map(\.id) == [secret.id])
        #expect(try await reopened.get(secret.id).text == "the victim's secret")
        let listed = try reopened.list(scope: unicode).memories
        #expect(listed.map(\.id) == [kept.id] && listed.first?.scope == unicode && listed.first?.metadata == metadata)
        #expect(try await reopened.get(kept.id).metadata == metadata)
    }

    @Test("an update onto a text its scope already holds is refused with the other memory's id, and changes nothing", arguments: StoreBackend.available)
    func updateOntoDuplicate(backend: StoreBackend) async throws {
        let store = try temporaryStore(backend)
        let added = try await store.add(["likes tea", "likes coffee"], scope: alice)
        await #expect(throws: MemoryError.duplicateText(added[0].id)) { try await store.update(added[1].id, text: "likes tea", scope: alice) }
        #expect(try await store.get(added[1].id).text == "likes coffee")
        #expect(try store.list(scope: alice).total == 2)
        // The same text in another scope is no conflict.
        let bobs = try await store.add(["likes coffee"], scope: bob)[0]
        #expect(try await store.update(bobs.id, text: "likes tea", scope: bob).text == "likes tea")
    }

    @Test("deleteAll with a filter deletes exactly the memories of the scope that the filter passes, with their history; reopen agrees",
          arguments: StoreBackend.available)
    func deleteByFilter(backend: StoreBackend) async throws {
        let dir = scratchDirectory("store")
        var store: MemoryStore? = try openStore(dir, backend, WordsEmbedder())
        let texts = (0..<60).map { "note \($0)" }
        let added = try await store!.add(texts.map { NewMemory(text: $0, scope: alice, metadata: ["n": .number(Double($0.split(separator: " ")[1])!)]) },
                                         vectors: texts.map(WordsEmbedder.vector))
        let bobs = try await store!.add(["note 5"], scope: bob, metadata: ["n": 5])[0]
        let filter = MemoryFilter.lt("n", 20) || .eq("n", 42)
        #expect(try await store!.deleteAll(scope: alice, filter: filter) == 21)
        #expect(try await store!.deleteAll(scope: alice, filter: filter) == 0)
        let left = Set(try store!.list(scope: alice, limit: 100).memories.map(\.id))
        #expect(left == Set(added.filter { m in let n = Int(m.text.split(separator: " ")[1])!; return n >= 20 && n != 42 }.map(\.id)))
        #expect(try await store!.history(added[3].id).isEmpty)
        #expect(try await !store!.history(added[30].id).isEmpty)
        #expect(try store!.list(scope: bob).memories.map(\.id) == [bobs.id])
        store = nil
        let reopened = try openStore(dir, backend, WordsEmbedder())
        #expect(Set(try reopened.list(scope: alice, limit: 100).memories.map(\.id)) == left)
    }

    @Test("batch updates and deletes are one transaction each: all or nothing, with history", arguments: StoreBackend.available)
    func batches(backend: StoreBackend) async throws {
        let store = try temporaryStore(backend)
        let added = try await store.add(["likes tea", "likes coffee", "likes cocoa", "likes juice"], scope: alice)
        let bobs = try await store.add(["likes water"], scope: bob)[0]
        // The second edit would duplicate a text: nothing changes, not even the first.
        await #expect(throws: MemoryError.duplicateText(added[2].id)) {
            try await store.update([MemoryEdit(id: added[0].id, text: "likes green tea"), MemoryEdit(id: added[1].id, text: "likes cocoa")])
        }
        // A memory outside the scope: not found, nothing changes.
        await #expect(throws: MemoryError.notFound(bobs.id)) {
            try await store.update([MemoryEdit(id: added[0].id, text: "likes green tea"), MemoryEdit(id: bobs.id, metadata: ["x": 1])], scope: alice)
        }
        #expect(try await store.get(added[0].id).text == "likes tea")
        await #expect(throws: MemoryError.self) { try await store.update([MemoryEdit(id: added[0].id, text: "a"), MemoryEdit(id: added[0].id, text: "b")]) }
        let updated = try await store.update([MemoryEdit(id: added[0].id, text: "likes green tea"), MemoryEdit(id: added[1].id, metadata: ["mood": "awake"])], scope: alice)
        #expect(updated.map(\.id) == [added[0].id, added[1].id] && updated[0].text == "likes green tea" && updated[1].metadata == ["mood": "awake"])
        #expect(try await store.search("green tea", scope: alice).first?.memory.id == added[0].id)
        #expect(try await store.history(added[1].id).map(\.kind) == [.add, .update])

        await #expect(throws: MemoryError.notFound(bobs.id)) { try await store.delete([added[2].id, bobs.id], scope: alice) }
        #expect(try store.list(scope: alice).total == 4 && store.list(scope: bob).total == 1)
        try await store.delete([added[2].id, added[3].id], scope: alice)
        #expect(try store.list(scope: alice).memories.map(\.id).sorted { $0.uuidString < $1.uuidString } == [added[0].id, added[1].id].sorted { $0.uuidString < $1.uuidString })
        let events = try await store.history(added[2].id)
        #expect(events.map(\.kind) == [.add, .delete] && events.allSatisfy { $0.oldText == nil && $0.newText == nil })
    }

    @Test("memories added with their own ids and dates keep them; the same memory again is a duplicate, its id with another text is refused; export gives them back",
          arguments: StoreBackend.available)
    func explicitIdentity(backend: StoreBackend) async throws {
        let store = try temporaryStore(backend)
        let id = UUID(), created = Date(timeIntervalSince1970: 1_700_000_000.25), updated = Date(timeIntervalSince1970: 1_700_000_100.5)
        let item = NewMemory(text: "restored memory", scope: alice, metadata: ["k": "v"], id: id, createdAt: created, updatedAt: updated)
        let vector = WordsEmbedder.vector("restored memory")
        let added = try await store.add([item], vectors: [vector])[0]
        #expect(added.id == id && added.createdAt == created && added.updatedAt == updated)
        #expect(try await store.get(id) == added)
        #expect(try await store.add([item], vectors: [vector])[0] == added)
        var other = item
        other.text = "another text"
        await #expect(throws: MemoryError.idInUse(id)) { try await store.add([other], vectors: [WordsEmbedder.vector("another text")]) }
        await #expect(throws: MemoryError.self) {
            try await store.add([NewMemory(text: "x", scope: alice, createdAt: updated, updatedAt: created)], vectors: [WordsEmbedder.vector("x")])
        }
        var exported: [(Memory, [Float]?)] = []
        try store.export(scope: alice, withEmbeddings: true) { exported.append(($0, $1)) }
        #expect(exported.count == 1 && exported[0].0 == added && exported[0].1 == vector)
    }
}
