import EngramIndex
import EngramTestSupport
import Foundation
import Testing

@Suite("VectorIndex protocol")
struct VectorIndexTests {
    static func make(_ kind: IndexFileHeader.Kind, metric: Metric) throws -> any VectorIndex {
        switch kind {
        case .flat: try FlatIndex(dimension: 16, metric: metric)
        case .hnsw: try HNSWIndex(dimension: 16, metric: metric, parameters: HNSWParameters(m: 8, efConstruction: 100))
        }
    }

    @Test("through `any VectorIndex`, both kinds agree with brute force: search, filter, scores, batch, save and open",
          arguments: [IndexFileHeader.Kind.flat, .hnsw], [Metric.cosine, .l2, .innerProduct])
    func agreesWithBruteForce(kind: IndexFileHeader.Kind, metric: Metric) throws {
        let base = TestData.random(count: 300, dimension: 16, seed: 3)
        let ids = (0..<300).map { UInt64($0) * 3 + 1 }
        let index = try Self.make(kind, metric: metric)
        try index.add(base, ids: ids)
        #expect(index.count == 300 && index.kind == kind && Set(index.liveIDs) == Set(ids))
        let queries = TestData.random(count: 20, dimension: 16, seed: 4)
        let allowed = Set(ids.filter { $0 % 2 == 0 })
        for i in 0..<queries.count {
            let q = Array(queries[i])
            let truth = TestData.bruteForce(base, ids: ids, query: q, k: 300, metric: metric)
            // A graph this small, at ef 300, is searched exhaustively enough to be exact.
            #expect(try index.search(q, k: 10, ef: 300, filter: nil).map(\.id) == Array(truth.prefix(10)))
            #expect(try index.search(q, k: 5, ef: 300, filter: SearchFilter(allowing: allowed)).map(\.id)
                    == Array(truth.filter(allowed.contains).prefix(5)))
            let scored = try index.scores(q, ids: [ids[7], 999_999, ids[3]])
            #expect(scored.map(\.id) == [ids[7], ids[3]])
            let exact = try index.search(q, k: 300, ef: 300, filter: SearchFilter(allowing: [ids[7]]))
            #expect(abs(scored[0].score - exact[0].score) <= 1e-5 * max(1, abs(exact[0].score)))
        }
        let batch = try index.search(batch: queries, k: 10, ef: 300, threads: 2)
        for i in 0..<queries.count {
            // sgemm rounds differently from a scan: the same ids, scores within float error.
            let single = try index.search(Array(queries[i]), k: 10, ef: 300, filter: nil)
            #expect(batch[i].map(\.id) == single.map(\.id))
            #expect(zip(batch[i], single).allSatisfy { abs($0.score - $1.score) <= 1e-4 * max(1, abs($1.score)) })
        }
        let directory = scratchDirectory("vector-index")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/index.engram"
        try index.save(to: path)
        let opened = try IndexFile.open(path)
        #expect(opened.kind == kind && opened.count == 300)
        #expect(try opened.search(Array(queries[0]), k: 10, ef: 300, filter: nil) == index.search(Array(queries[0]), k: 10, ef: 300, filter: nil))
    }

    @Test("bad input through the protocol is a typed error", arguments: [IndexFileHeader.Kind.flat, .hnsw])
    func badInput(kind: IndexFileHeader.Kind) throws {
        let index = try Self.make(kind, metric: .cosine)
        #expect(throws: EngramError.emptyIndex) { try index.search([Float](repeating: 1, count: 16), k: 1) }
        try index.add(TestData.random(count: 3, dimension: 16, seed: 1), ids: [1, 2, 3])
        #expect(throws: EngramError.invalidK(0)) { try index.search([Float](repeating: 1, count: 16), k: 0) }
        #expect(throws: EngramError.dimensionMismatch(expected: 16, actual: 2)) { try index.scores([1, 2], ids: [1]) }
        #expect(throws: EngramError.unknownID(9)) { try index.vector(id: 9) }
        #expect(throws: EngramError.unknownID(9)) { try index.remove(id: 9) }
        #expect(throws: EngramError.invalidParameter("threads must be positive, got 0")) {
            try index.search(batch: TestData.random(count: 1, dimension: 16, seed: 1), k: 1, ef: nil, threads: 0)
        }
    }
}
