import EngramSupport
import EngramIndex
import Foundation
import EngramTestSupport
import Testing
import EngramMemory

/// Unit vectors in 64 dimensions from a seeded generator.
func randomUnitVectors(_ n: Int, seed: UInt64) -> [[Float]] {
    var rng = SplitMix64(seed: seed)
    return (0..<n).map { _ in
        let v = (0..<64).map { _ in Float.random(in: -1...1, using: &rng) }
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return v.map { $0 / norm }
    }
}

func dot(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

@Suite("Memory indexing")
struct MemoryIndexingTests {
    let big = MemoryScope(userID: "big"), small = MemoryScope(userID: "small")

    /// A store with a tenant large enough for its own graph (3,000) and a small one (300).
    func populated(_ dir: String, _ backend: StoreBackend) throws -> (MemoryStore, [UUID: [Float]]) {
        let store = try openStore(dir, backend, WordsEmbedder())
        let vectors = randomUnitVectors(3_300, seed: 11)
        let items = (0..<3_300).map { i in
            NewMemory(text: "memory \(i)", scope: i < 3_000 ? big : small,
                      metadata: ["n": .number(Double(i % 10)), "tag": .string(["a", "b", "c", "d"][i % 4]), "key": .string("k\(i)")])
        }
        let added = try store.add(items, vectors: vectors)
        return (store, Dictionary(uniqueKeysWithValues: zip(added.map(\.id), vectors)))
    }

    /// Mean recall@10 of `store`'s scoped searches against a brute-force ranking.
    func recall(_ store: MemoryStore, _ vectors: [UUID: [Float]], scope: MemoryScope, filter: MemoryFilter) throws -> Double {
        let members = try store.list(scope: scope, filter: filter, limit: 100_000).memories
        var total = 0.0
        for q in randomUnitVectors(20, seed: 99) {
            let expected = Set(members.map { ($0.id, dot(q, vectors[$0.id]!)) }.sorted { $0.1 > $1.1 }.prefix(10).map(\.0))
            let got = try store.search(vector: q, scope: scope, filter: filter, limit: 10)
            #expect(got.allSatisfy { scope.contains($0.memory.scope) && filter.matches($0.memory) })
            #expect(got.count == expected.count)
            total += Double(Set(got.map(\.memory.id)).intersection(expected).count) / Double(max(1, expected.count))
        }
        return total / 20
    }

    @Test("graph-indexed and scanned tenants both agree with brute force, for every kind of filter", arguments: StoreBackend.available)
    func plansAgree(backend: StoreBackend) throws {
        let (store, vectors) = try populated(scratchDirectory("idx"), backend)
        let filters: [MemoryFilter] = [.all, .eq("tag", "b"), .gte("n", 5), .ne("n", 0), .isIn("tag", ["a", "c"]) && .lt("n", 8),
                                       .or([.eq("tag", "a"), .eq("n", 3)]), !.eq("tag", "d")]
        for filter in filters {
            #expect(try recall(store, vectors, scope: big, filter: filter) >= 0.95, "\(filter)")
            #expect(try recall(store, vectors, scope: small, filter: filter) == 1, "\(filter)")
        }
    }

    @Test("posting lists answer random filters exactly like the evaluator over every memory", arguments: StoreBackend.available)
    func postingsMatchEvaluator(backend: StoreBackend) throws {
        let store = try openStore(scratchDirectory("idx"), backend, WordsEmbedder())
        var rng = SplitMix64(seed: 5)
        // Nested objects, mixed arrays and a literal dotted key ("a.food", which shadows a's field)
        // make the posted paths and the evaluator's path walk meet on every shape.
        let values: [MetadataValue] = ["x", "y", 1, 2.5, true, nil, .strings(["x", "z"]), .array([1, "x", .object(["food": "y"])]),
                                       .object(["food": "x", "n": 1]), .object(["food": .strings(["y", "x"]), "n": .object(["food": "x"])])]
        let fields = ["a", "b", "a.food", "a.n", "a.n.food", "b.food"]
        let users = ["u1", "u2"], agents: [String?] = ["a1", nil]
        var all: [Memory] = []
        for i in 0..<400 {
            var metadata: [String: MetadataValue] = [:]
            for key in ["a", "b", "a.food"] where Bool.random(using: &rng) { metadata[key] = values.randomElement(using: &rng)! }
            let scope = MemoryScope(userID: users.randomElement(using: &rng)!, agentID: agents.randomElement(using: &rng)!)
            all += try store.add([NewMemory(text: "m\(i)", scope: scope, metadata: metadata)], vectors: randomUnitVectors(1, seed: UInt64(i)))
        }
        func condition() -> MemoryFilter.Condition {
            [.eq(values.randomElement(using: &rng)!), .ne(values.randomElement(using: &rng)!), .in([values.randomElement(using: &rng)!, "y"]),
             .nin(["x"]), .gt(1), .exists, .contains("x")].randomElement(using: &rng)!
        }
        func tree(_ depth: Int) -> MemoryFilter {
            if depth == 0 || Int.random(in: 0..<3, using: &rng) == 0 {
                return Int.random(in: 0..<4, using: &rng) == 0 ? .eq("agent_id", "a1") : .condition(field: fields.randomElement(using: &rng)!, condition())
            }
            let children = (0..<Int.random(in: 1...3, using: &rng)).map { _ in tree(depth - 1) }
            return [MemoryFilter.and(children), .or(children), .not(children)].randomElement(using: &rng)!
        }
        for _ in 0..<500 {
            let filter = tree(3)
            let scope = [MemoryScope(userID: "u1"), MemoryScope(agentID: "a1"), MemoryScope(userID: "u2", agentID: "a1")].randomElement(using: &rng)!
            let expected = Set(all.filter { scope.contains($0.scope) && filter.matches($0) }.map(\.id))
            #expect(Set(try store.list(scope: scope, filter: filter, limit: 1_000).memories.map(\.id)) == expected, "\(filter)")
        }
    }

    @Test("a tenant graph whose tombstones outnumber its live nodes is rebuilt in the background, and searches stay exact", arguments: StoreBackend.available)
    func graphCompaction(backend: StoreBackend) async throws {
        let store = try openStore(scratchDirectory("idx"), backend, WordsEmbedder())
        let vectors = randomUnitVectors(5_000, seed: 21)
        let added = try await store.add((0..<5_000).map { "memory \($0)" }, vectors: vectors, scope: big, metadata: ["n": 1])
        #expect(store.graphNodeCounts["big"]?.live == 5_000)
        for m in added.prefix(2_600) { try await store.delete(m.id) }
        var counts = store.graphNodeCounts["big"]
        for _ in 0..<300 where counts.map({ $0.tombstones >= $0.live }) ?? true {
            try await Task.sleep(for: .milliseconds(100))
            counts = store.graphNodeCounts["big"]
        }
        // Rebuilt once the 2,501st delete made tombstones outnumber live nodes; the 99 deletes after
        // that are the only tombstones left.
        #expect(counts?.live == 2_400 && (counts?.tombstones ?? .max) <= 99, "\(String(describing: counts))")
        let remaining = Dictionary(uniqueKeysWithValues: zip(added.dropFirst(2_600).map(\.id), vectors.dropFirst(2_600)))
        #expect(try recall(store, remaining, scope: big, filter: .all) >= 0.95)
        try await store.update(added[4_000].id, metadata: ["n": 2])  // the rebuilt graph takes writes
        #expect(try store.search(vector: vectors[4_000], scope: big, filter: .eq("n", 2), limit: 1).first?.memory.id == added[4_000].id)
    }

    @Test("a graph the catch-up at open leaves with more removed nodes than live ones is rebuilt too", arguments: StoreBackend.available)
    func compactionAfterOpen(backend: StoreBackend) async throws {
        let dir = scratchDirectory("idx")
        var first: MemoryStore? = try openStore(dir, backend, WordsEmbedder())
        let vectors = randomUnitVectors(5_000, seed: 31)
        let added = try await first!.add((0..<5_000).map { "memory \($0)" }, vectors: vectors, scope: big)
        try await first!.checkpoint()
        for m in added.prefix(2_600) { try await first!.delete(m.id) }  // after the checkpoint: caught up at the next open
        first = nil
        let store = try openStore(dir, backend, WordsEmbedder())
        var counts = store.graphNodeCounts["big"]
        for _ in 0..<300 where counts.map({ $0.tombstones >= $0.live }) ?? true {
            try await Task.sleep(for: .milliseconds(100))
            counts = store.graphNodeCounts["big"]
        }
        #expect(counts?.live == 2_400 && counts?.tombstones == 0, "\(String(describing: counts))")
        let remaining = Dictionary(uniqueKeysWithValues: zip(added.dropFirst(2_600).map(\.id), vectors.dropFirst(2_600)))
        #expect(try recall(store, remaining, scope: big, filter: .all) >= 0.95)
    }

    @Test("a checkpoint is caught up at open with the adds, updates and deletes made after it; a damaged one is rebuilt", arguments: StoreBackend.available)
    func checkpointCatchUp(backend: StoreBackend) async throws {
        let dir = scratchDirectory("idx")
        var (store, vectors) = try populated(dir, backend)
        try await store.checkpoint()
        #expect(FileManager.default.fileExists(atPath: dir + "/index/manifest.json"))
        // After the checkpoint: adds to both tenants, deletes, a re-embedded text and a metadata change.
        let later = randomUnitVectors(200, seed: 12)
        let added = try await store.add((0..<200).map { NewMemory(text: "later \($0)", scope: $0 % 2 == 0 ? big : small, metadata: ["key": .string("l\($0)")]) },
                                  vectors: later)
        for (m, v) in zip(added, later) { vectors[m.id] = v }
        let doomed = try store.list(scope: big, filter: .eq("n", 7), limit: 50).memories
        for m in doomed { try await store.delete(m.id); vectors[m.id] = nil }
        let changed = try store.list(scope: big, filter: .eq("n", 3), limit: 1).memories[0]
        try await store.update(changed.id, text: "a brand new text", scope: big)
        vectors[changed.id] = WordsEmbedder.vector("a brand new text")
        let relabeled = try store.list(scope: small, limit: 1).memories[0]
        try await store.update(relabeled.id, metadata: ["tag": "z"], scope: small)

        func check(_ store: MemoryStore) throws {
            #expect(store.count == vectors.count)
            for (id, v) in vectors.shuffled().prefix(300) {
                let m = try store.get(id)
                #expect(try store.search(vector: v, scope: m.scope, limit: 1).first?.memory.id == id)
            }
            for m in doomed { #expect(throws: MemoryError.notFound(m.id)) { try store.get(m.id) } }
            #expect(try store.list(scope: small, filter: .eq("tag", "z")).memories.map(\.id) == [relabeled.id])
            #expect(try recall(store, vectors, scope: big, filter: .ne("n", 1)) >= 0.95)
        }
        try check(store)
        store = try openStore(dir, backend, WordsEmbedder())  // no close: the checkpoint is stale
        try check(store)
        for file in try FileManager.default.contentsOfDirectory(atPath: dir + "/index") where file.hasSuffix(".engram") {
            let handle = try #require(FileHandle(forWritingAtPath: dir + "/index/" + file))
            handle.write(Data(repeating: 0xA5, count: 64))
            try handle.close()
        }
        store = try openStore(dir, backend, WordsEmbedder())
        try check(store)
        let database = try backend.database(for: dir).map { try PostgresLocation(url: $0) }
        #expect(try await MemoryStore.rebuild(directory: dir, embedder: WordsEmbedder(), database: database) == vectors.count)
        try check(try openStore(dir, backend, WordsEmbedder()))
    }
}
