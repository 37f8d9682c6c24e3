import EngramIndex
#if canImport(Glibc)
import Glibc
#endif

/// Makes sure the OpenBLAS kernels in use are the fast ones for this CPU.
///
/// OpenBLAS picks its kernels once, when the library loads (before `main`, since `engram` links it),
/// from `OPENBLAS_CORETYPE` or its own CPU detection. Debian's 0.3.21 does not recognize some recent
/// CPUs and falls back to a generic core several times slower. When that happens and the user has
/// not chosen a core, `engram` re-executes itself once with the core that matches the CPU's vector
/// units. `ENGRAM_NO_BLAS_REEXEC=1` turns this off.
enum BLASSetup {
    static func ensureFastKernels() {
        #if os(Linux)
        guard BLASRuntime.isOpenBLASOnGenericCore,
              getenv("OPENBLAS_CORETYPE") == nil, getenv("ENGRAM_NO_BLAS_REEXEC") == nil,
              let core = BLASRuntime.recommendedOpenBLASCore
        else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv("ENGRAM_NO_BLAS_REEXEC", "1", 1)
        let args = CommandLine.arguments
        var argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        execv("/proc/self/exe", &argv)
        // execv returned: keep running on the generic kernels rather than fail.
        unsetenv("OPENBLAS_CORETYPE")
        #endif
    }
}
