import EngramIndex
import Foundation
import Testing

@Suite("8-bit traversal codes")
struct ScalarQuantizerTests {
    @Test("every code kernel the CPU runs gives the exact integer dot product, any length",
          arguments: DistanceKernels.codeKernels.map(\.name))
    func kernelsExact(name: String) {
        let kernel = DistanceKernels.codeKernels.first { $0.name == name }!.kernel
        var rng = TestRNG(seed: 11)
        for n in Array(0...70) + [127, 128, 129, 191, 192, 383, 384, 385, 768, 1000, 4096] {
            // The extremes included: 255 · -127 and 255 · 127 in every lane must not saturate.
            let x = (0..<n).map { i in i % 7 == 0 ? 255 : UInt8.random(in: 0...255, using: &rng) }
            let q = (0..<n).map { i in i % 5 == 0 ? Int8(i % 2 == 0 ? -127 : 127) : Int8.random(in: -127...127, using: &rng) }
            let expected = zip(x, q).reduce(Int32(0)) { $0 + Int32($1.0) * Int32($1.1) }
            #expect(kernel(x, q, n) == expected, "n=\(n) \(name)")
        }
    }

    @Test("each batch code kernel equals its one-row kernel on scattered rows, for every count",
          arguments: DistanceKernels.codeKernels.map(\.name))
    func batchKernelsMatchRows(name: String) {
        let kernels = DistanceKernels.codeKernels.first { $0.name == name }!
        var rng = TestRNG(seed: 12)
        for n in [1, 15, 16, 17, 63, 64, 65, 100, 384, 385] {
            let rows = 11
            let codes = (0..<(rows * n)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let q = (0..<n).map { _ in Int8.random(in: -127...127, using: &rng) }
            for count in 0...9 {
                let slots = (0..<count).map { _ in UInt32.random(in: 0..<UInt32(rows), using: &rng) }
                var out = [Int32](repeating: .min, count: 10)
                kernels.batch(q, codes, slots, count, n, &out)
                let expected = codes.withUnsafeBufferPointer { c in slots.map { kernels.kernel(c.baseAddress! + Int($0) * n, q, n) } }
                #expect(Array(out[..<count]) == expected, "n=\(n) count=\(count) \(name)")
                #expect(out[count...].allSatisfy { $0 == .min }, "wrote past count \(count)")
            }
        }
    }

    @Test("the code kernels read no byte past n (guard page after the buffer)")
    func tailsStayInBounds() throws {
        let memory = try ReservedMemory(reserving: 1 << 20)
        try memory.commit(1)
        let end = memory.base + memory.committedBytes
        for (name, _, kernel, batch) in DistanceKernels.codeKernels {
            for n in [1, 15, 17, 31, 33, 63, 65, 127, 129] {
                let x = (end - n).assumingMemoryBound(to: UInt8.self), q = (end - n).assumingMemoryBound(to: Int8.self)
                (0..<n).forEach { x[$0] = 1 }
                #expect(kernel(x, q, n) == Int32(n), "n=\(n) \(name)")
                var out = [Int32](repeating: 0, count: 5)
                batch(q, x, [0, 0, 0, 0, 0], 5, n, &out)  // the four-row path and the one-row tail
                #expect(out == [Int32](repeating: Int32(n), count: 5), "batch n=\(n) \(name)")
            }
        }
    }

    /// `count` unit vectors around a few centres (like embeddings), optionally shifted by `offset`.
    static func clustered(_ count: Int, dimension: Int, offset: Float = 0, seed: UInt64) -> [[Float]] {
        var rng = TestRNG(seed: seed)
        let centres = (0..<8).map { _ in (0..<dimension).map { _ in Float.random(in: -1...1, using: &rng) } }
        return (0..<count).map { i in
            let v = centres[i % 8].map { $0 + Float.random(in: -0.6...0.6, using: &rng) }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return v.map { $0 / norm + offset }
        }
    }

    static func exact(_ q: [Float], _ x: [Float], _ metric: Metric) -> Float {
        metric == .l2 ? zip(q, x).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } : -zip(q, x).reduce(0) { $0 + $1.0 * $1.1 }
    }

