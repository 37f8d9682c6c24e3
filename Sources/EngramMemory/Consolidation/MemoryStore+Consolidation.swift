import EngramIndex
import Foundation

extension MemoryStore {
    /// For each item, the current memory of exactly its scope (or an earlier item of the batch)
    /// that it nearly duplicates (``NearDuplicate``), if any. Items that supersede a memory are
    /// never duplicates: they say explicitly what they replace.
    ///
    /// Read from the published state, outside the writer: two near-duplicates added at the same
    /// instant by two callers may both be stored (exact duplicates never are: the record refuses them).
    func nearDuplicates(of items: [NewMemory], vectors: [[Float]], threshold: Float) throws -> [NearMatch?] {
        let state = writer.state, now = Date()
        var matches: [NearMatch?] = []
        for (i, (item, vector)) in zip(items, vectors).enumerated() {
            guard item.supersedes == nil else { matches.append(nil); continue }
            let earlier = (0..<i).first { j in
                matches[j] == nil && items[j].scope == item.scope && items[j].supersedes == nil
                    && NearDuplicate.isSameFact(item.text, items[j].text, similarity: Self.cosine(vector, vectors[j]), threshold: threshold)
            }
            if let earlier { matches.append(.item(earlier)); continue }
            let search = MemorySearch(state: state, vectors: writer.vectors, reach: .scope(item.scope), filter: .all, now: now)
            let hits = try search.run("", vector: vector, limit: 8, threshold: nil, mode: .vector).hits
            let stored = hits.first { hit in
                hit.memory.scope == item.scope
                    && NearDuplicate.isSameFact(item.text, hit.memory.text, similarity: hit.details.semantic ?? -1, threshold: threshold)
            }
            matches.append(stored.map { .stored($0.memory) })
        }
        return matches
    }

    /// What an item nearly duplicates.
    enum NearMatch {
        /// A memory the store holds.
        case stored(Memory)
        /// An earlier item of the same batch (its index).
        case item(Int)
    }

    /// The cosine of two embeddings of the store's dimension (0 for a zero vector).
    static func cosine(_ a: [Float], _ b: [Float]) -> Float {
        let k = DistanceKernels.active
        guard let dot = try? k.dotProduct(a, b), let na = try? k.dotProduct(a, a), let nb = try? k.dotProduct(b, b), na > 0, nb > 0 else { return 0 }
        return dot / (na * nb).squareRoot()
    }
}
