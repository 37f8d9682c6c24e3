extension HNSWIndex {
    /// Saves the index to `path` atomically (temp file, fsync, rename, directory fsync): a crash at
    /// any point leaves the previous file or the new one, both valid. Searches continue during the
    /// save; adds and removes wait for it.
    /// - Throws: ``EngramError/io(path:operation:errno:)``.
    public func save(to path: String) throws {
        try mutation.withWriteLock {
            try graph.withSections { header, sections in try IndexFile.write(path, header: header, sections: sections) }
        }
    }

    /// Opens a saved HNSW index in place: the file is mapped read-only and only its header is
    /// checked, so opening takes the same time for any size, and searches read the mapped pages
    /// directly. The first add, remove or compaction loads the index into memory (a copy of every
    /// section) and continues there; the file is never written.
    ///
    /// Sections are not checksummed at open (that would read the whole file): use
    /// ``IndexFile/verify(_:)`` for that. A corrupted section never makes a search read outside the
    /// file: link counts, link targets and upper-level offsets are bounded as they are read.
    /// - Throws: ``EngramError/corruptIndex(path:reason:)`` for a bad header or a file of another kind.
    public static func open(_ path: String) throws -> HNSWIndex {
        let (header, file) = try IndexFile.open(path)
        guard header.kind == .hnsw else { throw EngramError.corruptIndex(path: path, reason: "the file holds a \(header.kind) index, not hnsw") }
        let graph = try HNSWGraph(header: header, file: file, generation: 0)
        return try HNSWIndex(graph: graph, parameters: HNSWParameters(
            m: header.m, efConstruction: header.efConstruction, seed: header.seed, halfPrecisionTraversal: header.hasHalfVectors,
            int8Traversal: header.hasCodes))
    }

    /// Readies an index opened from a file for steady latencies from its first query: maps now
    /// every page a search reads (the link lists, ids and tombstones, the vectors the graph is
    /// walked on, then the full-precision rows the best candidates are re-scored on), so that no
    /// query takes a page fault or, for a file not in the page cache, a disk read; then runs one
    /// search from the entry point, so that the search path's first-call costs (its working
    /// memory, lazily bound code) are paid here too. For a server at startup, or a benchmark.
    /// Opening stays a header check; this is the part of loading worth doing ahead, when asked.
    ///
    /// On an index in memory only the search runs.
    /// - Complexity: O(n): the whole file but its header and section table is mapped, about
    ///   `4 · dimension + 8 · m + 17` bytes per vector, plus `dimension + 4` with the 8-bit codes
    ///   or `2 · dimension` with the f16 copy.
    public func warmUp() {
        let graph = graph
        graph.populateSearchedSections()
        guard let entry = graph.entryPoint else { return }
        let vector = Array(UnsafeBufferPointer(start: graph.vector(entry.slot), count: dimension))
        _ = try? search(vector, k: 1)
    }
}
