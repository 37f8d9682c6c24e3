import Foundation

/// The in-memory view of a store's memories, derived from the database: the memories by row, and
/// posting lists (sorted rows) for every scope field and metadata value, so that a scope and the
/// equality parts of a filter become list intersections instead of a pass over a tenant's rows.
struct MemoryView: Sendable {
    /// A memory held by reference, so that evaluating a filter over many rows reads it in place
    /// instead of copying every field (measured: copies were ~20% of search time). A memory loaded
    /// from a ``ViewSnapshot`` is decoded on first use (see ``SnapshotBox``).
    class Box: @unchecked Sendable {  // immutable, or (SnapshotBox) its cache is behind a mutex
        var memory: Memory { fatalError("abstract") }
    }

    final class StoredBox: Box, @unchecked Sendable {  // immutable
        private let stored: Memory
        init(_ memory: Memory) { stored = memory }
        override var memory: Memory { stored }
    }

    private(set) var memories: [Int64: Box] = [:]
    private(set) var rowOfID: [UUID: Int64] = [:]
    /// field → value → rows. Fields: `user_id`, `agent_id`, `run_id` and the metadata keys.
    private(set) var postings: [String: [PostingKey: [Int64]]] = [:]
    /// Rows of each partition (a memory's first scope field: see ``MemoryPartition``).
    private(set) var partitions: [MemoryPartition: [Int64]] = [:]
    /// Keyword indexes by partition, kept current by publish / unpublish. A partition loaded at
    /// open has none until ``MemoryStore`` builds it (in the background, or on its first keyword
    /// query); a partition created afterwards gets one at its first memory.
    var keyword: [MemoryPartition: KeywordIndex] = [:]
    /// Whether a new partition starts with a keyword index (off while the view is loaded at open,
    /// so opening does not tokenize every memory).
    var indexesNewPartitions = false
    /// Memories with an expiry date: when there are none, no row needs a per-row expiry check.
    private(set) var expiringCount = 0

    var count: Int { memories.count }

    init() {}

    /// A view with its parts already built (from a ``ViewSnapshot``).
    init(memories: [Int64: Box], rowOfID: [UUID: Int64], postings: [String: [PostingKey: [Int64]]],
         partitions: [MemoryPartition: [Int64]], expiringCount: Int) {
        self.memories = memories
        self.rowOfID = rowOfID
        self.postings = postings
        self.partitions = partitions
        self.expiringCount = expiringCount
    }

    mutating func publish(_ row: Int64, _ memory: Memory) {
        memories[row] = StoredBox(memory)
        rowOfID[memory.id] = row
        for (field, value) in Self.postedValues(of: memory) {
            for key in PostingKey.keys(of: value) { SortedRows.insert(row, into: &postings[field, default: [:]][key, default: []]) }
        }
        let partition = MemoryPartition(of: memory.scope)
        SortedRows.insert(row, into: &partitions[partition, default: []])
        if indexesNewPartitions, partitions[partition]!.count == 1 { keyword[partition] = KeywordIndex() }
        keyword[partition]?.add(row, text: memory.text)
        if memory.expiresAt != nil { expiringCount += 1 }
    }

    /// Adds the memories of `later` (a delta snapshot's) without decoding them: its maps are merged
    /// and its row lists appended to these, which keeps them sorted because every row of `later`
    /// is above every row here.
    /// - Returns: false, with this view unusable, when a row or an id of `later` is already here.
    mutating func append(_ later: MemoryView) -> Bool {
        for (row, box) in later.memories where memories.updateValue(box, forKey: row) != nil { return false }
        for (id, row) in later.rowOfID where rowOfID.updateValue(row, forKey: id) != nil { return false }
        for (field, lists) in later.postings {
            for (key, rows) in lists { postings[field, default: [:]][key, default: []] += rows }
        }
        for (partition, rows) in later.partitions { partitions[partition, default: []] += rows }
        expiringCount += later.expiringCount
        return true
    }

    /// Removes the rows (unknown ones are ignored), each posting list rewritten once.
    /// - Returns: the memories removed.
    @discardableResult
    mutating func unpublish(_ rows: [Int64]) -> [Int64: Memory] {
        var removed: [Int64: Memory] = [:]
        var touched: [String: Set<PostingKey>] = [:]
        var touchedPartitions = Set<MemoryPartition>()
        for row in rows {
            guard let memory = memories.removeValue(forKey: row)?.memory else { continue }
            removed[row] = memory
            rowOfID[memory.id] = nil
            for (field, value) in Self.postedValues(of: memory) { touched[field, default: []].formUnion(PostingKey.keys(of: value)) }
            touchedPartitions.insert(MemoryPartition(of: memory.scope))
            if memory.expiresAt != nil { expiringCount -= 1 }
        }
        guard !removed.isEmpty else { return removed }
        let gone = Set(removed.keys)
        func prune(_ list: inout [Int64]) {
            if gone.count == 1 { SortedRows.remove(gone.first!, from: &list) } else { list.removeAll(where: gone.contains) }
        }
        for (field, keys) in touched {
            for key in keys {
                prune(&postings[field]![key]!)
                if postings[field]![key]!.isEmpty { postings[field]![key] = nil }
            }
            if postings[field]!.isEmpty { postings[field] = nil }
        }
        for partition in touchedPartitions {
            prune(&partitions[partition]!)
            if partitions[partition]!.isEmpty { partitions[partition] = nil }
        }
        var texts: [MemoryPartition: [(row: Int64, text: String)]] = [:]
        for (row, memory) in removed { texts[MemoryPartition(of: memory.scope), default: []].append((row, memory.text)) }
        for (partition, rows) in texts where keyword[partition] != nil {
            if partitions[partition] == nil { keyword[partition] = nil } else { keyword[partition]!.remove(rows) }
        }
        return removed
    }

    /// The posted fields of a memory: its scope fields and metadata.
    private static func postedValues(of memory: Memory) -> [(String, MetadataValue)] {
        var values = memory.metadata.map { ($0.key, $0.value) }
        if let u = memory.scope.userID { values.append(("user_id", .string(u))) }
        if let a = memory.scope.agentID { values.append(("agent_id", .string(a))) }
        if let r = memory.scope.runID { values.append(("run_id", .string(r))) }
        return values
    }

    func rows(of field: String, equalTo value: MetadataValue) -> [Int64] {
        PostingKey(operand: value).flatMap { postings[field]?[$0] } ?? []
    }

    /// The partition that holds every memory in `scope`, if there is one: a user's partition for
    /// a query scoped to that user; an agent's (or run's) when the query names no user and none
    /// of the agent's memories has one.
    func partition(covering scope: MemoryScope) -> MemoryPartition? {
        let partition = MemoryPartition(of: scope)
        guard let rows = partitions[partition] else { return nil }
        return rows.count == self.rows(of: partition.field, equalTo: .string(partition.value)).count ? partition : nil
    }
}
