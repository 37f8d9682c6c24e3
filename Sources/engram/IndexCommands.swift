import EngramSupport
import ArgumentParser
import EngramIndex
import Foundation

struct BuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build", abstract: "Build an index from vectors and save it to one checksummed file.")

    @Option(help: "Vectors (.fvecs or .npy).") var input: String
    @Option(help: "Index file to write (atomically).") var output: String
    @Option(help: "Index kind: hnsw or flat.") var index: IndexKind = .hnsw
    @Option(help: "Metric: cosine, ip or l2.") var metric: Metric = .cosine
    @Option(help: "HNSW links per node.") var m = 16
    @Option(name: .customLong("ef-construction"), help: "HNSW build breadth.") var efConstruction = 200
    @Option(help: "HNSW: what queries walk the graph on: auto, f32, f16 or int8 (8-bit codes, saved in the file).") var traversal: Traversal = .auto
    @Option(help: "Build threads.") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "External ids, one per row (.ivecs with one column); default: row numbers.") var ids: String?

    func validate() throws {
        guard threads > 0 else { throw ValidationError("--threads must be positive") }
    }

    func run() throws {
        let vectors = try VectorFile.readVectors(input)
        var external: [UInt64]?
        if let ids {
            let rows = try VectorFile.readIvecs(ids)
            guard rows.count == vectors.count, rows.allSatisfy({ $0.count == 1 && $0[0] >= 0 }) else {
                throw ValidationError("--ids must hold one non-negative id per row of --input (\(vectors.count) rows)")
            }
            external = rows.map { UInt64($0[0]) }
        }
        let built = try Progress.timed("built \(index.rawValue) index over \(vectors.count) vectors") {
            try IndexBuilder.build(index, vectors, ids: external, metric: metric, m: m, efConstruction: efConstruction, threads: threads,
                                   traversal: traversal)
        }
        let saved = try Progress.timed("saved \(output)") { try built.value.save(to: output) }
        Progress.log("\(output): \(vectors.count) vectors, build \(String(format: "%.2f", built.seconds)) s, save \(String(format: "%.3f", saved.seconds)) s")
    }
}

struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "search", abstract: "Search a saved index.")

    @Option(name: .customLong("index-file"), help: "Index file.") var indexFile: String
    @Option(help: "Query vectors (.fvecs or .npy).") var queries: String
    @Option(help: "Results per query.") var k = 10
    @Option(help: "HNSW search breadth.") var ef = 64
    @Flag(help: "One JSON line per query: {\"query\": row, \"ids\": [...], \"scores\": [...]}.") var json = false
    @Flag(help: "Skip the checksum check before searching (it reads the whole file once).") var skipVerify = false

    func validate() throws {
        guard k > 0 else { throw ValidationError("--k must be positive") }
        guard ef > 0 else { throw ValidationError("--ef must be positive") }
    }

    func run() throws {
        let index = try IndexFile.open(indexFile)
        // Opening checks the header only: say so when the contents would not verify, since results may then be wrong.
        if !skipVerify {
            do { try IndexFile.verify(indexFile) } catch {
                FileHandle.standardError.write(Data("warning: \(error); results may be wrong (engram verify \(indexFile))\n".utf8))
            }
        }
        let q = try VectorFile.readVectors(queries)
        for row in 0..<q.count {
            let hits = try index.search(Array(q[row]), k: k, ef: ef, filter: nil)
            if json {
                print(JSONValue.object([
                    ("query", .int(row)), ("ids", .array(hits.map { .int(Int($0.id)) })),
                    ("scores", .array(hits.map { .number(Double($0.score)) })),
                ]).text)
            } else {
                print("query \(row): " + hits.map { "\($0.id) (\(String(format: "%.4f", $0.score)))" }.joined(separator: ", "))
            }
        }
    }
}

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect", abstract: "Print an index file's header, parameters, counts and section sizes.")

    @Argument(help: "Index file.") var file: String
    @Flag(help: "One JSON object.") var json = false

    func run() throws {
        let h = try IndexFile.inspect(file)
        let bytes = h.sections.reduce(IndexFileHeader.size) { $0 + $1.length }
        var fields: [(String, JSONValue)] = [
            ("file", .string(file)), ("format_version", .int(Int(IndexFileHeader.formatVersion))),
            ("kind", .string(h.kind == .flat ? "flat" : "hnsw")), ("metric", .string(h.metric.rawValue)),
            ("dimension", .int(h.dimension)), ("slots", .int(h.slotCount)), ("live", .int(h.liveCount)),
            ("tombstones", .int(h.slotCount - h.liveCount)),
        ]
        if h.kind == .hnsw {
            fields += [("m", .int(h.m)), ("ef_construction", .int(h.efConstruction)), ("max_level", .int(h.maxLevel)),
                       ("entry_point", .int(Int(h.entrySlot))), ("seed", .string(String(h.seed)))]
        }
        fields += [
            ("sections", .array(h.sections.map { .object([("name", .string($0.id.name)), ("offset", .int($0.offset)),
                                                          ("bytes", .int($0.length)), ("xxh64", .string(String($0.checksum, radix: 16)))]) })),
            ("memory_estimate_bytes", .int(bytes)),
        ]
        if json {
            print(JSONValue.object(fields).text)
        } else {
            for (key, value) in fields { print("\(key): \(value.plain)") }
        }
    }
}

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every checksum and structural invariant of an index file; exit 0 only if all pass.")

    @Argument(help: "Index file.") var file: String

    func run() throws {
        let start = ContinuousClock.now
        let h = try IndexFile.verify(file)
        let seconds = (ContinuousClock.now - start).seconds
        let bytes = h.sections.reduce(IndexFileHeader.size) { $0 + $1.length }
        print("\(file): ok (\(h.sections.count) sections, \(bytes) bytes, \(String(format: "%.2f", Double(bytes) / seconds / 1e9)) GB/s)")
    }
}
