import EngramEmbedding
import EngramIndex
import EngramMemory
import Foundation

/// The Swift snippets of the README, verbatim (their imports are at the top of this file), each in
/// a function that declares the values it assumes. ``ReadmeTests`` checks that every README
/// snippet appears here, so the README cannot show code that does not compile.
enum ReadmeExamples {
    static func flatIndex(query: [Float], queries: VectorMatrix, allowedIDs: [UInt64]) throws {
        let index = try FlatIndex(dimension: 384, metric: .cosine)
        try index.add(try VectorFile.readFvecs("base.fvecs"), ids: Array(0..<20_000))
        let hits = try index.search(query, k: 10)                      // [SearchResult(id, score)], best first
        let many = try index.search(batch: queries, k: 10, threads: 2) // cblas_sgemm on blocks
        let some = try index.search(query, k: 10, filter: index.filter(allowing: allowedIDs))
        _ = (hits, many, some)
    }

    static func hnswIndex(vectors: VectorMatrix, ids: [UInt64], query: [Float], allowedIDs: [UInt64]) throws {
        let hnsw = try HNSWIndex(dimension: 384, metric: .cosine, parameters: HNSWParameters(m: 16, efConstruction: 200))
        try hnsw.add(vectors, ids: ids, threads: 2) { done in print(done) }     // parallel build, progress hook
        let hits = try hnsw.search(query, k: 10, ef: 64)                        // ef per call, never shared state
        let some = try hnsw.search(query, k: 10, filter: hnsw.filter(allowing: allowedIDs))
        try hnsw.remove(id: 42); try hnsw.compact(threads: 2)                   // tombstones, then reclaim
        _ = (hits, some)

        try hnsw.save(to: "docs.engram")               // temp file + fsync + rename + directory fsync
        let opened = try HNSWIndex.open("docs.engram") // mmap, header check only; searches read the file in place
        opened.warmUp()                                // optional: map every page a search reads now (O(n)) and
                                                       // run one search, so the first query takes no page fault
    }

    static func anyIndex(query: [Float]) throws {
        let index: any VectorIndex = try IndexFile.open("docs.engram") // a flat or an HNSW file
        let hits = try index.search(query, k: 10, filter: SearchFilter(allowing: [7, 9, 42]))
        _ = hits
    }

    static func embedders() async throws {
        let native = try MiniLMEmbedder()                               // $ENGRAM_MODEL_DIR or the cache; or (directory:)
        let vectors = try await native.embed(["what the user prefers", "what was decided"])
        let remote = try RemoteEmbedder(.init(baseURL: URL(string: "http://localhost:11434/v1")!, model: "all-minilm", dimension: 384))
        _ = (vectors, remote)
    }

    static func memory() async throws {
        let store = try MemoryStore(directory: "mem", embedder: try MiniLMEmbedder())
        try await store.add(["prefers dark mode"], scope: MemoryScope(userID: "alice"), metadata: ["app": "editor"])
        let hits = try await store.search("ui preferences", scope: MemoryScope(userID: "alice"),
                                          filter: .eq("app", "editor") && !.exists("archived"))
        try await store.close()                                         // background work stopped, checkpointed if due
        _ = hits
    }

    static func timeAndTruth(store: MemoryStore, alice: MemoryScope, lisbon: Memory, june: Date, january: Date) async throws {
        let paris = try await store.add([NewMemory(text: "lives in Paris", scope: alice, validFrom: june, supersedes: lisbon.id)])
        let then = try await store.search("where does she live", scope: alice, validity: .asOf(january))
        let context = try await store.recall("plan her weekend", scope: alice, budgetTokens: 200)   // context.context, .memories, .tokens
        _ = (paris, then, context)
    }
}
