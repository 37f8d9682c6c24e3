import EngramIndex
import Foundation
import HashTreeCollections

/// Everything a search reads, as of one moment: every partition, and which partitions hold each
/// scope value. Immutable once published: the one writer (``StoreWriter``) applies each committed
/// change to a copy and publishes the copy; a search takes the state once and reads it from its
/// filter to its last result without a lock, while writes go on.
///
/// Copies share their parts (persistent maps, shared lists), so a change costs about what it
/// changes, not the size of the store.
struct StoreState: Sendable {
    /// Partitions above this size get a graph (below it, exact scans are as fast as a graph search).
    static let graphThreshold = HNSWIndex.exactScanLimit

    var partitions = TreeDictionary<ScopeKey, Partition>()
    /// For every scope value (user, agent or run), the partitions holding memories with it and
    /// how many each holds: a scope naming an agent or a run without a user reads these partitions.
    var spans = TreeDictionary<ScopeKey, TreeDictionary<ScopeKey, Int>>()
    /// Memories in every partition.
    var count = 0
    /// The largest row the changes applied so far assigned (see ``RecordStore/position()``).
    var position: Int64 = 0

    init() {}

    /// The state of `partitions` at `position`.
    init(partitions: [Partition], position: Int64) {
        for partition in partitions {
            self.partitions[partition.key] = partition
            count += partition.count
            span(partition.key, in: partition.key, by: partition.count)
            for field in ["user_id", "agent_id", "run_id"] where field != partition.key.field {
                for (key, rows) in partition.postings[field] ?? [:] {
                    if case let .string(value) = key { span(ScopeKey(field: field, value: value), in: partition.key, by: rows.count) }
                }
            }
        }
        self.position = position
    }

    /// Counts `delta` more memories with `value` in `partition`.
    mutating func span(_ value: ScopeKey, in partition: ScopeKey, by delta: Int) {
        let n = (spans[value]?[partition] ?? 0) + delta
        spans[value, default: [:]][partition] = n > 0 ? n : nil
        if spans[value]?.isEmpty == true { spans[value] = nil }
    }

    /// The partitions that can hold memories in `scope`: the user's, or those holding its agent
    /// (or run) when it names no user.
    func partitions(holding scope: MemoryScope) -> [Partition] {
        if let user = scope.userID { return partition(ofUser: user).map { [$0] } ?? [] }
        guard let first = ScopeKey.keys(of: scope).first, let holders = spans[first] else { return [] }
        return holders.keys.compactMap { partitions[$0] }
    }

    /// The partition of `user`'s memories, if they have any.
    func partition(ofUser user: String) -> Partition? { partitions[ScopeKey(field: "user_id", value: user)] }

    /// The memory of `row` in the partition of `scope`.
    func memory(row: Int64, scope: MemoryScope) -> MemoryRef? {
        partitions[ScopeKey(partitionOf: scope)]?.memory(row: row)
    }

    /// Every user, agent and run that has memories, with how many: users, then agents, then runs,
    /// each by id.
    var entities: [MemoryEntity] {
        let order = ["user_id": 0, "agent_id": 1, "run_id": 2]
        return spans.map { key, holders in MemoryEntity(field: key.field, id: key.value, count: holders.values.reduce(0, +)) }
            .sorted { (order[$0.field] ?? 3, $0.id) < (order[$1.field] ?? 3, $1.id) }
    }
}
