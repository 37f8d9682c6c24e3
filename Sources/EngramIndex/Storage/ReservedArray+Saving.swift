extension ReservedArray {
    /// The bytes of the first `count` rows of `stride` elements, as a file should hold them: with
    /// each row of `replaced` overwritten by the row it names (its value), or by zeros (nil).
    ///
    /// Saving an index goes through this so that a removed item leaves no trace in the file,
    /// while the rows in memory stay as they are (searches may be reading them: rows are never
    /// rewritten under a reader).
    /// - Complexity: no copy when `replaced` is empty; one copy of the rows otherwise.
    func withSavedRows<R>(count: Int, stride: Int, replacing replaced: [Int: Int?],
                          _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        guard !replaced.isEmpty else { return try body(bytes(count: count * stride)) }
        let copy = UnsafeMutableBufferPointer<Element>.allocate(capacity: count * stride)
        defer { copy.deallocate() }
        _ = copy.initialize(from: UnsafeBufferPointer(start: base, count: count * stride))
        for (row, source) in replaced {
            let target = copy.baseAddress! + row * stride
            if let source {
                target.update(from: base + source * stride, count: stride)
            } else {
                UnsafeMutableRawPointer(target).initializeMemory(as: UInt8.self, repeating: 0, count: stride * MemoryLayout<Element>.stride)
            }
        }
        return try body(UnsafeRawBufferPointer(copy))
    }
}
