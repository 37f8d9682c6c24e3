import CEngramKernels

/// The checksum of the index file format: XXH64 with seed 0.
package enum IndexChecksum {
    package static func xxh64(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        engram_xxh64(bytes.baseAddress, bytes.count, seed)
    }
}
