import EngramIndex
import Foundation
import HashTreeCollections

/// One tenant's memories and their indexes, as of one snapshot: the memories whose first scope
/// field (user, else agent, else run) has the value ``key`` names.
///
/// A value that snapshots share. The writer changes a copy; what it does not change stays shared,
/// and what it appends goes into shared buffers in place (``SharedArray``), so publishing a new
/// snapshot costs about what the change does, whatever the tenant's size. A scoped query reads
/// one partition (an agent or a run that spans users: the few partitions holding it), so a query
/// never touches another tenant's lists, graph or keyword statistics.
struct Partition: Sendable {
    let key: ScopeKey
    /// Ascending.
    private(set) var rows = SharedArray<Int64>()
    /// `memories[i]` is the memory of `rows[i]`.
    private(set) var memories = SharedArray<MemoryRef>()
    /// field → value → rows (ascending), for the metadata keys and the scope fields other than
    /// `key.field`, which every row has.
    private(set) var postings = TreeDictionary<String, TreeDictionary<PostingKey, SharedArray<Int64>>>()
    /// BM25 over the texts. Nil for a partition loaded from a checkpoint until it is built (in
    /// the background after an open); kept current by every change once it exists.
    var keyword: KeywordIndex?
    /// The HNSW graph over the partition's vectors, once it outgrows exact scans (see
    /// ``StoreState/graphThreshold``). A reference: the graph takes adds while searches run on it.
    var graph: HNSWIndex?
    /// Memories with an expiry or an end of validity: when there are none, a default listing
    /// checks no row's times.
    private(set) var boundedCount = 0

    var count: Int { rows.count }

    /// An empty partition, with an empty keyword index that every change keeps current.
    init(key: ScopeKey) {
        self.key = key
        keyword = KeywordIndex()
    }

    /// An empty partition whose memories come from a checkpoint or the record: it gets its
    /// keyword index later, built in one pass (see ``KeywordIndex/init(documents:)``).
    init(loadedKey key: ScopeKey) {
        self.key = key
    }

    /// A partition with its lists already built (from a view file).
    init(key: ScopeKey, rows: SharedArray<Int64>, memories: SharedArray<MemoryRef>,
         postings: TreeDictionary<String, TreeDictionary<PostingKey, SharedArray<Int64>>>, boundedCount: Int) {
        self.key = key
        self.rows = rows
        self.memories = memories
        self.postings = postings
        self.boundedCount = boundedCount
    }

    /// The memory of `row`, if this partition holds it.
    /// - Complexity: O(log count).
    func memory(row: Int64) -> MemoryRef? {
        let i = index(of: row)
        return i.map { memories[$0] }
    }

    private func index(of row: Int64) -> Int? {
        rows.withUnsafeBufferPointer { list in
            let i = SortedRows.lowerBound(list, row)
            return i < list.count && list[i] == row ? i : nil
        }
    }

    /// Every row with its memory's text, ascending (what a keyword index is built from).
    var texts: [(row: Int64, text: String)] { texts { _ in true } }

    /// The rows `isIncluded` picks with their memories' texts, ascending (only those are decoded).
    func texts(where isIncluded: (Int64) -> Bool) -> [(row: Int64, text: String)] {
        zip(rows, memories).compactMap { row, memory in isIncluded(row) ? (row, memory.memory.text) : nil }
    }

    /// The rows whose `field` equals `value` (an array-valued field: any element does).
    func list(_ field: String, equalTo value: MetadataValue) -> SortedRows.List {
        if field == key.field { return value == .string(key.value) ? .shared(rows) : .computed([]) }
        return .shared(PostingKey(operand: value).flatMap { postings[field]?[$0] } ?? [])
    }

    /// The posted fields of a memory: its metadata (nested keys by dotted path) and the scope
    /// fields other than the partition's.
    private func postedValues(of memory: Memory) -> [(field: String, value: MetadataValue)] {
        var values = MetadataValue.addressableFields(of: memory.metadata)
        for scope in ScopeKey.keys(of: memory.scope) where scope.field != key.field { values.append((scope.field, .string(scope.value))) }
        return values
    }
}

