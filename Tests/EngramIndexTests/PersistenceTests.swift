import EngramSupport
import Foundation
import EngramTestSupport
import Testing
import EngramIndex

@Suite("Persistence")
struct PersistenceTests {
    let dir: String = {
        let d = scratchDirectory("persist")
        try! FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }()

    static func smallHNSW(count: Int = 400, dimension: Int = 16, metric: Metric = .cosine, half: Bool = true) throws -> (HNSWIndex, VectorMatrix) {
        let base = TestData.random(count: count, dimension: dimension, seed: 77)
        let index = try HNSWIndex(dimension: dimension, metric: metric,
                                  parameters: HNSWParameters(m: 6, efConstruction: 40, halfPrecisionTraversal: half))
        try index.add(base, ids: (0..<UInt64(count)).map { $0 * 10 })
        return (index, base)
    }

    @Test("HNSW: save, open mapped, identical results; tombstones survive; writes after open load to memory",
          arguments: Metric.allCases, [true, false])
    func hnswRoundTrip(metric: Metric, half: Bool) throws {
        let (index, base) = try Self.smallHNSW(metric: metric, half: half)
        try index.remove(id: 30)
        let path = dir + "/h-\(metric.rawValue)-\(half).engram"
        try index.save(to: path)
        let opened = try HNSWIndex.open(path)
        #expect(opened.count == index.count && opened.dimension == 16 && opened.metric == metric)
        #expect(!opened.contains(id: 30) && opened.contains(id: 40))
        let queries = TestData.random(count: 25, dimension: 16, seed: 78)
        for i in 0..<queries.count {
            #expect(try opened.search(Array(queries[i]), k: 10, ef: 32) == index.search(Array(queries[i]), k: 10, ef: 32))
        }
        opened.warmUp()
        #expect(try opened.search(Array(queries[0]), k: 10, ef: 32) == index.search(Array(queries[0]), k: 10, ef: 32))
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        try opened.add(Array(base[0]), id: 999_999)
        try opened.remove(id: 40)
        #expect(opened.contains(id: 999_999) && !opened.contains(id: 40))
        #expect(try opened.search(Array(base[0]), k: 2).map(\.id).contains(999_999))
        opened.warmUp()  // in memory now: nothing to map
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before, "the opened file is never written")
        #expect(try IndexFile.verify(path).liveCount == index.count)
    }

    #if os(Linux)
    @Test("warmUp maps every page a search reads: searches after it take no page faults", arguments: [true, false])
    func warmUpLeavesNoFaults(half: Bool) throws {
        let (index, _) = try Self.smallHNSW(count: 3000, dimension: 64, half: half)
        let path = dir + "/warm-\(half).engram"
        try index.save(to: path)
        let queries = TestData.random(count: 20, dimension: 64, seed: 79)
        let rows = (0..<queries.count).map { Array(queries[$0]) }
        func faults(searching opened: HNSWIndex) throws -> Int {
            let thread: Int32 = 1  // RUSAGE_THREAD, a GNU extension Swift does not import
            var usage = rusage()
            getrusage(thread, &usage)
            let before = usage.ru_minflt + usage.ru_majflt
            for row in rows { _ = try opened.search(row, k: 10, ef: 32) }
            getrusage(thread, &usage)
            return usage.ru_minflt + usage.ru_majflt - before
        }
        #expect(try faults(searching: HNSWIndex.open(path)) > 0, "a cold mapping faults, or this test proves nothing")
        let warmed = try HNSWIndex.open(path)
        warmed.warmUp()
        #expect(try faults(searching: warmed) == 0)
    }
    #endif

    @Test("Flat: save, open, identical results, holes preserved")
    func flatRoundTrip() throws {
        let base = TestData.random(count: 300, dimension: 12, seed: 5)
        for metric in Metric.allCases {
            let index = try FlatIndex(dimension: 12, metric: metric)
            try index.add(base, ids: (0..<300).map { UInt64($0) })
            try index.remove(id: 7)
            let path = dir + "/f-\(metric.rawValue).engram"
            try index.save(to: path)
            let opened = try FlatIndex.open(path)
            #expect(opened.count == 299)
            for i in 0..<10 {
                #expect(try opened.search(Array(base[i]), k: 5) == index.search(Array(base[i]), k: 5))
            }
            try opened.add(Array(base[7]), id: 7)
            #expect(opened.count == 300 && opened.contains(id: 7))
            #expect(try opened.search(Array(base[7]), k: 300).contains { $0.id == 7 })
        }
    }

    @Test("Flat: a removed vector is in no saved file (removed in memory, or from a mapped index), and eraseVectors zeroes rows in place under valid checksums")
    func flatErasure() throws {
        let base = TestData.random(count: 200, dimension: 12, seed: 9)
        let index = try FlatIndex(dimension: 12, metric: .cosine)
        try index.add(base, ids: (0..<200).map { UInt64($0) })
        let gone: [UInt64] = [3, 50, 199]
        let goneVectors = try gone.map { try index.vector(id: $0) }
        func expectErased(_ path: String, _ ids: [UInt64]) throws {
            let rows = try SavedRows(path)
            for v in goneVectors { #expect(!(0..<rows.count).contains { rows.vector($0) == v }) }
        }
        for id in gone.prefix(2) { try index.remove(id: id) }
        let fromMemory = dir + "/erase-memory.engram"
        try index.save(to: fromMemory)
        let memoryRows = try SavedRows(fromMemory)
        for v in goneVectors.prefix(2) { #expect(!(0..<memoryRows.count).contains { memoryRows.vector($0) == v }) }
        let mapped = try FlatIndex.open(fromMemory)
        try mapped.remove(id: 199)
        #expect(mapped.isMapped)
        let fromMapped = dir + "/erase-mapped.engram"
        try mapped.save(to: fromMapped)
        try expectErased(fromMapped, gone)
        try IndexFile.verify(fromMapped)

        // In place: the file stays in use, its rows of the listed ids become zeros, the checksums follow.
        let inPlace = dir + "/erase-in-place.engram"
        try index.save(to: inPlace)
        let user = try FlatIndex.open(inPlace)
        try user.remove(id: 10)
        let before = try user.vector(id: 11)
        #expect(try FlatIndex.eraseVectors(ids: [10, 199, 12_345], inFileAt: inPlace) == 2)
        #expect(try FlatIndex.eraseVectors(ids: [10, 199], inFileAt: inPlace) == 0)  // already zero: nothing written
        try IndexFile.verify(inPlace)
        let rows = try SavedRows(inPlace)
        for slot in 0..<rows.count where [10, 199].contains(rows.id(slot)) { #expect(rows.vector(slot).allSatisfy { $0 == 0 }) }
        #expect(try user.vector(id: 11) == before)
        #expect(try FlatIndex.open(inPlace).search(before, k: 1).first?.id == 11)
    }

    @Test("empty indexes save and open")
    func empty() throws {
        let h = try HNSWIndex(dimension: 4)
        try h.save(to: dir + "/e.engram")
        let opened = try HNSWIndex.open(dir + "/e.engram")
        #expect(opened.count == 0)
        #expect(throws: EngramError.emptyIndex) { try opened.search([1, 2, 3, 4], k: 1) }
        try opened.add([1, 2, 3, 4], id: 1)
        #expect(try opened.search([1, 2, 3, 4], k: 1).first?.id == 1)
    }

    @Test("a failed save leaves the old file intact and no temporary file behind")
    func atomicity() throws {
        let (index, _) = try Self.smallHNSW()
        let path = dir + "/a.engram"
        try index.save(to: path)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        struct Interrupted: Error {}
        #expect(throws: Interrupted.self) {
            try FileIO.writeAtomically(path) { sink in
                try [UInt8](repeating: 0xAB, count: 10_000).withUnsafeBytes { try sink($0) }
                throw Interrupted()
            }
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["a.engram"])
        #expect(try IndexFile.verify(path).slotCount == 400)
    }

    @Test("typed errors name the problem: magic, version, truncation, checksums, kind")
    func namedErrors() throws {
        let (index, _) = try Self.smallHNSW()
        let path = dir + "/n.engram"
        try index.save(to: path)
        let good = try Data(contentsOf: URL(fileURLWithPath: path))
        func reason(_ bytes: Data, verify: Bool = false) -> String {
            let p = dir + "/bad.engram"
            try! bytes.write(to: URL(fileURLWithPath: p))
            do {
                if verify { try IndexFile.verify(p) } else { _ = try HNSWIndex.open(p) }
                return "no error"
            } catch let EngramError.corruptIndex(_, reason) {
                return reason
            } catch {
                return "\(error)"
            }
        }
        var bad = good
        bad[0] = 0
        #expect(reason(bad).contains("magic"))
        bad = good
        bad[8] = 9
        #expect(reason(bad).contains("version"))
        #expect(reason(good.prefix(good.count - 100)).contains("truncated"))
        #expect(reason(good.prefix(100)).contains("shorter than"))
        bad = good
        bad[40] ^= 1  // live count: caught by the header checksum
        #expect(reason(bad).contains("header checksum"))
        bad = good
        bad[1000] = 0x5A  // the header page's unused bytes
        #expect(reason(bad).contains("header padding"))
        // Alignment padding between sections: not covered by a checksum, so verify requires zeros.
        let sections = try IndexFile.inspect(path).sections
        let gap = try #require(zip(sections, sections.dropFirst()).first { $0.offset + $0.length < $1.offset }?.0)
        bad = good
        bad[gap.offset + gap.length] = 1
        #expect(reason(bad) == "no error")
        #expect(reason(bad, verify: true).contains("is not zero"))
        bad = good
        bad[5000] ^= 0x10  // inside the vectors section
        #expect(reason(bad) == "no error")
        #expect(reason(bad, verify: true).contains("vectors checksum"))
        let flat = try FlatIndex(dimension: 3)
        try flat.add([1, 2, 3], id: 1)
        try flat.save(to: dir + "/flat.engram")
        #expect(throws: EngramError.self) { try HNSWIndex.open(dir + "/flat.engram") }
        #expect(throws: EngramError.self) { try FlatIndex.open(path) }
    }

    @Test("verify catches links outside the graph even when the checksums match")
    func craftedLinks() throws {
        let (index, _) = try Self.smallHNSW()
        let path = dir + "/c.engram"
        try index.save(to: path)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let header = try IndexFile.inspect(path)
        let level0 = header.sections.first { $0.id == .level0Links }!
        // Node 0's first link → 1,000,000, then recompute that section's checksum and the header's.
        bytes.withUnsafeMutableBytes { $0.storeBytes(of: UInt32(1_000_000), toByteOffset: level0.offset + 4, as: UInt32.self) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        try FuzzSupport.resealChecksums(path)
        do {
            try IndexFile.verify(path)
            Issue.record("verify passed a link outside the graph")
        } catch let EngramError.corruptIndex(_, reason) {
            #expect(reason.contains("outside the graph"))
        }
        // Search on it is bounded: it works (skipping the bad link) rather than reading out of bounds.
        let opened = try HNSWIndex.open(path)
        #expect(try opened.search(TestData.random(count: 1, dimension: 16, seed: 1).values, k: 5).count == 5)
    }

    @Test("fuzz: thousands of corrupted copies open and search or throw, never trap")
    func fuzz() throws {
        let (index, _) = try Self.smallHNSW(count: 300, dimension: 8)
        let path = dir + "/fuzz-src.engram"
        try index.save(to: path)
        let flat = try FlatIndex(dimension: 8, metric: .l2)
        try flat.add(TestData.random(count: 100, dimension: 8, seed: 3), ids: (0..<100).map { UInt64($0) })
        try flat.save(to: dir + "/fuzz-flat.engram")
        // An index with 8-bit codes (sections 9–11): fitted at 1,000 vectors.
        let coded = try HNSWIndex(dimension: 8, metric: .l2, parameters: HNSWParameters(m: 8, efConstruction: 32, int8Traversal: true))
        try coded.add(TestData.random(count: 1_100, dimension: 8, seed: 4), ids: (0..<1_100).map { UInt64($0) })
        try coded.save(to: dir + "/fuzz-codes.engram")
        #expect(try IndexFile.inspect(dir + "/fuzz-codes.engram").hasCodes)
        let sources = [try Data(contentsOf: URL(fileURLWithPath: path)), try Data(contentsOf: URL(fileURLWithPath: dir + "/fuzz-flat.engram")),
                       try Data(contentsOf: URL(fileURLWithPath: dir + "/fuzz-codes.engram"))]
        var rng = TestRNG(seed: 2026)
        let query = TestData.random(count: 1, dimension: 8, seed: 9).values
        var opened = 0, rejected = 0
        for iteration in 0..<3_000 {
            var bytes = [UInt8](sources[iteration % 3])
            FuzzSupport.corrupt(&bytes, using: &rng)
            let p = dir + "/fuzz.engram"
            try Data(bytes).write(to: URL(fileURLWithPath: p))
            if iteration % 3 == 0 { try? FuzzSupport.resealChecksums(p) }  // get past the header check too
            do {
                switch try IndexFile.inspect(p).kind {
                case .hnsw: _ = try HNSWIndex.open(p).search(query, k: 5, ef: 16)
                case .flat: _ = try FlatIndex.open(p).search(query, k: 5)
                }
                opened += 1
            } catch {
                rejected += 1
            }
            _ = try? IndexFile.verify(p)
        }
        #expect(opened + rejected == 3_000)
        #expect(opened > 100 && rejected > 100, "opened \(opened), rejected \(rejected)")
    }
}

/// Corruption helpers for the fuzz tests.
enum FuzzSupport {
    /// Flips bits, truncates, or overwrites a header field or a section byte range.
    static func corrupt(_ bytes: inout [UInt8], using rng: inout TestRNG) {
        switch Int.random(in: 0..<5, using: &rng) {
        case 0:
            for _ in 0..<Int.random(in: 1...8, using: &rng) {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
            }
        case 1:
            bytes.removeLast(Int.random(in: 1..<bytes.count, using: &rng))
        case 2:  // a header field (first 480 bytes) overwritten with a random or extreme value
            let offset = Int.random(in: 0..<60, using: &rng) * 8
            let value: UInt64 = [0, .max, UInt64(UInt32.max), UInt64.random(in: 0...UInt64.max, using: &rng), 1 << 40].randomElement(using: &rng)!
            withUnsafeBytes(of: value) { for i in 0..<8 where offset + i < bytes.count { bytes[offset + i] = $0[i] } }
        case 3:  // a run of random bytes somewhere in the sections
            let start = Int.random(in: 4096..<max(4097, bytes.count), using: &rng)
            for i in start..<min(bytes.count, start + Int.random(in: 1...64, using: &rng)) { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
        default:  // a run of 0xFF (huge counts and link targets)
            let start = Int.random(in: 4096..<max(4097, bytes.count), using: &rng)
            for i in start..<min(bytes.count, start + Int.random(in: 4...256, using: &rng)) { bytes[i] = 0xFF }
        }
    }

    /// Recomputes every section checksum and the header checksum in place, so that corruption
    /// inside sections reaches the structural checks and the search guards.
    static func resealChecksums(_ path: String) throws {
        var bytes = try FileIO.read(path)
        guard bytes.count >= 4096 else { return }
        bytes.withUnsafeMutableBytes { raw in
            let count = min(12, Int(raw.loadUnaligned(fromByteOffset: 80, as: UInt32.self)))
            for i in 0..<count {
                let base = 96 + 32 * i
                let offset = Int(clamping: raw.loadUnaligned(fromByteOffset: base + 8, as: UInt64.self))
                let length = Int(clamping: raw.loadUnaligned(fromByteOffset: base + 16, as: UInt64.self))
                guard offset <= raw.count, length <= raw.count - offset else { continue }
                raw.storeBytes(of: XXH64.hash(UnsafeRawBufferPointer(rebasing: raw[offset..<offset + length])), toByteOffset: base + 24, as: UInt64.self)
            }
            raw.storeBytes(of: XXH64.hash(UnsafeRawBufferPointer(rebasing: raw[0..<480])), toByteOffset: 480, as: UInt64.self)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }
}
