import EngramSupport
import EngramTestSupport
import Foundation
import Testing
import EngramMemory

@Suite("Memory store concurrency")
struct ConcurrencyStressTests {
    static let words = (0..<400).map { "w\($0)" }

    /// A text of six distinct random words: two texts almost never share a vector.
    static func text(_ rng: inout SplitMix64) -> String {
        var picked = Set<String>()
        while picked.count < 6 { picked.insert(words.randomElement(using: &rng)!) }
        return picked.sorted().joined(separator: " ")
    }

    /// What the workers know for sure: the memories whose add was acknowledged and whose delete was not.
    final class Truth: Sendable {
        let alive = Locked<[UUID: MemoryScope]>([:])
        let deleted = Locked<Set<UUID>>([])
        func added(_ memories: [Memory]) { alive.withLock { for m in memories { $0[m.id] = m.scope } } }
        func removed(_ id: UUID) {
            alive.withLock { _ = $0.removeValue(forKey: id) }
            deleted.withLock { _ = $0.insert(id) }
        }
        func random(_ rng: inout SplitMix64, in scope: MemoryScope? = nil) -> UUID? {
            alive.withLock { alive in alive.filter { scope?.contains($0.value) ?? true }.keys.randomElement(using: &rng) }
        }
    }

    static let scopes = [MemoryScope(userID: "big"), MemoryScope(userID: "u1"), MemoryScope(userID: "u2", agentID: "a"),
                         MemoryScope(agentID: "a"), MemoryScope(runID: "r")]

    @Test("concurrent adds, updates, deletes, searches and checkpoints, then a close racing background work: the reopened store's gets, lists and searches agree for every memory", arguments: StoreBackend.available)
    func stress(backend: StoreBackend) async throws {
        let dir = scratchDirectory("stress")
        let store = try openStore(dir, backend, WordsEmbedder())
        let truth = Truth()
        var seed = SplitMix64(seed: 1)
        // A tenant large enough for a graph, so that deletes leave tombstones and rebuilds run.
        let big = (0..<2_600).map { _ in Self.text(&seed) }
        truth.added(try await store.add(big, vectors: big.map(WordsEmbedder.vector), scope: Self.scopes[0]))

        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    var rng = SplitMix64(seed: 100 + UInt64(worker))
                    for step in 0..<150 { try await Self.step(store, truth, worker: worker, step: step, rng: &rng) }
                }
            }
            try await group.waitForAll()
        }
        // Enough deletes in the big tenant that its graph is due for a rebuild, then close at once.
        for _ in 0..<1_400 {
            guard let id = truth.random(&seed, in: Self.scopes[0]) else { break }
            try await store.delete(id)
            truth.removed(id)
        }
        try Self.expectConsistent(store, truth)
        try await store.close()
        await #expect(throws: MemoryError.closed) { try await store.search("w1", scope: Self.scopes[1]) }
        #expect(throws: MemoryError.closed) { try store.get(UUID()) }

        let reopened = try openStore(dir, backend, WordsEmbedder())
        try Self.expectConsistent(reopened, truth)
        try await reopened.checkpoint()
        try Self.expectConsistent(try openStore(dir, backend, WordsEmbedder()), truth)
    }

    /// One random operation of a worker, checking what it can check on the spot.
    static func step(_ store: MemoryStore, _ truth: Truth, worker: Int, step: Int, rng: inout SplitMix64) async throws {
        let scope = scopes.randomElement(using: &rng)!
        switch Int.random(in: 0..<10, using: &rng) {
        case 0..<3:
            let texts = (0..<Int.random(in: 1...8, using: &rng)).map { _ in text(&rng) }
            truth.added(try await store.add(texts, vectors: texts.map(WordsEmbedder.vector), scope: scope, metadata: ["worker": .number(Double(worker))]))
        case 3:
            guard let id = truth.random(&rng, in: scope) else { return }
            let text = text(&rng)
            do {
                let updated = try store.update(id, text: text, vector: WordsEmbedder.vector(text), metadata: ["step": .number(Double(step))])
                #expect(updated.id == id && updated.text == text)
            } catch MemoryError.notFound { return }  // deleted by another worker meanwhile
        case 4:
            guard let id = truth.random(&rng, in: scope) else { return }
            do {
                try await store.delete(id)
                truth.removed(id)
            } catch MemoryError.notFound { return }
        case 5:
            if worker == 0 { try await store.checkpoint() } else { _ = try await store.checkpointIfDue() }
        case 6:
            // A scope only this worker writes to: what deleteAll removes is exactly what it added there.
            let own = MemoryScope(userID: "temp\(worker)")
            let texts = (0..<Int.random(in: 1...5, using: &rng)).map { _ in text(&rng) }
            truth.added(try await store.add(texts, vectors: texts.map(WordsEmbedder.vector), scope: own, metadata: ["worker": .number(Double(worker))]))
            if Bool.random(using: &rng) {
                let ids = truth.alive.withLock { $0.filter { $0.value == own }.keys }
                #expect(try await store.deleteAll(scope: own) == ids.count)
                for id in ids { truth.removed(id) }
            }
        default:
            let query = text(&rng)
            let mode = [SearchMode.vector, .keyword, .hybrid].randomElement(using: &rng)!
            let hits = try store.search(query, vector: WordsEmbedder.vector(query), scope: scope, filter: .gte("worker", 0) || .exists("step"),
                                        limit: 10, mode: mode)
            #expect(hits.allSatisfy { scope.contains($0.memory.scope) })
            #expect(zip(hits, hits.dropFirst()).allSatisfy { $0.score >= $1.score })
        }
    }

    /// Every acknowledged memory is there, every acknowledged delete is gone, and the derived
    /// state (lists, searches) agrees with the record (gets) memory for memory.
    static func expectConsistent(_ store: MemoryStore, _ truth: Truth) throws {
        let alive = truth.alive.withLock { $0 }
        for id in truth.deleted.withLock({ $0 }) { #expect(throws: MemoryError.notFound(id)) { try store.get(id) } }
        var listed: [UUID: Memory] = [:]
        for scope in [MemoryScope(userID: "big"), MemoryScope(userID: "u1"), MemoryScope(userID: "u2"), MemoryScope(agentID: "a"), MemoryScope(runID: "r")]
            + (0..<4).map({ MemoryScope(userID: "temp\($0)") }) {
            for memory in try store.list(scope: scope, limit: 100_000).memories { listed[memory.id] = memory }
        }
        let mismatched = Set(listed.keys).symmetricDifference(alive.keys)
        #expect(mismatched.isEmpty, "\(mismatched.count) memories listed but not alive, or alive but not listed")
        #expect(store.count == alive.count)
        for (id, memory) in listed {
            #expect(try store.get(id) == memory)
            let hit = try store.search(vector: WordsEmbedder.vector(memory.text), scope: memory.scope, limit: 1).first
            #expect(hit.map { WordsEmbedder.vector($0.memory.text) == WordsEmbedder.vector(memory.text) } == true, "\(memory.text)")
        }
    }
}
