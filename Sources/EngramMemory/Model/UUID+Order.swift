import Foundation

extension UUID {
    /// The 16 bytes as two integers, for ordering without formatting the string.
    var orderKey: UInt128 {
        withUnsafeBytes(of: uuid) { raw in
            raw.enumerated().reduce(UInt128(0)) { $0 << 8 | UInt128($1.element) }
        }
    }
}
