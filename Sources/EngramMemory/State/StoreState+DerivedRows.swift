extension StoreState: DerivedRows {
    func contains(_ row: Int64, scope: MemoryScope) -> Bool {
        partitions[ScopeKey(partitionOf: scope)]?.memory(row: row) != nil
    }

    /// Decodes the memories it lists (for their scopes): only a catch-up whose counts disagree asks.
    func rows(through position: Int64) -> [(row: Int64, scope: MemoryScope)] {
        partitions.values.flatMap { partition in
            let end = partition.rows.withUnsafeBufferPointer { SortedRows.lowerBound($0, position + 1) }
            return (0..<end).map { (partition.rows[$0], partition.memories[$0].memory.scope) }
        }
    }
}
