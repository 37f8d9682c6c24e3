import CEngramSupport

/// XXH64 (Yann Collet's xxHash, 64-bit): the checksum of every Engram file (index sections and
/// headers, view snapshots) and the building block of ``ContentHash``.
package enum XXH64 {
    /// The hash of `bytes` with `seed`.
    /// - Complexity: O(bytes), several GB/s.
    package static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        engram_xxh64(bytes.baseAddress, bytes.count, seed)
    }
}
