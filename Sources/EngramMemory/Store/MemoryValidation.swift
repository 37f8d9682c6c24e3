import Foundation

/// The checks every write passes before it reaches the record: a clear typed error for what a
/// caller got wrong, never a trap and never a partial write.
enum MemoryValidation {
    /// Largest accepted metadata, as JSON bytes.
    static let maxMetadataBytes = 64 * 1024

    static func check(_ items: [NewMemory]) throws {
        let now = Date()
        for item in items {
            try check(texts: [item.text], scope: item.scope, metadata: item.metadata)
            try check(expiresAt: item.expiresAt, now: now)
            if let created = item.createdAt, let updated = item.updatedAt, updated < created {
                throw MemoryError.invalidParameter("updated_at is before created_at")
            }
            if let from = item.validFrom ?? item.createdAt, let to = item.validTo, to < from {
                throw MemoryError.invalidParameter("valid_to is before valid_from")
            }
            if item.supersedes != nil, item.validTo != nil || item.supersededBy != nil {
                throw MemoryError.invalidParameter("a memory that supersedes another is current: it cannot carry valid_to or superseded_by")
            }
        }
        let superseded = items.compactMap(\.supersedes)
        if Set(superseded).count < superseded.count {
            throw MemoryError.invalidParameter("one memory is superseded twice in one batch")
        }
        // The memory superseded must be stored before the batch: every record store locks it first.
        if !Set(superseded).isDisjoint(with: items.compactMap(\.id)) {
            throw MemoryError.invalidParameter("a memory cannot supersede one added in the same batch: add that one first")
        }
    }

    /// An expiry must lie ahead: a memory stored already expired would never be listed or found.
    static func check(expiresAt: Date?, now: Date = Date()) throws {
        if let expiresAt, expiresAt <= now { throw MemoryError.invalidParameter("the expiry \(expiresAt.formatted(.iso8601)) has passed") }
    }

    static func check(texts: [String], scope: MemoryScope, metadata: [String: MetadataValue]) throws {
        try check(newScope: scope)
        for text in texts { try check(text: text) }
        try check(metadata: metadata)
    }

    /// A text may hold any character but NUL: PostgreSQL's text type cannot store it, and SQLite
    /// would keep only what comes before it, so the record and the view would disagree.
    static func check(text: String) throws {
        if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw MemoryError.emptyText }
        if text.utf8.contains(0) { throw MemoryError.invalidParameter("a memory text cannot contain NUL (\\u0000)") }
    }

    /// Longest accepted scope id, in UTF-8 bytes.
    static let maxScopeIDBytes = 512

    /// A scope a read or a delete names: at least one field, and none with a NUL, which a record
    /// store could cut short (`victim\u{0}x` must never reach `victim`'s memories). Blank ids are
    /// accepted here, so that memories stored under one before they were refused stay reachable.
    static func check(scope: MemoryScope) throws {
        guard !scope.isEmpty else { throw MemoryError.missingScope }
        try scope.forEachField { name, id in
            if id.utf8.contains(0) { throw MemoryError.invalidParameter("\(name) cannot contain NUL (\\u0000)") }
        }
    }

    /// A scope new memories are stored under: as for reads, and every id set is not blank, has no
    /// control character and is at most ``maxScopeIDBytes`` long.
    static func check(newScope scope: MemoryScope) throws {
        try check(scope: scope)
        for (name, id) in scope.fields {
            if id.trimmingCharacters(in: .whitespaces).isEmpty { throw MemoryError.invalidParameter("\(name) is blank") }
            if id.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                throw MemoryError.invalidParameter("\(name) cannot contain control characters")
            }
            if id.utf8.count > maxScopeIDBytes { throw MemoryError.invalidParameter("\(name) is longer than \(maxScopeIDBytes) bytes") }
        }
    }

    static func check(metadata: [String: MetadataValue]) throws {
        for key in metadata.keys {
            guard !key.isEmpty else { throw MemoryError.invalidMetadata("empty key") }
            guard !MemoryFilter.reservedFields.contains(key) else {
                throw MemoryError.invalidMetadata("'\(key)' is reserved: scope and timestamps cannot be set through metadata")
            }
        }
        for (key, value) in metadata { try check(value, path: key, depth: 1) }
        let size = MetadataValue.jsonText(of: metadata).utf8.count
        guard size <= maxMetadataBytes else { throw MemoryError.invalidMetadata("\(size) bytes of JSON, at most \(maxMetadataBytes)") }
    }

    /// A value at `path`, `depth` containers deep (the metadata object is 1): numbers finite,
    /// nesting at most ``MetadataValue/maxDepth``.
    private static func check(_ value: MetadataValue, path: String, depth: Int) throws {
        switch value {
        case let .number(n) where !n.isFinite: throw MemoryError.invalidMetadata("'\(path)' is \(n): numbers must be finite")
        case let .array(elements):
            guard depth < MetadataValue.maxDepth else { throw tooDeep(path) }
            for (i, element) in elements.enumerated() { try check(element, path: "\(path)[\(i)]", depth: depth + 1) }
        case .strings where depth >= MetadataValue.maxDepth: throw tooDeep(path)
        case let .object(fields):
            guard depth < MetadataValue.maxDepth else { throw tooDeep(path) }
            for (key, field) in fields { try check(field, path: "\(path).\(key)", depth: depth + 1) }
        default: break
        }
    }

    private static func tooDeep(_ path: String) -> MemoryError {
        .invalidMetadata("'\(path)' is nested more than \(MetadataValue.maxDepth) levels deep")
    }

    /// Embeddings: one per memory, each of `dimension` finite floats, not all zero (a direction
    /// is what cosine similarity compares).
    static func check(vectors: [[Float]], count: Int, dimension: Int) throws {
        guard vectors.count == count else { throw MemoryError.invalidParameter("\(vectors.count) vectors for \(count) memories") }
        for vector in vectors { try check(vector: vector, dimension: dimension) }
    }

    static func check(vector: [Float], dimension: Int) throws {
        guard vector.count == dimension, vector.allSatisfy(\.isFinite), vector.contains(where: { $0 != 0 }) else {
            throw MemoryError.invalidParameter("embedding must be \(dimension) finite floats, not all zero")
        }
    }

    static func check(limit: Int, offset: Int = 0) throws {
        guard limit > 0, offset >= 0 else { throw MemoryError.invalidParameter("limit must be positive and offset non-negative") }
    }
}
