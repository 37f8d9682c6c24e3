import EngramSupport
import Foundation

/// The commit record of a checkpoint in a store's `index/` directory: which files make it up and
/// the store position they all reflect.
///
/// A checkpoint writes every file under new names (suffixed with its generation), then this
/// manifest atomically, then removes the files no manifest lists. Whatever the moment of a crash,
/// the manifest on disk names a complete set of files of one position.
struct CheckpointManifest: Codable, Equatable, Sendable {
    static let fileName = "manifest.json"
    /// Version 5: partitions in the view files, segments for the view and the vectors. Earlier
    /// versions are not read: their store is rebuilt from its record at the first open.
    static let currentVersion = 5

    var version = currentVersion
    var generation: UInt64
    var dimension: Int
    /// Where the checkpoint stands in the record's change order: an open reads the changes after
    /// it (``RecordStore/changes(after:derived:)``). Its position is the largest row the
    /// checkpoint had seen assigned; rows are never reused or rewritten (a changed memory moves to
    /// a new row).
    var cursor: ChangeCursor
    var position: Int64 { cursor.position }
    var count: Int
    /// The memories (``ViewFile``): a whole view at the segment's base position, less the rows
    /// removed since, plus the delta of the memories added after it.
    var view: Segment
    /// The flat vectors (``MemoryVectors``): the base, less the rows removed since, plus the tail.
    var vectors: Segment
    var graphs: [Graph]

    struct Graph: Codable, Equatable, Sendable {
        var partition: ScopeKey
        var file: String
    }

    var files: Set<String> { Set([Self.fileName] + view.files + vectors.files + graphs.map(\.file)) }

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
        try MemoryError.reportingIO {
            try FileIO.writeAtomically(directory + "/" + Self.fileName) { write in try data.withUnsafeBytes { try write($0) } }
        }
        let listed = files
        for file in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where !listed.contains(file) {
            try? FileManager.default.removeItem(atPath: directory + "/" + file)
        }
    }
}
