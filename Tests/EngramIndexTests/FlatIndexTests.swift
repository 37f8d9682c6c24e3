import Testing
import EngramIndex

@Suite("FlatIndex")
struct FlatIndexTests {
    @Test("top-k equals a brute-force sort", arguments: Metric.allCases)
    func topKMatchesBruteForce(metric: Metric) throws {
        let base = TestData.random(count: 700, dimension: 37, seed: 1)
        let queries = TestData.random(count: 20, dimension: 37, seed: 2)
        let ids = (0..<UInt64(base.count)).map { $0 * 3 + 5 }
        let index = try FlatIndex(dimension: 37, metric: metric)
        try index.add(base, ids: ids)
        for i in 0..<queries.count {
            let got = try index.search(Array(queries[i]), k: 10)
            #expect(got.map(\.id) == TestData.bruteForce(base, ids: ids, query: Array(queries[i]), k: 10, metric: metric))
            #expect(zip(got, got.dropFirst()).allSatisfy { metric == .l2 ? $0.score <= $1.score : $0.score >= $1.score })
        }
    }

    @Test("the nearest among chosen ids over two indexes equals a filtered search of their union; an id in both counts once",
          arguments: Metric.allCases)
    func nearestAmongIDs(metric: Metric) throws {
        let base = TestData.random(count: 900, dimension: 24, seed: 11)
        let queries = TestData.random(count: 10, dimension: 24, seed: 12)
        let (first, second, union) = try (FlatIndex(dimension: 24, metric: metric), FlatIndex(dimension: 24, metric: metric),
                                          FlatIndex(dimension: 24, metric: metric))
        // Ids 0..<600 in the first, 500..<900 in the second: 500..<600 in both, as during a fold.
        for i in 0..<900 {
            let row = Array(base[i])
            if i < 600 { try first.add(row, id: UInt64(i)) }
            if i >= 500 { try second.add(row, id: UInt64(i)) }
            try union.add(row, id: UInt64(i))
        }
        var rng = TestRNG(seed: 13)
        let chosen = (0..<1_000).filter { _ in Double.random(in: 0..<1, using: &rng) < 0.3 }.map(UInt64.init)  // some held by neither
        for i in 0..<queries.count {
            for k in [1, 10, 500] {
                var got: [SearchResult] = [SearchResult(id: 7_777, score: 0)]  // appended to, never replaced
                try chosen.withUnsafeBufferPointer { try first.nearest(Array(queries[i]), k: k, among: $0, alsoIn: second, appendingTo: &got) }
                let expected = try union.search(Array(queries[i]), k: k, filter: SearchFilter(allowing: chosen))
                #expect(got.first?.id == 7_777 && Array(got.dropFirst()) == expected)
            }
        }
        var none: [SearchResult] = []
        #expect(throws: EngramError.invalidK(0)) {
            try chosen.withUnsafeBufferPointer { try first.nearest(Array(queries[0]), k: 0, among: $0, appendingTo: &none) }
        }
    }

    @Test("batched search equals one-at-a-time search", arguments: [1, 3, 4, 40, 300], [1, 2])
    func batchEqualsSingle(queryCount: Int, threads: Int) throws {
        for metric in Metric.allCases {
            let base = TestData.random(count: 2_500, dimension: 48, seed: 3)
            let queries = TestData.random(count: queryCount, dimension: 48, seed: 4)
            let index = try FlatIndex(dimension: 48, metric: metric)
            try index.add(base, ids: (0..<UInt64(base.count)).map { $0 })
            try index.remove(id: 17)  // a hole in the slots must be skipped by both paths
            let batch = try index.search(batch: queries, k: 7, threads: threads)
            for i in 0..<queryCount {
                let single = try index.search(Array(queries[i]), k: 7)
                #expect(batch[i].map(\.id) == single.map(\.id))
                for (a, b) in zip(batch[i], single) { #expect(abs(a.score - b.score) <= 1e-4 * max(1, abs(b.score))) }
            }
        }
    }

    @Test("batched l2 search stays exact on data far from the origin (a large common offset), where |q|² + |x|² − 2q·x loses its digits")
    func batchFarFromOrigin() throws {
        var rng = TestRNG(seed: 5)
        func points(_ n: Int) throws -> VectorMatrix {
            try VectorMatrix(dimension: 32, values: (0..<n * 32).map { _ in 1_000 + Float.random(in: -0.1...0.1, using: &rng) })
        }
        let (base, queries) = (try points(3_000), try points(64))
        let ids = (0..<UInt64(base.count)).map { $0 }
        let index = try FlatIndex(dimension: 32, metric: .l2)
        try index.add(base, ids: ids)
        let batch = try index.search(batch: queries, k: 10)
        for i in 0..<queries.count {
            #expect(batch[i].map(\.id) == TestData.bruteForce(base, ids: ids, query: Array(queries[i]), k: 10, metric: .l2))
            #expect(batch[i] == (try index.search(Array(queries[i]), k: 10)))
        }
    }

    @Test("exact search on the real MiniLM data has recall 1.0 against the shipped ground truth")
    func realDataRecall() throws {
        let base = try VectorFile.readFvecs(TestData.minilm + "/base.fvecs")
        let queries = try VectorFile.readFvecs(TestData.minilm + "/queries.fvecs").prefix(100)
        let truth = try VectorFile.readIvecs(TestData.minilm + "/groundtruth.ivecs")
        let index = try FlatIndex(dimension: base.dimension, metric: .innerProduct)
        try index.add(base, ids: (0..<UInt64(base.count)).map { $0 })
        let results = try index.search(batch: queries, k: 10, threads: 2)
        var hits = 0
        for (i, r) in results.enumerated() { hits += Set(r.map(\.id)).intersection(truth[i].prefix(10).map { UInt64($0) }).count }
        #expect(Double(hits) / Double(results.count * 10) == 1.0)
    }

    @Test("remove, replace and slot reuse")
    func mutations() throws {
        let index = try FlatIndex(dimension: 2, metric: .l2)
        try index.add([0, 0], id: 1)
        try index.add([1, 0], id: 2)
        try index.add([5, 5], id: 3)
        #expect(index.count == 3)
        try index.remove(id: 2)
        #expect(!index.contains(id: 2))
        #expect(try index.search([1, 0], k: 3).map(\.id) == [1, 3])
        try index.add([1, 0.1], id: 4)  // reuses slot of 2
        try index.add([9, 9], id: 1)  // replaces 1
        #expect(try index.vector(id: 1) == [9, 9])
        #expect(try index.search([1, 0], k: 2).map(\.id) == [4, 3])
        #expect(index.count == 3)
    }

    @Test("filters return only allowed ids, and stay exact when slots are reused or the filter comes from elsewhere")
    func filters() throws {
        let base = TestData.random(count: 500, dimension: 8, seed: 9)
        let index = try FlatIndex(dimension: 8, metric: .cosine)
        try index.add(base, ids: (0..<500).map { UInt64($0) })
        let allowed = Set((0..<500).filter { $0 % 7 == 0 }.map { UInt64($0) })
        let filter = index.filter(allowing: allowed.union([10_000]))
        #expect(filter.allowedCount == allowed.count)
        let q = Array(base[3])
        let got = try index.search(q, k: 10, filter: filter)
        #expect(got.count == 10 && got.allSatisfy { allowed.contains($0.id) })
        let ranking = TestData.bruteForce(base, ids: (0..<500).map { UInt64($0) }, query: q, k: 500, metric: .cosine)
        #expect(got.map(\.id) == Array(ranking.filter { allowed.contains($0) }.prefix(10)))
        try index.remove(id: 0)
        #expect(try index.search(q, k: 100, filter: filter).count == allowed.count - 1)
        // Id 777 reuses the slot of 0, which the filter allowed: resolved again, the filter does not
        // let 777 in, and an id it names that arrives later is allowed.
        try index.add(Array(base[0]), id: 777)
        let afterReuse = try index.search(Array(base[0]), k: 100, filter: filter)
        #expect(afterReuse.count == allowed.count - 1 && afterReuse.allSatisfy { allowed.contains($0.id) })
        try index.add(Array(base[0]), id: 10_000)
        #expect(try index.search(Array(base[0]), k: 1, filter: filter).map(\.id) == [10_000])
        // A filter made by another index, or from ids alone, gives the same answer.
        let other = try FlatIndex(dimension: 8, metric: .cosine)
        try other.add(Array(base[1]), id: 1)
        for foreign in [other.filter(allowing: allowed), SearchFilter(allowing: allowed)] {
            #expect(try index.search(q, k: 10, filter: foreign).map(\.id) == Array(ranking.filter { allowed.contains($0) && $0 != 0 }.prefix(10)))
        }
        #expect(SearchFilter(allowing: [1, 2]).allowedCount == nil && filter.allowedCount == allowed.count)
    }

    @Test("bad input gets typed errors")
    func badInput() throws {
        #expect(throws: EngramError.invalidParameter("dimension must be in 1...65536, got 0")) { try FlatIndex(dimension: 0) }
        let index = try FlatIndex(dimension: 3, metric: .cosine)
        #expect(throws: EngramError.emptyIndex) { try index.search([1, 2, 3], k: 1) }
        #expect(throws: EngramError.dimensionMismatch(expected: 3, actual: 2)) { try index.add([1, 2], id: 1) }
        #expect(throws: EngramError.nonFiniteComponent(index: 1)) { try index.add([1, .nan, 3], id: 1) }
        #expect(throws: EngramError.nonFiniteComponent(index: 2)) { try index.add([1, 2, .infinity], id: 1) }
        #expect(throws: EngramError.zeroVector) { try index.add([0, 0, 0], id: 1) }
        try index.add([1, 2, 3], id: 1)
        #expect(throws: EngramError.invalidK(0)) { try index.search([1, 2, 3], k: 0) }
        #expect(throws: EngramError.invalidK(-1)) { try index.search(batch: try VectorMatrix(dimension: 3, values: [1, 2, 3]), k: -1) }
        #expect(throws: EngramError.dimensionMismatch(expected: 3, actual: 4)) { try index.search([1, 2, 3, 4], k: 1) }
        #expect(throws: EngramError.nonFiniteComponent(index: 0)) { try index.search([.nan, 2, 3], k: 1) }
        #expect(throws: EngramError.unknownID(9)) { try index.remove(id: 9) }
        #expect(throws: EngramError.unknownID(9)) { try index.vector(id: 9) }
        #expect(throws: EngramError.duplicateID(4)) {
            try index.add(VectorMatrix(dimension: 3, values: [1, 1, 1, 2, 2, 2]), ids: [4, 4])
        }
        // A failed batch adds nothing.
        #expect(throws: EngramError.nonFiniteComponent(index: 4)) {
            try index.add(VectorMatrix(dimension: 3, values: [1, 1, 1, 2, .nan, 2]), ids: [5, 6])
        }
        #expect(index.count == 1 && !index.contains(id: 5))
    }

    @Test("concurrent searches and writes keep results valid")
    func concurrency() async throws {
        let base = TestData.random(count: 2_000, dimension: 16, seed: 5)
        let index = try FlatIndex(dimension: 16, metric: .l2)
        try index.add(base.prefix(1_000), ids: (0..<1_000).map { UInt64($0) })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for i in 1_000..<2_000 { try index.add(Array(base[i]), id: UInt64(i)) }
            }
            for t in 0..<4 {
                group.addTask {
                    for i in 0..<200 {
                        let q = Array(base[(i * 7 + t) % 1_000])
                        let r = try index.search(q, k: 5)
                        #expect(r.count == 5)
                        #expect(r[0].score <= 1e-4)  // the query itself is stored
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(index.count == 2_000)
    }
}
