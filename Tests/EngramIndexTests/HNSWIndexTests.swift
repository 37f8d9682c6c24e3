import Testing
import EngramIndex
import EngramTestSupport

@Suite("HNSWIndex")
struct HNSWIndexTests {
    /// Shared real data: 20k MiniLM vectors and 100 queries with exact ground truth.
    static let base = try! VectorFile.readFvecs(TestData.minilm + "/base.fvecs")
    static let queries = try! VectorFile.readFvecs(TestData.minilm + "/queries.fvecs").prefix(100)
    static let truth = try! VectorFile.readIvecs(TestData.minilm + "/groundtruth.ivecs")

    static func recall(_ index: HNSWIndex, _ queries: VectorMatrix, truth: [[UInt64]], k: Int = 10, ef: Int = 64,
                       filter: SearchFilter? = nil) throws -> Double {
        var hits = 0, total = 0
        for i in 0..<queries.count {
            let got = try index.search(Array(queries[i]), k: k, ef: ef, filter: filter).map(\.id)
            let expected = Set(truth[i].prefix(k))
            hits += got.count { expected.contains($0) }
            total += expected.count
        }
        return Double(hits) / Double(max(total, 1))
    }

    static func exactTruth(_ base: VectorMatrix, ids: [UInt64], _ queries: VectorMatrix, k: Int, metric: Metric,
                           allowed: Set<UInt64>? = nil) throws -> [[UInt64]] {
        let flat = try FlatIndex(dimension: base.dimension, metric: metric)
        try flat.add(base, ids: ids)
        let filter = allowed.map { flat.filter(allowing: $0) }
        return try (0..<queries.count).map { try flat.search(Array(queries[$0]), k: k, filter: filter).map(\.id) }
    }

    @Test("recall@10 against exact ground truth on the real MiniLM data (2 build threads)")
    func realDataRecall() throws {
        let index = try HNSWIndex(dimension: 384, metric: .cosine)
        try index.add(Self.base, ids: (0..<20_000).map { UInt64($0) }, threads: 2)
        #expect(index.count == 20_000)
        let truth = Self.truth.map { $0.map { UInt64($0) } }
        let r = try Self.recall(index, Self.queries, truth: truth, ef: 64)
        #expect(r >= 0.97, "recall \(r)")
    }

    /// Clustered points near the sphere of radius `scale` (inner product search over vectors of very
    /// different norms is not a metric space, and no graph index serves it well).
    static func clustered(scale: Float = 1, offset: Float = 0) throws -> (base: VectorMatrix, queries: VectorMatrix) {
        var rng = TestRNG(seed: 11)
        let centers = (0..<20).map { _ in (0..<32).map { _ in Float.random(in: -1...1, using: &rng) } }
        func point(_ c: Int) -> [Float] {
            let v = centers[c].map { $0 + Float.random(in: -0.4...0.4, using: &rng) }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return v.map { $0 / norm * Float.random(in: 0.9...1.1, using: &rng) * scale + offset }
        }
        return (try VectorMatrix(dimension: 32, rows: (0..<3_000).map { point($0 % 20) }),
                try VectorMatrix(dimension: 32, rows: (0..<50).map { point($0 % 20) }))
    }

    /// What the graph walk runs on, as parameters.
    enum Walk: String, CaseIterable, CustomTestStringConvertible {
        case f32, f16, int8
        var parameters: HNSWParameters {
            HNSWParameters(m: 12, efConstruction: 100, halfPrecisionTraversal: self == .f16, int8Traversal: self == .int8)
        }
        var testDescription: String { rawValue }
    }

