import CBLAS
import CEngramKernels
import EngramSupport

/// What BLAS library the process actually runs on, and the one setting Engram changes in it.
///
/// Debian serves `libblas.so.3` through its alternatives system, so the same binary may run on
/// netlib, OpenBLAS or BLIS; benchmarks print ``description`` so that every figure says which.
public enum BLASRuntime {
    /// The shared library that serves `cblas_sgemm`.
    public static var libraryPath: String? { engram_blas_library_path().map { String(cString: $0) } }

    /// OpenBLAS's kernel family ("Haswell", "SkylakeX", "Zen", "Prescott" …), or nil for another BLAS.
    public static var openBLASCore: String? { engram_blas_openblas_corename().map { String(cString: $0) } }

    /// OpenBLAS's build configuration string, or nil for another BLAS.
    public static var openBLASConfig: String? { engram_blas_openblas_config().map { String(cString: $0) } }

    /// Whether OpenBLAS runs a generic kernel on a CPU that has AVX2 or AVX-512 (Debian's 0.3.21 does
    /// not recognize some recent CPUs and falls back to "Prescott", several times slower).
    public static var isOpenBLASOnGenericCore: Bool {
        guard let core = openBLASCore?.lowercased() else { return false }
        let generic = ["prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "katmai", "northwood", "barcelona", "generic"]
        return DistanceKernels.Level.supported >= .avx2 && generic.contains(core)
    }

    /// The `OPENBLAS_CORETYPE` that selects the fastest kernels this CPU runs.
    public static var recommendedOpenBLASCore: String? {
        switch DistanceKernels.Level.supported {
        case .avx512: "SkylakeX"
        case .avx2: "Haswell"
        case .swiftSIMD: nil
        }
    }

    /// Engram parallelizes batch work itself (one BLAS call per worker thread), so BLAS must run each
    /// call on one thread, or the workers oversubscribe the cores. Called before the first batch.
    static let singleThreaded: Bool = { engram_blas_set_threads(1) != 0 }()

    /// One line: library, kernel family, distance kernels.
    public static var description: String {
        var parts = ["blas=\(libraryPath ?? "unknown")"]
        if let core = openBLASCore { parts.append("openblas_core=\(core)") }
        parts.append("kernels=\(DistanceKernels.active.level.rawValue)")
        return parts.joined(separator: " ")
    }
}

extension BLASRuntime {
    /// The GFLOP/s of `cblas_sgemm` on an `m × k` by `k × n` product (best of `repeats`), on
    /// `threads` threads each running its own product, as Engram's batch search does.
    public static func measureSGEMM(m: Int, n: Int, k: Int, threads: Int = 1, repeats: Int = 3) -> Double {
        _ = singleThreaded
        let a = [Float](repeating: 0.5, count: m * k), b = [Float](repeating: 0.25, count: n * k)
        var best = Double.infinity
        for _ in 0..<repeats {
            let start = ContinuousClock.now
            parallelFor(threads, threads: threads) { _ in
                var c = [Float](repeating: 0, count: m * n)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k),
                            1, a, Int32(k), b, Int32(k), 0, &c, Int32(n))
            }
            let elapsed = ContinuousClock.now - start
            best = min(best, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
        }
        return 2 * Double(m) * Double(n) * Double(k) * Double(threads) / best / 1e9
    }
}

/// The memory bandwidth a plain streaming read reaches, through the same distance kernels the
/// scans use (a dot product of a buffer with itself reads each byte once).
public enum MemoryBandwidth {
    /// GB/s of reading `bytes` (best of 3), split over `threads` threads.
    public static func streamingReadGBs(bytes: Int, threads: Int = 1) -> Double {
        let floats = bytes / 4
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: floats)
        defer { buffer.deallocate() }
        buffer.initialize(repeating: 1)
        let base = UnsafeSendable(UnsafePointer(buffer.baseAddress!))
        let kernels = DistanceKernels.active
        var best = Double.infinity
        for _ in 0..<3 {
            let start = ContinuousClock.now
            parallelFor(threads, threads: threads) { t in
                let chunk = floats / threads
                let p = base.value + t * chunk
                _ = kernels.dot(p, p, chunk)
            }
            let elapsed = ContinuousClock.now - start
            best = min(best, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
        }
        return Double(bytes) / best / 1e9
    }
}
