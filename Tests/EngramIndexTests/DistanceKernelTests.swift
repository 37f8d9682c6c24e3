import EngramSupport
import Foundation
import Testing
import EngramIndex

@Suite("Distance kernels")
struct DistanceKernelTests {
    static let levels = DistanceKernels.Level.allCases.filter { $0 <= .supported }

    @Test("every supported level agrees with a naive loop on dimensions 1…1000", arguments: levels)
    func kernelsMatchNaive(level: DistanceKernels.Level) {
        let kernels = DistanceKernels(level: level)
        #expect(kernels.level == level)
        var rng = TestRNG(seed: 7)
        for n in Array(1...70) + [127, 128, 129, 383, 384, 385, 511, 768, 999, 1000] {
            let a = (0..<n).map { _ in Float.random(in: -2...2, using: &rng) }
            let b = (0..<n).map { _ in Float.random(in: -2...2, using: &rng) }
            var dot = 0.0, l2 = 0.0, mag = 0.0
            for i in 0..<n {
                dot += Double(a[i]) * Double(b[i])
                l2 += Double(a[i] - b[i]) * Double(a[i] - b[i])
                mag += abs(Double(a[i]) * Double(b[i]))
            }
            let gotDot = Double(kernels.dot(a, b, n)), gotL2 = Double(kernels.l2Squared(a, b, n))
            #expect(abs(gotDot - dot) <= 1e-5 * max(mag, 1), "dot n=\(n) level=\(level)")
            #expect(abs(gotL2 - l2) <= 1e-5 * max(l2, 1), "l2 n=\(n) level=\(level)")
        }
    }

    @Test("block scans equal the one-row kernels for every count, stride and metric", arguments: levels)
    func blockScansMatchRows(level: DistanceKernels.Level) {
        let kernels = DistanceKernels(level: level)
        var rng = TestRNG(seed: 11)
        for n in [1, 7, 8, 15, 16, 17, 100, 384, 385] {
            for stride in Set([n, (n + 15) & ~15]) {
                let count = 133
                let q = (0..<n).map { _ in Float.random(in: -2...2, using: &rng) }
                let rows = (0..<(count * stride)).map { _ in Float.random(in: -2...2, using: &rng) }
                for metric in [Metric.l2, .cosine] {
                    let one = kernels.function(for: metric), scan = kernels.scanFunction(for: metric)
                    for c in [0, 1, 3, 4, 5, 9, count] {
                        var out = [Float](repeating: .nan, count: count)
                        scan(q, rows, stride, n, c, &out)
                        for r in 0..<c {
                            let want = rows.withUnsafeBufferPointer { one(q, $0.baseAddress! + r * stride, n) }
                            #expect(abs(out[r] - want) <= 1e-5 * max(abs(want), 1), "n=\(n) stride=\(stride) count=\(c) row=\(r) \(metric) \(level)")
                        }
                        #expect(out[c...].allSatisfy { $0.isNaN }, "wrote past count \(c)")
                    }
                }
            }
        }
    }

    @Test("kernels read no element past n (guard page after the buffer)")
    func tailsStayInBounds() throws {
        let memory = try ReservedMemory(reserving: 1 << 20)
        try memory.commit(1)  // the rest of the reservation stays inaccessible: an overread faults
        let base = memory.base.assumingMemoryBound(to: Float.self)
        for level in Self.levels {
            let kernels = DistanceKernels(level: level)
            for n in [1, 3, 7, 9, 15, 17, 31, 33] {
                let end = base + memory.committedBytes / 4 - n  // the last n accessible floats
                (0..<n).forEach { end[$0] = 1 }
                #expect(kernels.dot(end, end, n) == Float(n))
                (0..<(2 * n)).forEach { (end - n)[$0] = 1 }
                var out: [Float] = [0, 0]
                kernels.scanFunction(for: .cosine)(end - n, end - n, n, n, 2, &out)  // the last two rows of n
                #expect(out == [-Float(n), -Float(n)])
            }
        }
    }
}

@Suite("Checksum")
struct ChecksumTests {
    @Test("XXH64 matches the reference implementation's values (python xxhash 3.x)")
    func referenceValues() {
        func h(_ bytes: [UInt8], _ seed: UInt64 = 0) -> UInt64 { bytes.withUnsafeBytes { XXH64.hash($0, seed: seed) } }
        #expect(h([]) == 0xEF46_DB37_51D8_E999)
        #expect(h(Array("a".utf8)) == 0xD24E_C4F1_A98C_6E5B)
        #expect(h(Array("abc".utf8)) == 0x44BC_2CF5_AD77_0999)
        #expect(h(Array(0..<100)) == 0x6AC1_E580_3216_6597)
        #expect(h(Array(0..<100), 7) == 0x8065_3E7E_9B88_7CDD)
        #expect(h(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x0B24_2D36_1FDA_71BC)
    }
}

@Suite("Half-precision kernels")
struct HalfPrecisionTests {
    @Test("f32 → f16 conversion rounds like Swift's Float16, on every value class")
    func conversion() {
        var rng = TestRNG(seed: 4)
        var values: [Float] = [0, -0, 1, -1, 65504, 70000, -70000, 1e-8, 6e-5, 5.96e-8, 2.98e-8, .infinity, -.infinity, 0.1, 1 / 3]
        values += (0..<2_000).map { _ in Float.random(in: -4...4, using: &rng) * Float(pow(2.0, Double(Int.random(in: -20...12, using: &rng)))) }
        var out = [UInt16](repeating: 0, count: values.count)
        engramF32ToF16(values, &out)
        for (v, h) in zip(values, out) { #expect(h == Float16(v).bitPattern, "\(v)") }
        var scalar = [UInt16](repeating: 0, count: values.count)
        engramF32ToF16Scalar(values, &scalar)
        #expect(scalar == out)
    }

    @Test("f16 distance kernels agree with a naive loop on dimensions 1…400", arguments: [true, false])
    func kernels(vectorized: Bool) {
        var rng = TestRNG(seed: 8)
        let kernels = DistanceKernels(level: vectorized ? .supported : .swiftSIMD)
        for n in Array(1...40) + [127, 384, 400] {
            let q = (0..<n).map { _ in Float.random(in: -1...1, using: &rng) }
            let x = (0..<n).map { _ in Float16(Float.random(in: -1...1, using: &rng)) }
            let bits = x.map(\.bitPattern)
            var dot = 0.0, l2 = 0.0
            for i in 0..<n {
                dot += Double(q[i]) * Double(Float(x[i]))
                l2 += pow(Double(q[i]) - Double(Float(x[i])), 2)
            }
            #expect(abs(Double(kernels.halfDistance(.innerProduct, q, bits)) + dot) <= 1e-4 * Double(n))
            #expect(abs(Double(kernels.halfDistance(.l2, q, bits)) - l2) <= 1e-4 * Double(n))
        }
    }
}
