import EngramIndex
import Foundation

/// What ``MemoryStore/verifyIndexFiles()`` found.
public struct IndexFileCheck: Sendable, Equatable, Codable {
    /// The index files checked: names in the store's `index/` directory.
    public var checked: [String]
    /// Those that failed a check: what they held was rebuilt from the record.
    public var repaired: [String]
}

extension MemoryStore {
    /// Checks every index file the checkpoint on disk lists (each section's checksum, the
    /// padding, every graph link) and rebuilds from the record whatever a damaged one held: all the flat
    /// vectors (read again from the record, and every graph built again from them, since graphs
    /// take rows from them), or one partition's graph (built again from the flat vectors).
    ///
    /// Opening a store checks only the headers of these files, so that it stays fast at any
    /// size; the store runs this check once in the background after it opens, and its first
    /// checkpoint waits for it, so that no checkpoint copies what a damaged file held into new
    /// files that would verify.
    ///
    /// Searches and writes go on meanwhile; checkpoints wait. Replacing the flat vectors holds
    /// writes while every embedding is read from the record. A damaged file stays on disk until
    /// the next checkpoint replaces it (and is found again by a check before then).
    /// - Returns: the files checked and the files repaired.
    /// - Complexity: reads every index file once, O(memories · dimension); a repair adds a rebuild.
    @discardableResult
    public func verifyIndexFiles() throws -> IndexFileCheck {
        try ensureOpen()
        return try indexVerified.withLock { verified in
            let check = try checkIndexFiles()
            verified = true
            return check
        }
    }

    /// `verifyIndexFiles()` on a thread of the store's own.
    @discardableResult
    public func verifyIndexFiles() async throws -> IndexFileCheck {
        try await onCheckpointQueue { try self.verifyIndexFiles() }
    }

    /// Runs ``verifyIndexFiles()`` unless it has run since the open.
    /// - Parameter isCancelled: asked before each file; when it says yes, the check stops (with
    ///   `CancellationError`) and counts as not run, so that closing a store soon after its open
    ///   waits for one file at most.
    func verifyIndexFilesOnce(isCancelled: () -> Bool = { false }) throws {
        try indexVerified.withLock { verified in
            guard !verified else { return }
            _ = try checkIndexFiles(isCancelled: isCancelled)
            verified = true
        }
    }

    private func checkIndexFiles(isCancelled: () -> Bool = { false }) throws -> IndexFileCheck {
        try checkpointer.withListedFiles { vectorFiles, graphFiles in
            var cancelled = false
            func intact(_ file: String) -> Bool {
                if isCancelled() { cancelled = true }
                return cancelled || (try? IndexFile.verify(checkpointer.directory + "/" + file)) != nil
            }
            let graphs = graphFiles.sorted { $0.value < $1.value }
            var check = IndexFileCheck(checked: vectorFiles + graphs.map(\.value), repaired: vectorFiles.filter { !intact($0) })
            let rebuilt: [ScopeKey]
            if check.repaired.isEmpty {
                rebuilt = graphs.filter { !intact($0.value) }.map(\.key)
                if cancelled { throw CancellationError() }
                check.repaired += graphFiles.filter { rebuilt.contains($0.key) }.map(\.value).sorted()
            } else {
                if cancelled { throw CancellationError() }
                try reloadVectors()
                rebuilt = writer.state.partitions.values.filter { $0.graph != nil }.map(\.key)
                check.repaired += graphs.map(\.value)
            }
            for key in rebuilt where !Self.rebuildGraph(key, in: writer) {
                throw MemoryError.invalidParameter("the graph of a partition could not be rebuilt")
            }
            return check
        }
    }

    /// Replaces every flat vector with the record's, with writers excluded.
    private func reloadVectors() throws {
        try writer.exclusive { state, ledger in
            let rows = state.partitions.values.flatMap(\.rows).sorted()
            let fresh = try FlatIndex(dimension: embedder.dimension, metric: .cosine)
            for start in stride(from: 0, to: rows.count, by: 10_000) {
                let chunk = Array(rows[start..<min(rows.count, start + 10_000)])
                try fresh.add(VectorMatrix(dimension: embedder.dimension, values: records.embeddings(of: chunk).flatMap { $0 }),
                              ids: chunk.map(UInt64.init))
            }
            try writer.vectors.replace(with: fresh)
            ledger.changesSinceCheckpoint += 1
        }
    }
}
