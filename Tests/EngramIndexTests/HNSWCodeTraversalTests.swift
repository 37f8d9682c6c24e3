import EngramIndex
import EngramSupport
import EngramTestSupport
import Foundation
import Testing

@Suite("HNSW on 8-bit codes")
struct HNSWCodeTraversalTests {
    static func codeIndex(_ metric: Metric, dimension: Int = 32) throws -> HNSWIndex {
        try HNSWIndex(dimension: dimension, metric: metric, parameters: HNSWParameters(m: 12, efConstruction: 100, int8Traversal: true))
    }

    /// A code index over the clustered points (ids 0..<3,000), with the points and their queries.
    static func clusteredCodeIndex(_ metric: Metric) throws -> (index: HNSWIndex, base: VectorMatrix, queries: VectorMatrix) {
        let (base, queries) = try HNSWIndexTests.clustered()
        let index = try codeIndex(metric)
        try index.add(base, ids: (0..<3_000).map { UInt64($0) })
        return (index, base, queries)
    }

    @Test("real MiniLM data: recall@10 at ef 64 as high as the f16 walk's bar")
    func realDataRecall() throws {
        let index = try Self.codeIndex(.cosine, dimension: 384)
        try index.add(HNSWIndexTests.base, ids: (0..<20_000).map { UInt64($0) })  // one thread: the same graph every run (0.991); a two-thread build once gave 0.969
        #expect(index.walksOnCodes)
        let truth = HNSWIndexTests.truth.map { $0.map { UInt64($0) } }
        let r = try HNSWIndexTests.recall(index, HNSWIndexTests.queries, truth: truth, ef: 64)
        #expect(r >= 0.97, "recall \(r)")
    }

    @Test("one vector at a time: the codes are fitted when the index reaches 1,000 vectors")
    func fittedOnSingleAdds() throws {
        let (base, queries) = try HNSWIndexTests.clustered()
        let index = try Self.codeIndex(.l2)
        for i in 0..<999 { try index.add(Array(base[i]), id: UInt64(i)) }
        #expect(!index.walksOnCodes)
        try index.add(Array(base[999]), id: 999)
        #expect(index.walksOnCodes)
        for i in 1_000..<2_000 { try index.add(Array(base[i]), id: UInt64(i)) }
        #expect(index.walksOnCodes)
        let ids = (0..<2_000).map { UInt64($0) }
        let sub = try VectorMatrix(dimension: 32, rows: (0..<2_000).map { Array(base[$0]) })
        let truth = try HNSWIndexTests.exactTruth(sub, ids: ids, queries, k: 10, metric: .l2)
        #expect(try HNSWIndexTests.recall(index, queries, truth: truth, ef: 100) >= 0.95)
    }

    @Test("data far from the origin keeps the code walk (each dimension is centred); data the codes cannot hold turns it off for good, and recall holds",
          arguments: [(Float(1), Float(500), true), (50, 0, false), (1, 3, false)])
    func unfaithfulData(scale: Float, offset: Float, stays: Bool) throws {
        let (base, queries) = try HNSWIndexTests.clustered(offset: offset == 500 ? 500 : 0)
        let index = try Self.codeIndex(.l2)
        try index.add(base, ids: (0..<3_000).map { UInt64($0) })
        #expect(index.walksOnCodes)
        // Later vectors: the same points, scaled or shifted past the fitted range (unless the offset was there from the start).
        let later = try VectorMatrix(dimension: 32, rows: (0..<300).map { i in
            Array(base[i]).map { offset == 500 ? $0 : $0 * scale + offset }
        })
        try index.add(later, ids: (0..<300).map { 10_000 + UInt64($0) })
        #expect(index.walksOnCodes == stays)
        let all = try VectorMatrix(dimension: 32, rows: (0..<3_000).map { Array(base[$0]) } + (0..<300).map { Array(later[$0]) })
        let ids = (0..<3_000).map { UInt64($0) } + (0..<300).map { 10_000 + UInt64($0) }
        let truth = try HNSWIndexTests.exactTruth(all, ids: ids, queries, k: 10, metric: .l2)
        #expect(try HNSWIndexTests.recall(index, queries, truth: truth, ef: 100) >= 0.95)
        try index.add(later, ids: (0..<300).map { 20_000 + UInt64($0) })
        #expect(index.walksOnCodes == stays)  // off stays off
    }

