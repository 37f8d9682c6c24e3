import EngramIndex
import Foundation

extension MemoryVectors {
    /// Writes what the checkpoint in `directory` needs beyond the files it can list again: the tail
    /// (a file of its own) when the base's file is still usable and the tail and the removals are
    /// at most a quarter of the base; otherwise the tail is folded into the base, which is written
    /// whole. Call with writers excluded.
    /// - Returns: the files (and removed rows) that hold the vectors now, for the manifest.
    /// - Complexity: O(changes · dimension) while the changes are small, O(count · dimension) at a fold.
    func save(to directory: String, generation: UInt64) throws -> Files {
        func reusable(_ file: String?) -> String? { file.flatMap { FileManager.default.fileExists(atPath: directory + "/" + $0) ? $0 : nil } }
        let current = files.withLock { $0 }
        let (base, tail) = parts.read { ($0.base, $0.tail) }
        var saved = current
        if reusable(current.base) != nil, (tail.count + current.removed.count) * 4 <= base.count {
            if tail.count == 0 {
                saved.tail = nil
            } else if reusable(current.tail) == nil {
                saved.tail = "flat-tail-\(generation).engram"
                try tail.save(to: directory + "/" + saved.tail!)
            }
        } else {
            try fold()
            saved = Files(base: "flat-\(generation).engram")
            try parts.read(\.base).save(to: directory + "/" + saved.base!)
        }
        files.withLock { $0 = saved }
        return saved
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

    /// The vectors of a checkpoint: its base file mapped in place, less the `removed` rows, and
    /// its tail file (if any).
    /// - Throws: when a file is missing, damaged or of another shape, or a removed row is not in the base.
    static func open(_ files: Files, in directory: String, dimension: Int) throws -> MemoryVectors {
        guard let baseFile = files.base else { throw EngramError.corruptIndex(path: directory, reason: "the checkpoint names no flat index") }
        let base = try FlatIndex.open(directory + "/" + baseFile)
        let tail = try files.tail.map { try FlatIndex.open(directory + "/" + $0) }
        for index in [base] + (tail.map { [$0] } ?? []) where index.dimension != dimension || index.metric != .cosine {
            throw EngramError.corruptIndex(path: directory, reason: "a flat index of the checkpoint has another dimension or metric")
        }
        for row in files.removed { try base.remove(id: UInt64(row)) }
        let vectors = try MemoryVectors(dimension: dimension, base: base, tail: tail)
        vectors.files.withLock { $0 = files }
        return vectors
    }
}
