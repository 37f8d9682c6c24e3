import Foundation
import Testing
import EngramEmbedding

@Suite("MiniLM embedder", .enabled(if: Reference.modelDirectory != nil, "run scripts/fetch-model"))
struct MiniLMEmbedderTests {
    static let embedder = try! MiniLMEmbedder(threads: 2)

    @Test("cosine similarity to the reference (sentence-transformers) ≥ 0.9999 on every sentence, in f32 and in bf16",
          arguments: MiniLMEmbedder.Precision.allCases)
    func matchesReference(precision: MiniLMEmbedder.Precision) async throws {
        guard precision == .float32 || MiniLMEmbedder.supportsBFloat16 else {
            #expect(throws: EmbeddingError.self) { try MiniLMEmbedder(threads: 2, precision: precision) }
            return
        }
        let embedder = precision == .float32 ? Self.embedder : try MiniLMEmbedder(threads: 2, precision: precision)
        let texts = Reference.lines.map(\.text)
        let got = try await embedder.embed(texts)
        #expect(got.count == texts.count)
        var worst = 1.0, worstText = ""
        for (v, line) in zip(got, Reference.lines) {
            #expect(v.count == 384)
            let cos = zip(v, line.embedding).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            if cos < worst { (worst, worstText) = (cos, line.text) }
        }
        #expect(worst >= 0.9999, "worst cosine \(worst) for \(worstText.prefix(60))")
        print("minilm reference (\(precision)): worst cosine \(worst)")
    }

    @Test("results do not depend on batching or order")
    func batchingInvariant() async throws {
        let texts = Array(Reference.lines.prefix(40).map(\.text))
        let all = try await Self.embedder.embed(texts)
        let one = try await Self.embedder.embed([texts[7]])
        let reversed = try await Self.embedder.embed(texts.reversed())
        #expect(zip(all[7], one[0]).allSatisfy { abs($0 - $1) < 1e-5 })
        #expect(zip(all[0], reversed[39]).allSatisfy { abs($0 - $1) < 1e-5 })
        #expect(try await Self.embedder.embed([]).isEmpty)
    }

    @Test("a missing model directory names what to run")
    func missingModel() {
        do {
            _ = try MiniLMEmbedder(directory: "/nonexistent/model")
            Issue.record("an explicit missing directory must not fall back to the cache")
        } catch let EmbeddingError.modelNotFound(searched, hint) {
            #expect(searched == ["/nonexistent/model"] && hint.contains("scripts/fetch-model"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