extension Partition {
    /// Adds a memory; its row is normally above every row here.
    mutating func append(_ row: Int64, _ memory: Memory) {
        append([(row, memory)])
    }

    /// Adds memories (ascending rows, normally above every row here), each posting list and
    /// keyword term touched once for all of them: a persistent map copies a path per update.
    mutating func append(_ added: [(row: Int64, memory: Memory)]) {
        var lists: [String: [PostingKey: [Int64]]] = [:]
        var texts: [(row: Int64, text: String)] = []
        for (row, memory) in added {
            if let last = rows.last, row <= last {
                insert(row, memory)
                continue
            }
            rows.append(row)
            memories.append(MemoryRef(memory))
            for (field, value) in postedValues(of: memory) {
                for key in PostingKey.keys(of: value) { lists[field, default: [:]][key, default: []].append(row) }
            }
            texts.append((row, memory.text))
            if memory.hasTimeBound { boundedCount += 1 }
        }
        for (field, keys) in lists {
            for (key, rows) in keys { postings[field, default: [:]][key, default: []].append(contentsOf: rows) }
        }
        keyword?.add(texts)
    }

    /// Adds a memory whose row lies among the rows here: one another writer of the same record
    /// left, found by a catch-up (rare). Copies the lists it changes; the keyword index, which
    /// numbers documents in row order, is dropped, to be built again.
    private mutating func insert(_ row: Int64, _ memory: Memory) {
        guard self.memory(row: row) == nil else { return }
        func inserted(_ list: SharedArray<Int64>) -> SharedArray<Int64> {
            let i = list.withUnsafeBufferPointer { SortedRows.lowerBound($0, row) }
            return SharedArray(list[..<i] + [row] + list[i...])
        }
        let i = rows.withUnsafeBufferPointer { SortedRows.lowerBound($0, row) }
        rows = inserted(rows)
        memories = SharedArray(memories[..<i] + [MemoryRef(memory)] + memories[i...])
        for (field, value) in postedValues(of: memory) {
            for key in PostingKey.keys(of: value) { postings[field, default: [:]][key] = inserted(postings[field]?[key] ?? []) }
        }
        keyword = nil
        if memory.hasTimeBound { boundedCount += 1 }
    }

    /// Adds the memories of `later`, whose rows are all above every row here (a view file's delta),
    /// without decoding them.
    mutating func append(contentsOf later: Partition) {
        rows.append(contentsOf: later.rows)
        memories.append(contentsOf: later.memories)
        for (field, lists) in later.postings {
            for (key, list) in lists { postings[field, default: [:]][key, default: []].append(contentsOf: list) }
        }
        boundedCount += later.boundedCount
    }

    /// Removes `rows` (ascending; rows not held are ignored), each changed list copied once.
    /// - Returns: the memories removed.
    /// - Complexity: O(count + the lengths of the lists the removed memories are in).
    @discardableResult
    mutating func remove(_ doomed: [Int64]) -> [Int64: Memory] {
        var removed: [Int64: Memory] = [:]
        for row in doomed { if let memory = memory(row: row)?.memory { removed[row] = memory } }
        guard !removed.isEmpty else { return [:] }
        let gone = Set(removed.keys)
        let kept = rows.indices.filter { !gone.contains(rows[$0]) }
        rows = SharedArray(kept.map { rows[$0] })
        memories = SharedArray(kept.map { memories[$0] })
        var touched: [String: Set<PostingKey>] = [:]
        for memory in removed.values {
            for (field, value) in postedValues(of: memory) { touched[field, default: []].formUnion(PostingKey.keys(of: value)) }
            if memory.hasTimeBound { boundedCount -= 1 }
        }
        for (field, keys) in touched {
            guard var lists = postings[field] else { continue }
            postings[field] = nil
            for key in keys {
                guard let list = lists[key] else { continue }
                let pruned = list.removing(where: gone.contains)
                lists[key] = pruned.isEmpty ? nil : pruned
            }
            if !lists.isEmpty { postings[field] = lists }
        }
        keyword?.remove(removed.map { (row: $0.key, text: $0.value.text) })
        return removed
    }
}
