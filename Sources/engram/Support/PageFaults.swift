#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's page-fault counters, to tell a query's compute from its first touches of a mapped file.
struct PageFaults {
    /// Faults served from memory (the page cache, or a zero page).
    var minor: Int
    /// Faults that waited for the disk.
    var major: Int

    static var now: PageFaults {
        var usage = rusage()
        #if canImport(Glibc)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        return PageFaults(minor: Int(usage.ru_minflt), major: Int(usage.ru_majflt))
    }

    /// The faults taken while `body` ran.
    static func counting<T>(_ body: () throws -> T) rethrows -> (value: T, faults: PageFaults) {
        let before = now
        let value = try body()
        let after = now
        return (value, PageFaults(minor: after.minor - before.minor, major: after.major - before.major))
    }
}
