import CEngramKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The distance functions in use, chosen once per process from what the CPU supports.
///
/// `ENGRAM_KERNELS=swift|avx2|avx512` overrides the choice (for tests and comparisons); a level
/// the CPU lacks falls back to the best one it has.
public struct DistanceKernels: Sendable {
    /// A kernel over two rows of `n` floats.
    public typealias Function = @convention(c) (UnsafePointer<Float>?, UnsafePointer<Float>?, Int) -> Float

    /// Implementation levels, from portable to widest.
    public enum Level: String, Sendable, CaseIterable, Comparable {
        case swiftSIMD = "swift"
        case avx2
        case avx512

        /// Narrower levels come first.
        public static func < (lhs: Level, rhs: Level) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }

        /// The widest level this CPU runs.
        public static let supported: Level = switch engram_cpu_level() {
        case 2: .avx512
        case 1: .avx2
        default: .swiftSIMD
        }
    }

    /// The level these kernels run at.
    public let level: Level
    package let dot: Function
    package let l2Squared: Function
    /// The code kernel of this level: VNNI (64 bytes per instruction) at the AVX-512 level when the
    /// CPU has it, else the AVX2 one; the Swift SIMD one at the portable level.
    package let codeDot: CodeFunction
    /// The code kernel over a list of rows (a hop's neighbours), four rows at a time.
    package let codeDots: CodeBatchFunction

    /// Kernels for `level`, or for the widest supported level below it.
    public init(level requested: Level) {
        let level = min(requested, Level.supported)
        self.level = level
        switch level {
        case .avx512: (dot, l2Squared) = (engram_dot_avx512, engram_l2sq_avx512)
        case .avx2: (dot, l2Squared) = (engram_dot_avx2, engram_l2sq_avx2)
        case .swiftSIMD: (dot, l2Squared) = ({ SIMDKernels.dot($0!, $1!, $2) }, { SIMDKernels.l2Squared($0!, $1!, $2) })
        }
        let code = Self.codeKernels.last { $0.level <= level }!
        (codeDot, codeDots) = (code.kernel, code.batch)
    }

    /// A kernel over an f32 query and an f16 row (IEEE bit patterns) of `n` values.
    public typealias HalfFunction = @convention(c) (UnsafePointer<Float>?, UnsafePointer<UInt16>?, Int) -> Float

    /// The distance of an f32 query to an f16 row for `metric` (smaller is better).
    func halfFunction(for metric: Metric) -> HalfFunction {
        switch (metric == .l2, level >= .avx2) {
        case (true, true): engram_l2sq_f16_avx2
        case (true, false): engram_l2sq_f16_scalar
        case (false, true): engram_negdot_f16_avx2
        case (false, false): engram_negdot_f16_scalar
        }
    }

    /// A kernel over a traversal code row (unsigned bytes) and a prepared query (signed bytes) of
    /// `n` values: their exact integer dot product (see ``ScalarQuantizer``).
    public typealias CodeFunction = @convention(c) (UnsafePointer<UInt8>?, UnsafePointer<Int8>?, Int) -> Int32

    /// `out[j]` = the code dot of the query `q` with row `slots[j]` of `codes` (rows of `n` bytes).
    package typealias CodeBatchFunction = @convention(c) (
        _ q: UnsafePointer<Int8>?, _ codes: UnsafePointer<UInt8>?, _ slots: UnsafePointer<UInt32>?, _ count: Int, _ n: Int,
        _ out: UnsafeMutablePointer<Int32>?
    ) -> Void

    /// Whether the CPU runs AVX-512 BW and VNNI.
    package static let hasVNNI = engram_cpu_has_vnni() != 0

    /// The code kernels this CPU runs, narrowest first, by name ("swift", "avx2", "vnni") with the
    /// distance level each serves from: VNNI at the AVX-512 level when the CPU has it, else AVX2.
    package static var codeKernels: [(name: String, level: Level, kernel: CodeFunction, batch: CodeBatchFunction)] {
        var kernels: [(name: String, level: Level, kernel: CodeFunction, batch: CodeBatchFunction)] = [(
            "swift", .swiftSIMD, { SIMDKernels.codeDot($0!, $1!, $2) },
            { q, codes, slots, count, n, out in for j in 0..<count { out![j] = SIMDKernels.codeDot(codes! + Int(slots![j]) * n, q!, n) } }
        )]
        if Level.supported >= .avx2 { kernels.append(("avx2", .avx2, engram_dot_u8s8_avx2, engram_dots_u8s8_avx2)) }
        if Level.supported == .avx512, hasVNNI { kernels.append(("vnni", .avx512, engram_dot_u8s8_vnni, engram_dots_u8s8_vnni)) }
        return kernels
    }

    /// The distance of `query` to the f16 row `row` (bit patterns) for `metric`; for tests and benchmarks.
    package func halfDistance(_ metric: Metric, _ query: [Float], _ row: [UInt16]) -> Float {
        precondition(query.count == row.count, "lengths differ")
        return halfFunction(for: metric)(query, row, query.count)
    }

    /// The inner product of two vectors.
    /// - Throws: ``EngramError/dimensionMismatch(expected:actual:)`` when their lengths differ.
    public func dotProduct(_ a: [Float], _ b: [Float]) throws -> Float {
        guard a.count == b.count else { throw EngramError.dimensionMismatch(expected: a.count, actual: b.count) }
        return dot(a, b, a.count)
    }

    /// The squared Euclidean distance of two vectors.
    /// - Throws: ``EngramError/dimensionMismatch(expected:actual:)`` when their lengths differ.
    public func squaredL2(_ a: [Float], _ b: [Float]) throws -> Float {
        guard a.count == b.count else { throw EngramError.dimensionMismatch(expected: a.count, actual: b.count) }
        return l2Squared(a, b, a.count)
    }

    /// The process-wide choice.
    public static let active: DistanceKernels = {
        let requested = getenv("ENGRAM_KERNELS").flatMap { Level(rawValue: String(cString: $0)) }
        return DistanceKernels(level: requested ?? .supported)
    }()

    /// The distance function for `metric`, for loops that call it many times.
    package func function(for metric: Metric) -> Function {
        metric == .l2 ? l2Squared : negatedDot
    }

    /// A kernel over one query and `count` rows of `n` floats, `stride` floats apart: writes each
    /// row's distance (negated inner product, or squared l2) to `out`.
    package typealias ScanFunction = @convention(c) (
        _ query: UnsafePointer<Float>?, _ rows: UnsafePointer<Float>?, _ stride: Int, _ n: Int, _ count: Int, _ out: UnsafeMutablePointer<Float>?
    ) -> Void

    /// The block scan for `metric` (what ``function(for:)`` computes, four rows at a time).
    package func scanFunction(for metric: Metric) -> ScanFunction {
        switch (level, metric == .l2) {
        case (.avx512, true): engram_scan_l2sq_avx512
        case (.avx512, false): engram_scan_negdot_avx512
        case (.avx2, true): engram_scan_l2sq_avx2
        case (.avx2, false): engram_scan_negdot_avx2
        case (.swiftSIMD, true): { q, rows, stride, n, count, out in
            for r in 0..<count { out![r] = SIMDKernels.l2Squared(q!, rows! + r * stride, n) }
        }
        case (.swiftSIMD, false): { q, rows, stride, n, count, out in
            for r in 0..<count { out![r] = -SIMDKernels.dot(q!, rows! + r * stride, n) }
        }
        }
    }

    var negatedDot: Function {
        switch level {
        case .avx512: engram_negdot_avx512
        case .avx2: engram_negdot_avx2
        case .swiftSIMD: { -SIMDKernels.dot($0!, $1!, $2) }
        }
    }
}

/// Converts f32 values to IEEE f16 bit patterns (F16C where available); for tests.
package func engramF32ToF16(_ src: [Float], _ dst: inout [UInt16]) {
    precondition(src.count == dst.count)
    engram_f32_to_f16(src, &dst, src.count)
}

/// The portable conversion, for comparison in tests.
package func engramF32ToF16Scalar(_ src: [Float], _ dst: inout [UInt16]) {
    precondition(src.count == dst.count)
    engram_f32_to_f16_scalar(src, &dst, src.count)
}
