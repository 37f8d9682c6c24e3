import EngramIndex
import Foundation
import HashTreeCollections

/// An inverted index of one partition's memory texts, ranked with Okapi BM25.
///
/// Statistics (document count, lengths, document frequencies) are the partition's own, so one
/// tenant's texts never change how another tenant's memories rank. Documents are numbered in the
/// order they are added, which is row order (rows only grow); postings hold those numbers, so
/// scoring accumulates into a flat array instead of a hash map (measured on debian-known-item,
/// 20k memories: p50 2.23 -> 0.24 ms), and the document of a row is a binary search.
///
/// A value snapshots share: adding documents appends to the shared lists in place (see
/// ``SharedArray``) and changes only their terms' entries of the persistent term map, once per
/// term for a batch. (A copy-on-write Swift dictionary instead, copied whole by the first change
/// of each batch, made 60k real-text batch adds 5–10% slower.)
struct KeywordIndex: Sendable {
    /// BM25 term-frequency saturation and length normalization (the usual values).
    static let k1: Float = 1.2, b: Float = 0.75

    struct Posting: Sendable {
        var doc: UInt32
        var tf: UInt32
    }

    /// term → postings, ascending documents; a removed document's postings are gone.
    private var postings = TreeDictionary<String, SharedArray<Posting>>()
    /// The row of each document, ascending; removed documents stay until ``renumber()``.
    private var rowOfDocument = SharedArray<Int64>()
    private var lengths = SharedArray<Int32>()
    /// The documents removed since the last renumbering.
    private var removedDocuments = SharedArray<UInt32>()
    /// Live documents.
    private(set) var documentCount = 0
    private var totalLength = 0

    init() {}

    /// An index of `documents` (ascending rows), built in one pass.
    init(documents: some Sequence<(row: Int64, text: String)>) {
        var lists: [String: [Posting]] = [:]
        for (row, text) in documents {
            let terms = KeywordTokenizer.terms(text)
            let doc = UInt32(rowOfDocument.count)
            rowOfDocument.append(row)
            lengths.append(Int32(terms.count))
            totalLength += terms.count
            for (term, tf) in Self.counts(terms) { lists[term, default: []].append(Posting(doc: doc, tf: tf)) }
        }
        documentCount = rowOfDocument.count
        for (term, list) in lists { postings[term] = SharedArray(list) }
    }

    private static func counts(_ terms: [String]) -> [String: UInt32] {
        var counts: [String: UInt32] = [:]
        for term in terms { counts[term, default: 0] += 1 }
        return counts
    }

    /// Adds the text of `row`, which is above every row added before.
    mutating func add(_ row: Int64, text: String) {
        add([(row, text)])
    }

    /// Adds documents whose rows ascend and lie above every row added before, updating each
    /// term's entry of the persistent term map once for all of them (each update copies a path).
    mutating func add(_ documents: [(row: Int64, text: String)]) {
        var lists: [String: [Posting]] = [:]
        for (row, text) in documents {
            let terms = KeywordTokenizer.terms(text)
            let doc = UInt32(rowOfDocument.count)
            rowOfDocument.append(row)
            lengths.append(Int32(terms.count))
            documentCount += 1
            totalLength += terms.count
            for (term, tf) in Self.counts(terms) { lists[term, default: []].append(Posting(doc: doc, tf: tf)) }
        }
        for (term, list) in lists { postings[term, default: []].append(contentsOf: list) }
    }

    /// Removes rows (with the texts they were added with; each row once), each touched posting
    /// list copied once.
    mutating func remove(_ removed: [(row: Int64, text: String)]) {
        var gone = Set<UInt32>()
        var touched = Set<String>()
        for (row, text) in removed {
            guard let doc = document(of: row), !gone.contains(doc) else { continue }
            gone.insert(doc)
            totalLength -= Int(lengths[Int(doc)])
            touched.formUnion(KeywordTokenizer.terms(text))
        }
        documentCount -= gone.count
        removedDocuments.append(contentsOf: gone.sorted())
        for term in touched {
            guard let list = postings[term] else { continue }
            let pruned = list.removing { gone.contains($0.doc) }
            postings[term] = pruned.isEmpty ? nil : pruned
        }
        if rowOfDocument.count - documentCount > max(64, documentCount) { renumber() }
    }

