import EngramIndex
import Foundation

extension StoreState {
    /// What taking in a change did, beyond the state.
    struct Applied {
        /// The partitions whose graphs now hold more tombstones than live nodes (due for a rebuild).
        var due: Set<ScopeKey> = []
        /// Whether a memory was deleted (a removed row whose memory the change does not add again,
        /// as an update does): what a checkpoint must then erase from its files.
        var deleted = false
    }

    /// Takes in a committed change: vectors first, so that every row a published state lists is
    /// searchable, then the partitions, spans and counts.
    mutating func apply(_ change: RecordChange, vectors: MemoryVectors) throws -> Applied {
        if !change.added.isEmpty { try add(change.added, vectors: vectors) }
        guard !change.removed.isEmpty else { return Applied() }
        return try remove(change.removed, readding: Set(change.added.map(\.memory.id)), vectors: vectors)
    }

    private mutating func add(_ records: [StoredRecord], vectors: MemoryVectors) throws {
        try vectors.add(records.map(\.row), vectors: VectorMatrix(dimension: vectors.dimension, values: records.flatMap(\.embedding)))
        let byPartition = Dictionary(grouping: records) { ScopeKey(partitionOf: $0.memory.scope) }
        for (key, members) in byPartition {
            var partition = partitions[key] ?? Partition(key: key)
            partition.append(members.map { ($0.row, $0.memory) })
            var spanned: [ScopeKey: Int] = [:]
            for record in members { for value in ScopeKey.keys(of: record.memory.scope) { spanned[value, default: 0] += 1 } }
            for (value, n) in spanned { span(value, in: key, by: n) }
            try index(members.map(\.row), of: &partition, vectors: vectors)
            partitions[key] = partition
        }
        count += records.count
        position = max(position, records.map(\.row).max() ?? position)
    }

    /// Adds new rows of `partition` to its graph, or gives it one when it outgrows exact scans.
    private func index(_ rows: [Int64], of partition: inout Partition, vectors: MemoryVectors) throws {
        if let graph = partition.graph {
            try PartitionGraph.add(rows, to: graph, from: vectors)
        } else if partition.count > Self.graphThreshold {
            partition.graph = try PartitionGraph.build(Array(partition.rows), from: vectors)
        }
    }

    private mutating func remove(_ removed: [(row: Int64, scope: MemoryScope)], readding: Set<UUID>, vectors: MemoryVectors) throws -> Applied {
        var applied = Applied()
        let byPartition = Dictionary(grouping: removed) { ScopeKey(partitionOf: $0.scope) }
        for (key, members) in byPartition {
            guard var partition = partitions[key] else { continue }
            let gone = partition.remove(members.map(\.row).sorted())
            if gone.values.contains(where: { !readding.contains($0.id) }) { applied.deleted = true }
            for memory in gone.values {
                for value in ScopeKey.keys(of: memory.scope) { span(value, in: key, by: -1) }
            }
            count -= gone.count
            for row in gone.keys {
                try vectors.remove(row)
                if let graph = partition.graph, graph.contains(id: UInt64(row)) { try graph.remove(id: UInt64(row)) }
            }
            if let graph = partition.graph, graph.tombstoneCount > graph.count { applied.due.insert(key) }
            partitions[key] = partition.count == 0 ? nil : partition
        }
        return applied
    }
}
