/// An array that snapshots share while the one writer keeps appending to it.
///
/// Rows only grow (a new memory always gets a larger row than any before it), so the lists a
/// snapshot holds (a tenant's rows, its posting lists, the keyword index's postings) change
/// mostly by appends. Each value of this type is a view of the first `count` elements of a
/// buffer. An append to a value that ends where its buffer's written part ends (as the writer's
/// newest copy does) writes the next element in place: snapshots published earlier see only
/// their own first elements, which never change. Any other append, and every removal, copies
/// into a new buffer, which the old snapshots never see. So publishing a snapshot after an append
/// costs O(1), not a copy of every list it touches.
///
/// Thread safety: appends and removals only in the one writer (or on a value no other thread
/// has seen yet); reads anywhere, of values published to the reader after the writes they see
/// (the store publishes snapshots under a lock).
struct SharedArray<Element>: @unchecked Sendable {  // elements below `count` are never written again
    private var buffer: Buffer
    private(set) var count: Int

    private final class Buffer: @unchecked Sendable {  // see SharedArray: `written` is the writer's alone
        let base: UnsafeMutablePointer<Element>
        let capacity: Int
        /// Initialized elements: the end of the longest value appended in place so far.
        var written = 0

        init(capacity: Int) {
            self.capacity = capacity
            base = .allocate(capacity: capacity)
        }

        deinit {
            base.deinitialize(count: written)
            base.deallocate()
        }
    }

    init() {
        buffer = Buffer(capacity: 0)
        count = 0
    }

    init(_ elements: some Collection<Element>) {
        buffer = Buffer(capacity: elements.count)
        count = 0
        for element in elements { append(element) }
    }

    /// Appends `element`, in place when this value ends where its buffer's written part does.
    /// - Complexity: amortized O(1).
    mutating func append(_ element: Element) {
        if count != buffer.written || count == buffer.capacity { reallocate(capacity: Swift.max(8, count * 2)) }
        (buffer.base + count).initialize(to: element)
        buffer.written += 1
        count += 1
    }

    mutating func append(contentsOf elements: some Sequence<Element>) {
        for element in elements { append(element) }
    }

    /// This array without the elements `shouldRemove` picks, in a new buffer (never in place:
    /// published snapshots may be reading these elements).
    /// - Complexity: O(count).
    func removing(where shouldRemove: (Element) throws -> Bool) rethrows -> SharedArray {
        var kept = SharedArray()
        kept.buffer = Buffer(capacity: count)
        for element in self where !(try shouldRemove(element)) { kept.append(element) }
        return kept
    }

    /// Copies the elements into a new buffer with room for `capacity`.
    private mutating func reallocate(capacity: Int) {
        let fresh = Buffer(capacity: capacity)
        fresh.base.initialize(from: buffer.base, count: count)
        fresh.written = count
        buffer = fresh
    }

    /// Calls `body` with the elements in place.
    func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Element>) throws -> R) rethrows -> R {
        try withExtendedLifetime(buffer) { try body(UnsafeBufferPointer(start: buffer.base, count: count)) }
    }
}

extension SharedArray: RandomAccessCollection {
    var startIndex: Int { 0 }
    var endIndex: Int { count }

    subscript(position: Int) -> Element {
        precondition(position >= 0 && position < count, "SharedArray index out of range")
        return buffer.base[position]
    }
}

extension SharedArray: ExpressibleByArrayLiteral {
    init(arrayLiteral elements: Element...) { self.init(elements) }
}