    /// The document of `row`, if it was added (removed or not).
    private func document(of row: Int64) -> UInt32? {
        rowOfDocument.withUnsafeBufferPointer { list in
            let i = SortedRows.lowerBound(list, row)
            return i < list.count && list[i] == row ? UInt32(i) : nil
        }
    }

    /// Numbers the live documents afresh (same order), so that a search, which scores into an
    /// array over every document number, costs the live documents and not every one ever added
    /// (every update adds one). Run when the removed outnumber the live: amortized O(1) per removal.
    private mutating func renumber() {
        var live = [Bool](repeating: true, count: rowOfDocument.count)
        for doc in removedDocuments { live[Int(doc)] = false }
        var newNumber = [UInt32](repeating: .max, count: rowOfDocument.count)
        var rows: [Int64] = [], kept: [Int32] = []
        for doc in live.indices where live[doc] {
            newNumber[doc] = UInt32(rows.count)
            rows.append(rowOfDocument[doc])
            kept.append(lengths[doc])
        }
        postings = postings.mapValues { list in SharedArray(list.map { Posting(doc: newNumber[Int($0.doc)], tf: $0.tf) }) }
        rowOfDocument = SharedArray(rows)
        lengths = SharedArray(kept)
        removedDocuments = []
    }

    /// BM25 scores of the rows among `allowed` (nil: every row) that contain a term of `query`,
    /// best first (ties by row), at most `limit`.
    /// - Complexity: O(postings of the query's distinct terms + documents).
    func search(_ query: String, allowed: [Int64]?, limit: Int) -> [(row: Int64, score: Float)] {
        let n = Float(documentCount)
        guard n > 0, limit > 0 else { return [] }
        let averageLength = Float(totalLength) / n
        var admitted: Bitset?
        if let allowed {
            var bits = Bitset(capacity: rowOfDocument.count)
            for row in allowed { if let doc = document(of: row) { bits.insert(Int(doc)) } }
            admitted = bits
        }
        var scores = [Float](repeating: 0, count: rowOfDocument.count)
        // Each term once, in query order: a Set's iteration order differs from one instance to the
        // next, and with it the order the terms' shares are summed in (the last bit of a score).
        var seen = Set<String>()
        for term in KeywordTokenizer.terms(query) where seen.insert(term).inserted {
            guard let list = postings[term] else { continue }
            let df = Float(list.count)
            let idf = log(1 + (n - df + 0.5) / (df + 0.5))
            lengths.withUnsafeBufferPointer { lengths in
                for p in list where admitted?.contains(Int(p.doc)) ?? true {
                    let tf = Float(p.tf), length = Float(lengths[Int(p.doc)])
                    scores[Int(p.doc)] += idf * tf * (Self.k1 + 1) / (tf + Self.k1 * (1 - Self.b + Self.b * length / averageLength))
                }
            }
        }
        return Self.best(scores, limit: limit).map { (rowOfDocument[$0.doc], $0.score) }
    }

    /// The `limit` highest positive scores, best first, ties by document (= row order).
    private static func best(_ scores: [Float], limit: Int) -> [(doc: Int, score: Float)] {
        var top: [(doc: Int, score: Float)] = []
        for (doc, score) in scores.enumerated() where score > 0 {
            if top.count == limit, let last = top.last, score <= last.score { continue }
            let at = top.firstIndex { score > $0.score } ?? top.count
            top.insert((doc, score), at: at)
            if top.count > limit { top.removeLast() }
        }
        return top
    }
}