    @Test("estimated distances track the exact ones: the exact top 10 lie in the estimated top 20",
          arguments: [(Metric.cosine, Float(0)), (.innerProduct, 0), (.l2, 0), (.l2, 100)])
    func estimatesRank(metric: Metric, offset: Float) {
        let dimension = 384
        let data = Self.clustered(2_000, dimension: dimension, offset: offset, seed: 3)
        let quantizer = data.withPointers { ScalarQuantizer(fitting: $0, count: data.count, dimension: dimension) }
        var codes = [UInt8](repeating: 0, count: data.count * dimension), norms = [Float]()
        for (i, v) in data.enumerated() {
            let (norm, faithful) = codes.withUnsafeMutableBufferPointer { quantizer.encode(v, into: $0.baseAddress! + i * dimension) }
            #expect(faithful)
            norms.append(norm)
        }
        let queries = Self.clustered(50, dimension: dimension, offset: offset, seed: 4)
        var found = 0, worst: Float = 0
        for q in queries {
            var bytes = [Int8](repeating: 0, count: dimension)
            let prepared = quantizer.prepare(q, metric: metric, into: &bytes)
            let estimated = data.indices.map { i in
                codes.withUnsafeBufferPointer { prepared.distance(dot: DistanceKernels.active.codeDot($0.baseAddress! + i * dimension, bytes, dimension), norm: norms[i]) }
            }
            let truth = data.map { Self.exact(q, $0, metric) }
            for i in data.indices { worst = max(worst, abs(estimated[i] - truth[i]) / max(1, abs(truth[i]))) }
            let exactTop = Set(truth.indices.sorted { truth[$0] < truth[$1] }.prefix(10))
            let estimatedTop = Set(estimated.indices.sorted { estimated[$0] < estimated[$1] }.prefix(20))
            found += exactTop.intersection(estimatedTop).count
        }
        #expect(Double(found) / Double(queries.count * 10) >= 0.99, "\(metric) offset \(offset): \(found)")
        #expect(worst < 0.02, "\(metric) offset \(offset): relative error \(worst)")
    }

    @Test("a vector outside the fitted range is not faithful; one inside it is; non-finite never")
    func faithfulness() {
        let data = Self.clustered(500, dimension: 64, seed: 5)
        let quantizer = data.withPointers { ScalarQuantizer(fitting: $0, count: data.count, dimension: 64) }
        var codes = [UInt8](repeating: 0, count: 64)
        #expect(quantizer.encode(data[7], into: &codes).faithful)
        #expect(!quantizer.encode(data[7].map { $0 * 10 }, into: &codes).faithful)
        #expect(!quantizer.encode(data[7].map { $0 + 1 }, into: &codes).faithful)
        var broken = data[7]
        broken[3] = .nan
        #expect(!quantizer.encode(broken, into: &codes).faithful)
        #expect(ScalarQuantizer(centers: [0, 0], scales: [1, 0], errorBound: 1) == nil && ScalarQuantizer(centers: [.nan], scales: [1], errorBound: 1) == nil)
    }

    @Test("constant dimensions and a zero query are handled")
    func degenerate() {
        let data: [[Float]] = [[1, 2, 0], [1, 4, 0], [1, 3, 0]]
        let quantizer = data.withPointers { ScalarQuantizer(fitting: $0, count: 3, dimension: 3) }
        #expect(quantizer.scales.allSatisfy { $0.isFinite && $0 > 0 })
        var codes = [UInt8](repeating: 0, count: 3), bytes = [Int8](repeating: 0, count: 3)
        let (norm, faithful) = quantizer.encode(data[1], into: &codes)
        #expect(faithful && abs(norm - 1) < 0.02)  // the end of the sample range, inside the 10% margin
        let zero = quantizer.prepare([0, 0, 0], metric: .innerProduct, into: &bytes)
        #expect(bytes == [0, 0, 0] && zero.distance(dot: DistanceKernels.active.codeDot(codes, bytes, 3), norm: norm) == 0)
        let prepared = quantizer.prepare([0, 0, 0], metric: .l2, into: &bytes)  // centred: not zero
        let d = prepared.distance(dot: DistanceKernels.active.codeDot(codes, bytes, 3), norm: norm)
        #expect(abs(d - 17) < 0.05)  // ‖(1, 4, 0)‖²
    }
}

extension Array where Element == [Float] {
    /// Runs `body` with a function from row index to a pointer at that row (valid inside `body`).
    func withPointers<R>(_ body: ((Int) -> UnsafePointer<Float>) -> R) -> R {
        let flat = self.flatMap { $0 }, dimension = first?.count ?? 0
        return flat.withUnsafeBufferPointer { buffer in body { buffer.baseAddress! + $0 * dimension } }
    }
}
