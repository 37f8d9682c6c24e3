/// A 128-bit hash of a text's UTF-8 bytes (two XXH64, seeds 0 and 1), as 32 hex digits: how the
/// memory layer recognizes a text it already holds in a scope. Not cryptographic: a collision
/// needs a deliberate search, and costs only a memory reported as a duplicate.
package enum ContentHash {
    package static func of(_ text: String) -> String {
        var text = text
        return text.withUTF8 { utf8 in
            let raw = UnsafeRawBufferPointer(utf8)
            return [0, 1].map { seed in hex(XXH64.hash(raw, seed: seed)) }.joined()
        }
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
