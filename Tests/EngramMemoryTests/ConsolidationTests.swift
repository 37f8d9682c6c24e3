import EngramSupport
import Foundation
import EngramTestSupport
import Testing
import EngramMemory

@Suite("Near-duplicate consolidation at write time")
struct ConsolidationTests {
    let alice = MemoryScope(userID: "alice")

    @Test("a near-duplicate of a current memory of exactly its scope (or of an earlier item) comes back as that memory; another value, a negation, other numbers, another scope, a closed version, or the threshold at 1 store a new one",
          arguments: StoreBackend.available)
    func nearDuplicates(backend: StoreBackend) throws {
        let store = try openStore(scratchDirectory("consolidation"), backend)
        let v = WordsEmbedder.vector("prefers oolong tea")
        // The same vector for every text: only the guards and the scope decide.
        func add(_ text: String, _ scope: MemoryScope? = nil, threshold: Float? = 0.9, supersedes: UUID? = nil) throws -> Memory {
            try store.add([NewMemory(text: text, scope: scope ?? alice, supersedes: supersedes)], vectors: [v], dedupThreshold: threshold)[0]
        }
        let tea = try add("Prefers oolong tea.")
        #expect(try add("prefers oolong tea!").id == tea.id)
        #expect(try add("Does not prefer oolong tea.").id != tea.id)
        #expect(try add("Prefers oolong tea, 2 cups.").id != tea.id)
        #expect(try add("prefers oolong tea!!", MemoryScope(userID: "alice", agentID: "planner")).id != tea.id)
        #expect(try add("prefers oolong tea!!!", MemoryScope(userID: "bob")).id != tea.id)
        let unmerged = try add("Prefers oolong tea…", threshold: 1)
        #expect(unmerged.id != tea.id)
        #expect(try add("Prefers oolong tea…", threshold: nil).id == unmerged.id)  // an exact duplicate of the last one: that one
        // Cosine under the threshold: a new memory.
        let other = try store.add([NewMemory(text: "prefers oolong tea?", scope: alice)], vectors: [WordsEmbedder.vector("likes black coffee a lot")],
                                  dedupThreshold: 0.9)[0]
        #expect(other.id != tea.id)
        // A closed version is not current: its near-duplicate is new.
        let dave = MemoryScope(userID: "dave")
        let old = try add("Prefers oolong tea.", dave)
        let green = try store.add([NewMemory(text: "prefers green tea now", scope: dave, supersedes: old.id)],
                                  vectors: [WordsEmbedder.vector("prefers green tea now")])[0]
        let back = try add("prefers oolong tea!", dave)
        #expect(back.id != old.id && back.id != green.id && back.validTo == nil)
        // In one batch: the second is the first again.
        let batch = try store.add([NewMemory(text: "Walks the dog at 7", scope: MemoryScope(userID: "carol")),
                                   NewMemory(text: "walks the dog at 7!", scope: MemoryScope(userID: "carol"))], vectors: [v, v], dedupThreshold: 0.9)
        let carol = try store.list(scope: MemoryScope(userID: "carol"))
        #expect(batch[0].id == batch[1].id && carol.total == 1)
        #expect(throws: MemoryError.self) { try store.add([NewMemory(text: "x", scope: alice)], vectors: [v], dedupThreshold: 1.5) }
    }

    @Test("the guards: negation cues and numbers")
    func guards() {
        #expect(NearDuplicate.isSameFact("I live in Lisbon.", "i live in lisbon", similarity: 0.95, threshold: 0.9))
        #expect(!NearDuplicate.isSameFact("I live in Lisbon.", "I no longer live in Lisbon.", similarity: 0.97, threshold: 0.9))
        #expect(!NearDuplicate.isSameFact("I drink tea.", "I don't drink tea.", similarity: 0.97, threshold: 0.9))
        #expect(!NearDuplicate.isSameFact("I drink tea.", "I don’t drink tea.", similarity: 0.97, threshold: 0.9))
        #expect(!NearDuplicate.isSameFact("Room 12", "Room 21", similarity: 0.99, threshold: 0.9))
        #expect(!NearDuplicate.isSameFact("I live in Lisbon.", "I live in Lisbon.", similarity: 0.89, threshold: 0.9))
    }
}
