import EngramSupport
import Foundation
import EngramTestSupport
import Testing
import EngramMemory

@Suite("Recall under a token budget")
struct RecallTests {
    let alice = MemoryScope(userID: "alice")

    @Test("the estimated counter is at least what cl100k and o200k count (their counts from bpe-openai) and grows with the text")
    func estimate() {
        let counter = EstimatedTokenCounter()
        let measured: [(String, Int)] = [
            ("Kodi PVR Addon VDR VNSI", 11), ("DBus binding for dhcpcd, for use by dhcpcd frontends such as dhcpcd-gtk.", 27),
            ("The user moved to Lisbon on 2026-03-04 and prefers oolong tea.", 20), ("Zürich – naïve café ☕ 東京", 12), ("x", 1),
        ]
        for (text, tokens) in measured { #expect(counter.count(text) >= tokens, "\(text)") }
        #expect(counter.count("") == 1 && counter.count("a b") < counter.count("a b c d e f"))
    }

    @Test("recall never exceeds the budget, starts with the best hit whenever its line fits, drops near-duplicates and dates each line",
          arguments: StoreBackend.available)
    func budget(backend: StoreBackend) throws {
        let store = try openStore(scratchDirectory("recall"), backend)
        var rng = SplitMix64(seed: 5)
        let words = ["tea", "coffee", "lisbon", "paris", "running", "chess", "piano", "spicy", "food", "mornings", "dog", "books"]
        let texts = (0..<60).map { i in (0..<(3 + Int(rng.next() % 12))).map { _ in words[Int(rng.next() % 12)] }.joined(separator: " ") + " \(i)" }
        let day = Date(timeIntervalSince1970: 1_772_582_400)  // 2026-03-04
        _ = try store.add(texts.map { NewMemory(text: $0, scope: alice, validFrom: day) }, vectors: texts.map(WordsEmbedder.vector))
        let counter = EstimatedTokenCounter()
        for query in ["tea in the mornings", "chess and piano", "spicy food in paris"] {
            let vector = WordsEmbedder.vector(query)
            let best = try #require(store.search(query, vector: vector, scope: alice, limit: 1).first)
            for budget in [1, 5, 9, 17, 30, 64, 200, 1_000] {
                let recall = try store.recall(query, vector: vector, scope: alice, budgetTokens: budget)
                #expect(recall.tokens <= budget && counter.count(recall.context) == recall.tokens || recall.memories.isEmpty)
                #expect(recall.context.split(separator: "\n").count == recall.memories.count)
                #expect(recall.context.split(separator: "\n").allSatisfy { $0.hasPrefix("[2026-03-04] ") })
                let bestLine = "[2026-03-04] " + best.memory.text
                if counter.count(bestLine) <= budget { #expect(recall.memories.first?.memory.id == best.memory.id, "\(query) \(budget)") }
                else { #expect(!recall.memories.contains { $0.memory.id == best.memory.id }) }
            }
        }
        // A near-duplicate (same words: cosine 1) of a chosen memory is left out; λ = 1 is relevance order.
        _ = try store.add(["prefers oolong tea", "tea oolong prefers"], vectors: ["prefers oolong tea", "tea oolong prefers"].map(WordsEmbedder.vector), scope: alice)
        let recall = try store.recall("oolong tea", vector: WordsEmbedder.vector("oolong tea"), scope: alice, budgetTokens: 10_000)
        #expect(recall.memories.filter { $0.memory.text.contains("oolong") }.count == 1)
        #expect(throws: MemoryError.self) { try store.recall("x", vector: WordsEmbedder.vector("x"), scope: alice, budgetTokens: 0) }
    }
}