    @Test("filtered searches and compaction keep working on codes")
    func filteredAndCompacted() throws {
        let (index, base, queries) = try Self.clusteredCodeIndex(.cosine)
        let ids = (0..<3_000).map { UInt64($0) }
        let allowed = Set(ids.filter { $0 % 3 == 0 })
        let truth = try HNSWIndexTests.exactTruth(base, ids: ids, queries, k: 10, metric: .cosine, allowed: allowed)
        let r = try HNSWIndexTests.recall(index, queries, truth: truth, ef: 100, filter: index.filter(allowing: allowed))
        #expect(r >= 0.95, "filtered recall \(r)")
        for id in ids where id % 3 != 0 { try index.remove(id: id) }
        try index.compact()
        #expect(index.walksOnCodes && index.count == allowed.count)
        #expect(try HNSWIndexTests.recall(index, queries, truth: truth, ef: 100) >= 0.95)
    }

    @Test("save and open: the file holds the codes, the opened index walks them in place with the same results; writes after open keep them")
    func persisted() throws {
        let (index, base, queries) = try Self.clusteredCodeIndex(.l2)
        let path = scratchDirectory("codes")  // used as the file
        try index.save(to: path)
        let header = try IndexFile.inspect(path)
        #expect(header.hasCodes && header.sections.map(\.id).contains(.codeQuantizer))
        try IndexFile.verify(path)
        let opened = try HNSWIndex.open(path)
        #expect(opened.walksOnCodes)
        for i in 0..<queries.count {
            #expect(try opened.search(Array(queries[i]), k: 10, ef: 64) == index.search(Array(queries[i]), k: 10, ef: 64))
        }
        try opened.add(Array(base[5]), id: 77_777)  // loads into memory, codes and all
        let near = try opened.search(Array(base[5]), k: 2).map(\.id)
        #expect(opened.walksOnCodes && near.contains(77_777))
    }

    @Test("a removed vector's code is in no saved file: its row holds a live neighbour's code, as its vector row does")
    func removedCodesGone() throws {
        let (index, _, _) = try Self.clusteredCodeIndex(.cosine)
        for id in stride(from: 0, to: 3_000, by: 7) { try index.remove(id: UInt64(id)) }
        let path = scratchDirectory("codes-removed")  // used as the file
        try index.save(to: path)
        let rows = try SavedRows(path)
        let live = Dictionary((0..<rows.count).filter { !rows.isRemoved($0) }.map { (rows.vector($0), $0) }) { a, _ in a }
        var checked = 0
        for slot in 0..<rows.count where rows.isRemoved(slot) {
            let source = try #require(live[rows.vector(slot)], "slot \(slot) holds a vector no live node has")
            #expect(rows.codeRow(slot) == rows.codeRow(source))
            checked += 1
        }
        #expect(checked == 429)
    }

    @Test("a quantizer table that is not finite and positive is a typed error at open")
    func corruptQuantizer() throws {
        let (index, _, _) = try Self.clusteredCodeIndex(.l2)
        let path = scratchDirectory("codes-corrupt")  // used as the file
        try index.save(to: path)
        var bytes = try FileIO.read(path)
        let table = try IndexFile.inspect(path).sections.first { $0.id == .codeQuantizer }!
        withUnsafeBytes(of: Float(-1)) { for i in 0..<4 { bytes[table.offset + 32 * 4 + i] = $0[i] } }  // scale of dimension 0
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(throws: EngramError.self) { try HNSWIndex.open(path) }
    }
}
