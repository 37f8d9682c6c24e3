import Foundation

/// The checks every write passes before it reaches the record: a clear typed error for what a
/// caller got wrong, never a trap and never a partial write.
enum MemoryValidation {
    /// Largest accepted metadata, as JSON bytes.
    static let maxMetadataBytes = 64 * 1024

    static func check(_ items: [NewMemory]) throws {
        for item in items { try check(texts: [item.text], scope: item.scope, metadata: item.metadata) }
    }

    static func check(texts: [String], scope: MemoryScope, metadata: [String: MetadataValue]) throws {
        guard !scope.isEmpty else { throw MemoryError.missingScope }
        for text in texts { try check(text: text) }
        try check(metadata: metadata)
    }

    static func check(text: String) throws {
        if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw MemoryError.emptyText }
    }

    static func check(metadata: [String: MetadataValue]) throws {
        for key in metadata.keys {
            guard !key.isEmpty else { throw MemoryError.invalidMetadata("empty key") }
            guard !MemoryFilter.reservedFields.contains(key) else {
                throw MemoryError.invalidMetadata("'\(key)' is reserved: scope and timestamps cannot be set through metadata")
            }
        }
        for (key, value) in metadata {
            if case let .number(n) = value, !n.isFinite { throw MemoryError.invalidMetadata("'\(key)' is \(n): numbers must be finite") }
        }
        let size = MetadataValue.jsonText(of: metadata).utf8.count
        guard size <= maxMetadataBytes else { throw MemoryError.invalidMetadata("\(size) bytes of JSON, at most \(maxMetadataBytes)") }
    }

    /// Embeddings: one per memory, each of `dimension` finite floats, not all zero (a direction
    /// is what cosine similarity compares).
    static func check(vectors: [[Float]], count: Int, dimension: Int) throws {
        guard vectors.count == count else { throw MemoryError.invalidParameter("\(vectors.count) vectors for \(count) memories") }
        for vector in vectors where vector.count != dimension || !vector.allSatisfy(\.isFinite) || !vector.contains(where: { $0 != 0 }) {
            throw MemoryError.invalidParameter("embedding must be \(dimension) finite floats, not all zero")
        }
    }

    static func check(limit: Int, offset: Int = 0) throws {
        guard limit > 0, offset >= 0 else { throw MemoryError.invalidParameter("limit must be positive and offset non-negative") }
    }
}
