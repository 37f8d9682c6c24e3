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
    static let currentVersion = 2

    var version = currentVersion
    var generation: UInt64
    var dimension: Int
    /// The largest row number the database had assigned when the checkpoint was taken. Rows are
    /// never reused or rewritten (a changed memory moves to a new row), so the rows up to here
    /// that are still in the database are exactly the memories the checkpoint holds, unchanged.
    var position: Int64
    var count: Int
    var view: String
    var flat: String
    var graphs: [Graph]

    struct Graph: Codable, Equatable {
        var partition: MemoryPartition
        var file: String
    }

    /// The manifest in `directory`, if there is a readable one of this version.
    static func read(_ directory: String) -> CheckpointManifest? {
        guard let data = FileManager.default.contents(atPath: directory + "/" + fileName),
              let manifest = try? JSONDecoder().decode(CheckpointManifest.self, from: data),
              manifest.version == currentVersion
        else { return nil }
        return manifest
    }

    /// Writes the manifest atomically, then removes every other file of `directory` it does not list.
    func commit(to directory: String) throws {
        let data = try JSONEncoder().encode(self)
        try FileIO.writeAtomically(directory + "/" + Self.fileName) { write in try data.withUnsafeBytes { try write($0) } }
        let listed = Set([Self.fileName, view, flat] + graphs.map(\.file))
        for file in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where !listed.contains(file) {
            try? FileManager.default.removeItem(atPath: directory + "/" + file)
        }
    }
}