    @Test("agrees with Flat on clustered synthetic data, every metric, walking f32, f16 or 8-bit codes; scores are the exact ones",
          arguments: Metric.allCases, Walk.allCases)
    func syntheticRecall(metric: Metric, walk: Walk) throws {
        let (base, queries) = try Self.clustered()
        let ids = (0..<3_000).map { UInt64($0) }
        let index = try HNSWIndex(dimension: 32, metric: metric, parameters: walk.parameters)
        try index.add(base, ids: ids, threads: 2)
        #expect(index.walksOnCodes == (walk == .int8))
        let truth = try Self.exactTruth(base, ids: ids, queries, k: 10, metric: metric)
        let r = try Self.recall(index, queries, truth: truth, ef: 100)
        #expect(r >= 0.95, "recall \(r) for \(metric)")
        let flat = try FlatIndex(dimension: 32, metric: metric)
        try flat.add(base, ids: ids)
        let h = try index.search(Array(queries[0]), k: 3, ef: 100), f = try flat.search(Array(queries[0]), k: 3)
        #expect(h.map(\.id) == f.map(\.id))
        for (a, b) in zip(h, f) { #expect(abs(a.score - b.score) <= 1e-4 * max(1, abs(b.score))) }
    }

    @Test("vectors f16 cannot hold (past ±65504, vanishing below its range, or too far from the origin for their spread) make the graph walk its f32 vectors: recall holds, also after save and open",
          // No inner product with an offset: a common offset makes inner products rank by it alone.
          arguments: zip([Metric.l2, .innerProduct, .l2, .innerProduct, .l2], [(Float(1e6), Float(0)), (1e6, 0), (1e-7, 0), (1e-7, 0), (1, 500)]))
    func unfaithfulHalf(metric: Metric, transform: (scale: Float, offset: Float)) throws {
        let (scale, offset) = transform
        let (base, queries) = try Self.clustered(scale: scale, offset: offset)
        let ids = (0..<3_000).map { UInt64($0) }
        let index = try HNSWIndex(dimension: 32, metric: metric, parameters: HNSWParameters(m: 12, efConstruction: 100, halfPrecisionTraversal: true))
        try index.add(base, ids: ids)
        let truth = try Self.exactTruth(base, ids: ids, queries, k: 10, metric: metric)
        let r = try Self.recall(index, queries, truth: truth, ef: 100)
        #expect(r >= 0.95, "recall \(r) for \(metric) at scale \(scale)")
        let path = scratchDirectory("half")  // used as the file
        try index.save(to: path)
        #expect(try !IndexFile.inspect(path).hasHalfVectors)
        #expect(try Self.recall(HNSWIndex.open(path), queries, truth: truth, ef: 100) == r)
    }

    @Test("a few near-duplicates (closer than f16 can resolve) leave the f16 walk on")
    func nearDuplicatesKeepHalf() throws {
        let (base, _) = try Self.clustered()
        let index = try HNSWIndex(dimension: 32, metric: .l2, parameters: HNSWParameters(m: 12, efConstruction: 100, halfPrecisionTraversal: true))
        try index.add(base, ids: (0..<3_000).map { UInt64($0) })
        let twins = try VectorMatrix(dimension: 32, rows: (0..<5).map { i in Array(base[i * 100]).map { $0 + 1e-5 } })
        try index.add(twins, ids: (0..<5).map { 10_000 + UInt64($0) })
        let path = scratchDirectory("half")  // used as the file
        try index.save(to: path)
        #expect(try IndexFile.inspect(path).hasHalfVectors)
        #expect(try index.search(Array(twins[0]), k: 1).first?.id == 10_000)
    }

    @Test("the f16 copy is kept by default only above 128 dimensions and without codes; an explicit choice wins",
          arguments: [(128, nil, nil, false), (129, nil, nil, false), (129, nil, false, true), (384, false, false, false),
                      (384, true, nil, true), (16, true, nil, true)] as [(Int, Bool?, Bool?, Bool)])
    func automaticHalfPrecision(dimension: Int, choice: Bool?, codes: Bool?, expected: Bool) throws {
        let index = try HNSWIndex(dimension: dimension, metric: .cosine,
                                  parameters: HNSWParameters(m: 8, efConstruction: 32, halfPrecisionTraversal: choice, int8Traversal: codes))
        try index.add(TestData.random(count: 50, dimension: dimension, seed: 3), ids: (0..<50).map { UInt64($0) })
        let path = scratchDirectory("auto-half")  // used as the file
        try index.save(to: path)
        #expect(try IndexFile.inspect(path).hasHalfVectors == expected)
    }

    @Test("one build thread with the same seed gives the same graph")
    func reproducible() throws {
        let base = TestData.random(count: 1_500, dimension: 16, seed: 3)
        let ids = (0..<1_500).map { UInt64($0) }
        let a = try HNSWIndex(dimension: 16, metric: .l2), b = try HNSWIndex(dimension: 16, metric: .l2)
        try a.add(base, ids: ids)
        try b.add(base, ids: ids)
        for i in 0..<20 {
            let q = Array(base[i * 7])
            #expect(try a.search(q, k: 10, ef: 20) == b.search(q, k: 10, ef: 20))
        }
    }

    @Test("deleting 20% keeps recall within 0.01 of a fresh build; removed ids never return; compact reclaims")
    func deletes() throws {
        let n = 20_000
        let ids = (0..<n).map { UInt64($0) }
        let index = try HNSWIndex(dimension: 384, metric: .cosine)
        try index.add(Self.base, ids: ids, threads: 2)
        var rng = TestRNG(seed: 5)
        let removed = Set(ids.shuffled(using: &rng).prefix(n / 5))
        let removedVectors = try Dictionary(uniqueKeysWithValues: removed.map { ($0, try index.vector(id: $0)) })
        for id in removed { try index.remove(id: id) }
        #expect(index.count == n - removed.count && index.tombstoneCount == removed.count)
        let keptIDs = ids.filter { !removed.contains($0) }
        let keptRows = try VectorMatrix(dimension: 384, rows: keptIDs.map { Array(Self.base[Int($0)]) })
        let truth = try Self.exactTruth(keptRows, ids: keptIDs, Self.queries, k: 10, metric: .cosine)
        let fresh = try HNSWIndex(dimension: 384, metric: .cosine)
        try fresh.add(keptRows, ids: keptIDs, threads: 2)
        let afterDelete = try Self.recall(index, Self.queries, truth: truth, ef: 64)
        let freshRecall = try Self.recall(fresh, Self.queries, truth: truth, ef: 64)
        #expect(afterDelete >= freshRecall - 0.01, "after delete \(afterDelete), fresh \(freshRecall)")
        for i in 0..<Self.queries.count {
            #expect(try index.search(Array(Self.queries[i]), k: 10).allSatisfy { !removed.contains($0.id) })
        }
        // Saved, the removed nodes' vectors are gone from the file (each replaced by a live
        // neighbor's), and the reopened graph routes as well as the one in memory.
        let path = scratchDirectory("deleted")  // used as the file
        try index.save(to: path)
        let rows = try SavedRows(path)
        let live = Dictionary((0..<rows.count).filter { !rows.isRemoved($0) }.map { (rows.vector($0), $0) }, uniquingKeysWith: { a, _ in a })
        var erased = 0
        for slot in 0..<rows.count where rows.isRemoved(slot) {
            let vector = rows.vector(slot)
            // (unless a live item has the very same vector: the data holds duplicates)
            let original = removedVectors[rows.id(slot)]!
            #expect(vector != original || live[original] != nil, "removed \(rows.id(slot)) is still in the file")
            // A stand-in is a live node's vector, in the codes too (on by default at 384 dimensions).
            if let source = live[vector] { #expect(rows.header.hasCodes && rows.codeRow(slot) == rows.codeRow(source)) } else { #expect(vector.allSatisfy { $0 == 0 }) }
            erased += 1
        }
        #expect(erased == removed.count)
        let reopened = try HNSWIndex.open(path)
        let afterReopen = try Self.recall(reopened, Self.queries, truth: truth, ef: 64)
        #expect(afterReopen >= freshRecall - 0.01, "after save and reopen \(afterReopen), fresh \(freshRecall)")
        try index.compact(threads: 2)
        #expect(index.tombstoneCount == 0 && index.count == n - removed.count)
        let afterCompact = try Self.recall(index, Self.queries, truth: truth, ef: 64)
        #expect(afterCompact >= freshRecall - 0.01, "after compact \(afterCompact)")
    }

    @Test("a saved index with the f16 copy (no codes) holds a removed node's stand-in in the copy too")
    func deletesWithHalfCopy() throws {
        let n = 2_000
        let index = try HNSWIndex(dimension: 384, metric: .cosine,
                                  parameters: HNSWParameters(m: 12, efConstruction: 100, halfPrecisionTraversal: true, int8Traversal: false))
        try index.add(Self.base.prefix(n), ids: (0..<n).map { UInt64($0) })
        for id in stride(from: 0, to: n, by: 7) { try index.remove(id: UInt64(id)) }
        let path = scratchDirectory("deleted-half")  // used as the file
        try index.save(to: path)
        let rows = try SavedRows(path)
        #expect(rows.header.hasHalfVectors && !rows.header.hasCodes)
        let live = Dictionary((0..<rows.count).filter { !rows.isRemoved($0) }.map { (rows.vector($0), $0) }, uniquingKeysWith: { a, _ in a })
        var standIns = 0
        for slot in 0..<rows.count where rows.isRemoved(slot) {
            let vector = rows.vector(slot)
            if let source = live[vector] {
                #expect(rows.halfRow(slot) == rows.halfRow(source), "slot \(slot)'s f16 row is not its stand-in's")
                standIns += 1
            } else {
                #expect(vector.allSatisfy { $0 == 0 } && rows.halfRow(slot).allSatisfy { $0 == 0 })
            }
        }
        #expect(standIns > 0)
    }

    @Test("re-adding an id replaces its vector")
    func replace() throws {
        let index = try HNSWIndex(dimension: 2, metric: .l2)
        try index.add(TestData.random(count: 200, dimension: 2, seed: 1), ids: (0..<200).map { UInt64($0) })
        try index.add([50, 50], id: 7)
        #expect(try index.search([50, 50], k: 1).first?.id == 7)
        #expect(index.count == 200 && index.tombstoneCount == 1)
    }

    @Test("filtered search: only allowed ids, k results whenever k pass, recall against filtered exact truth")
    func filters() throws {
        let index = try HNSWIndex(dimension: 384, metric: .cosine)
        let ids = (0..<20_000).map { UInt64($0) }
        try index.add(Self.base, ids: ids, threads: 2)
        var rng = TestRNG(seed: 21)
        // Pass rates covering every plan: exact scan, two-hop graph, filtered graph.
        for (passRate, plan) in [(0.0004, HNSWIndex.SearchPlan.exactScan), (0.05, .exactScan), (0.5, .filteredGraph)] {
            let allowed = Set(ids.filter { _ in Double.random(in: 0..<1, using: &rng) < passRate })
            let filter = index.filter(allowing: allowed)
            #expect(index.plan(for: filter, ef: 64) == plan)
            let queries = Self.queries.prefix(30)
            let truth = try Self.exactTruth(Self.base, ids: ids, queries, k: 10, metric: .cosine, allowed: allowed)
            for i in 0..<queries.count {
                let got = try index.search(Array(queries[i]), k: 10, ef: 64, filter: filter)
                #expect(got.allSatisfy { allowed.contains($0.id) })
                #expect(got.count == min(10, allowed.count))
            }
            let r = try Self.recall(index, queries, truth: truth, ef: 64, filter: filter)
            #expect(r >= 0.95, "pass rate \(passRate): recall \(r)")
        }
    }

    @Test("the two-hop plan (low pass rate on a large graph) returns k allowed results with high recall")
    func twoHop() throws {
        // 60k synthetic points with a 12.5% pass rate: too many allowed items for the exact scan at ef 16.
        let base = TestData.random(count: 60_000, dimension: 8, seed: 30)
        let ids = (0..<60_000).map { UInt64($0) }
        let index = try HNSWIndex(dimension: 8, metric: .l2, parameters: HNSWParameters(m: 8, efConstruction: 64))
        try index.add(base, ids: ids, threads: 2)
        let allowed = Set(ids.filter { $0 % 8 == 3 })
        let filter = index.filter(allowing: allowed)
        #expect(index.plan(for: filter, ef: 16) == .twoHopGraph)
        let queries = TestData.random(count: 30, dimension: 8, seed: 31)
        let truth = try Self.exactTruth(base, ids: ids, queries, k: 10, metric: .l2, allowed: allowed)
        let r = try Self.recall(index, queries, truth: truth, ef: 16, filter: filter)
        #expect(r >= 0.9, "recall \(r)")
        for i in 0..<queries.count {
            let got = try index.search(Array(queries[i]), k: 10, ef: 16, filter: filter)
            #expect(got.count == 10 && got.allSatisfy { allowed.contains($0.id) })
        }
    }

    @Test("concurrent adds and searches: results stay valid, nothing is lost")
    func concurrency() async throws {
        let base = TestData.random(count: 4_000, dimension: 24, seed: 8)
        let index = try HNSWIndex(dimension: 24, metric: .l2, parameters: HNSWParameters(m: 8, efConstruction: 64))
        try index.add(base.prefix(500), ids: (0..<500).map { UInt64($0) })
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<2 {
                group.addTask {
                    for i in stride(from: 500 + w, to: 4_000, by: 2) { try index.add(Array(base[i]), id: UInt64(i)) }
                }
            }
            for t in 0..<3 {
                group.addTask {
                    for i in 0..<400 {
                        let q = Array(base[(i * 13 + t) % 500])
                        let r = try index.search(q, k: 5, ef: 32)
                        #expect(r.count == 5 && r.allSatisfy { $0.id < 4_000 }, "got \(r)")
                        #expect(zip(r, r.dropFirst()).allSatisfy { $0.score <= $1.score })
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(index.count == 4_000)
        // Every node is reachable: each finds itself.
        for i in stride(from: 0, to: 4_000, by: 97) {
            #expect(try index.search(Array(base[i]), k: 1, ef: 64).first?.id == UInt64(i))
        }
    }

    @Test("bad input gets typed errors")
    func badInput() throws {
        #expect(throws: EngramError.invalidParameter("m must be in 2...256, got 1")) {
            try HNSWIndex(dimension: 4, parameters: HNSWParameters(m: 1))
        }
        let index = try HNSWIndex(dimension: 3, metric: .cosine)
        #expect(throws: EngramError.emptyIndex) { try index.search([1, 2, 3], k: 1) }
        try index.add([1, 2, 3], id: 1)
        #expect(throws: EngramError.invalidK(0)) { try index.search([1, 2, 3], k: 0) }
        #expect(throws: EngramError.invalidParameter("ef must be positive, got 0")) { try index.search([1, 2, 3], k: 1, ef: 0) }
        #expect(throws: EngramError.dimensionMismatch(expected: 3, actual: 2)) { try index.search([1, 2], k: 1) }
        #expect(throws: EngramError.dimensionMismatch(expected: 3, actual: 4)) { try index.add([1, 2, 3, 4], id: 2) }
        #expect(throws: EngramError.nonFiniteComponent(index: 2)) { try index.add([1, 2, .nan], id: 2) }
        #expect(throws: EngramError.zeroVector) { try index.add([0, 0, 0], id: 2) }
        #expect(throws: EngramError.unknownID(42)) { try index.remove(id: 42) }
        // A filter made before a compaction (new slots) is resolved again, not misapplied.
        try index.add([3, 2, 1], id: 2)
        let filter = index.filter(allowing: [2])
        try index.remove(id: 1)
        try index.compact()
        #expect(try index.search([1, 2, 3], k: 5, filter: filter).map(\.id) == [2])
        let small = try HNSWIndex(dimension: 2, metric: .l2, parameters: HNSWParameters(capacity: 2))
        #expect(throws: EngramError.capacityExceeded(limit: 2)) {
            try small.add(VectorMatrix(dimension: 2, values: [1, 1, 2, 2, 3, 3]), ids: [1, 2, 3])
        }
    }
}
