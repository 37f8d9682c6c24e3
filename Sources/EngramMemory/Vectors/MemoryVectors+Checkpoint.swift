import EngramIndex
import EngramSupport
import Foundation

extension MemoryVectors {
    /// A tail and removals up to this fraction of the base are checkpointed beside it; more fold
    /// into a new base.
    static let deltaFraction = 4

    /// Writes what the checkpoint in `directory` needs beyond the files it can list again: the tail
    /// (a file of its own) when the base's file is still usable and the tail and the removals are
    /// at most a quarter of the base; otherwise the tail is folded into the base, which is written
    /// whole. Call with writers excluded.
    /// - Returns: the segment that holds the vectors now, for the manifest.
    /// - Complexity: O(changes · dimension) while the changes are small, O(count · dimension) at a fold.
    func save(to directory: String, generation: UInt64, position: Int64) throws -> Segment {
        func exists(_ file: String?) -> Bool { file.map { FileManager.default.fileExists(atPath: directory + "/" + $0) } ?? false }
        var current = saved.withLock { $0 }
        let (base, tail) = parts.read { ($0.base, $0.tail) }
        if exists(current.base),
           !Segment.needsNewBase(baseCount: base.count + current.removed.count, removed: current.removed.count, added: tail.count,
                                 fraction: Self.deltaFraction) {
            if tail.count == 0 {
                current.tail = nil
            } else if !exists(current.tail) {
                let file = "flat-tail-\(generation).engram"
                try tail.save(to: directory + "/" + file)
                current.tail = file
            }
        } else {
            try fold()
            let file = "flat-\(generation).engram"
            try parts.read(\.base).save(to: directory + "/" + file)
            current = Saved(base: file, basePosition: position)
        }
        saved.withLock { $0 = current }
        return Segment(base: current.base ?? "", basePosition: current.basePosition, removed: current.removed, delta: current.tail)
    }

    /// Zeroes, in the base file the checkpoints in `directory` list, the vectors of the rows
    /// removed from it since it was written (the file stays in use, with its list of removed rows),
    /// so that no deleted memory's embedding remains in it. Rows already zero are skipped.
    func eraseRemoved(in directory: String) throws {
        let current = saved.withLock { $0 }
        guard let base = current.base, !current.removed.isEmpty else { return }
        _ = try MemoryError.reportingIO { try FlatIndex.eraseVectors(ids: current.removed.map(UInt64.init), inFileAt: directory + "/" + base) }
    }

    /// Makes `base` hold every vector (the tail none) and forgets the files: the next checkpoint
    /// writes a new base. Call with writers excluded.
    func replace(with base: FlatIndex) throws {
        let empty = try FlatIndex(dimension: dimension, metric: .cosine)
        parts.write { $0 = Parts(base: base, tail: empty) }
        saved.withLock { $0 = Saved() }
    }

    /// Makes the base hold every row and the tail none, copying the smaller of the two into the
    /// larger (searches meanwhile may see a row in both: they drop the duplicate).
    private func fold() throws {
        let (base, tail) = parts.read { ($0.base, $0.tail) }
        let (from, into) = tail.count > base.count ? (base, tail) : (tail, base)
        let rows = from.liveIDs
        if !rows.isEmpty {
            var values: [Float] = []
            values.reserveCapacity(rows.count * dimension)
            for row in rows { values += try from.vector(id: row) }
            try into.add(VectorMatrix(dimension: dimension, values: values), ids: rows)
        }
        let empty = try FlatIndex(dimension: dimension, metric: .cosine)
        parts.write { $0 = Parts(base: into, tail: empty) }
    }

    /// The vectors of a checkpoint's segment: its base file mapped in place, less the removed
    /// rows, and its tail file (if any).
    /// - Throws: when a file is missing, damaged or of another shape, or a removed row is not in the base.
    static func open(_ segment: Segment, in directory: String, dimension: Int) throws -> MemoryVectors {
        let base = try FlatIndex.open(directory + "/" + segment.base)
        let tail = try segment.delta.map { try FlatIndex.open(directory + "/" + $0) }
        for index in [base] + (tail.map { [$0] } ?? []) where index.dimension != dimension || index.metric != .cosine {
            throw EngramError.corruptIndex(path: directory, reason: "a flat index of the checkpoint has another dimension or metric")
        }
        for row in segment.removed { try base.remove(id: UInt64(row)) }
        let vectors = try MemoryVectors(dimension: dimension, base: base, tail: tail)
        vectors.saved.withLock { $0 = Saved(base: segment.base, basePosition: segment.basePosition, removed: segment.removed, tail: segment.delta) }
        return vectors
    }
}
