import EngramSupport
import EngramIndex
import Foundation

/// The commit record of a checkpoint in a store's `index/` directory: which files make it up and
/// the store position they all reflect.
///
/// A checkpoint writes every file under new names (suffixed with its generation), then this
/// manifest atomically, then removes the files no manifest lists. Whatever the moment of a crash,
/// the manifest on disk names a complete set of files of one position.
struct CheckpointManifest: Codable, Equatable {
    static let fileName = "manifest.json"
    static let currentVersion = 4
    /// Version 2 lacked `flatRemoved` and `flatTail`, versions 2 and 3 the `view…` fields after
    /// `view`; all read as none.
    static let readableVersions = 2...4

    var version = currentVersion
    var generation: UInt64
    var dimension: Int
    /// The largest row number the database had assigned when the checkpoint was taken. Rows are
    /// never reused or rewritten (a changed memory moves to a new row), so the rows up to here
    /// that are still in the database are exactly the memories the checkpoint holds, unchanged.
    var position: Int64
    var count: Int
    /// The view: a full snapshot (the baseline, see ``ViewBaseline``) of the store at
    /// `viewPosition` (nil: at `position`), less the rows removed from it since, plus the delta
    /// snapshot of the memories added after it (if any).
    var view: String
    var viewPosition: Int64?
    var viewRemoved: [Int64]?
    var viewDelta: String?
    /// The flat vectors' base file, then the rows removed from it since and the tail file (see
    /// ``MemoryVectors``).
    var flat: String
    var flatRemoved: [Int64]?
    var flatTail: String?
    var graphs: [Graph]

    struct Graph: Codable, Equatable {
        var partition: MemoryPartition
        var file: String
    }

    /// The manifest in `directory`, if there is a readable one of this version.
    static func read(_ directory: String) -> CheckpointManifest? {
        guard let data = FileManager.default.contents(atPath: directory + "/" + fileName),
              let manifest = try? JSONDecoder().decode(CheckpointManifest.self, from: data),
              readableVersions.contains(manifest.version)
        else { return nil }
        return manifest
    }

    /// Writes the manifest atomically, then removes every other file of `directory` it does not list.
    func commit(to directory: String) throws {
        let data = try JSONEncoder().encode(self)
        try FileIO.writeAtomically(directory + "/" + Self.fileName) { write in try data.withUnsafeBytes { try write($0) } }
        let listed = Set([Self.fileName, view, flat] + [viewDelta, flatTail].compactMap { $0 } + graphs.map(\.file))
        for file in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where !listed.contains(file) {
            try? FileManager.default.removeItem(atPath: directory + "/" + file)
        }
    }

    init(generation: UInt64, dimension: Int, position: Int64, count: Int, view: String, flat: MemoryVectors.Files, graphs: [Graph]) {
        self.generation = generation
        self.dimension = dimension
        self.position = position
        self.count = count
        self.view = view
        self.flat = flat.base ?? ""
        self.flatRemoved = flat.removed.isEmpty ? nil : flat.removed
        self.flatTail = flat.tail
        self.graphs = graphs
    }

    var flatFiles: MemoryVectors.Files { MemoryVectors.Files(base: flat, removed: flatRemoved ?? [], tail: flatTail) }
}
