import Foundation
import EngramTestSupport
import Testing
import EngramMemory

/// "Deleted means gone": after a delete of any kind and the next checkpoint, no byte of a deleted
/// memory's text, metadata or embedding is left in any file of the store's directory (record,
/// WAL, view snapshots, flat and graph index files), whether the store closed cleanly or was
/// killed after the delete and reopened.
@Suite("Erasure")
struct ErasureTests {
    enum Ending: String, CaseIterable, CustomStringConvertible {
        /// Checkpoint and close.
        case clean
        /// Killed after the deletes (its directory copied as it was), reopened, checkpointed.
        case killed

        var description: String { rawValue }
    }

    /// A memory with markers in its text, its metadata and its embedding (every component ±1/8,
    /// signs of its own: unit length, so stored exactly as given, as f32 and as f16; no window of
    /// another row, nor of two rows side by side, looks like it).
    struct Marked {
        let name: String
        let scope: MemoryScope
        /// Seconds from its add to its expiry.
        var expiresIn: TimeInterval?

        var text: String { "TEXT-\(name)-7f3a9c" }
        var meta: String { "META-\(name)-7f3a9c" }
        func vector(_ index: Int) -> [Float] {
            var signs = UInt64(index + 1) &* 0x9E37_79B9_7F4A_7C15
            signs ^= signs >> 29
            return (0..<64).map { signs >> UInt64($0) & 1 == 0 ? 0.125 : -0.125 }
        }
        func new() -> NewMemory { NewMemory(text: text, scope: scope, metadata: ["secret": .string(meta), "kind": .string(name)], expiresAt: expiresIn.map { Date().addingTimeInterval($0) }) }

        /// The byte patterns a file must not hold once this memory is erased.
        func patterns(_ index: Int) -> [(String, Data)] {
            let v = vector(index)
            let f32 = v.withUnsafeBytes { Data($0) }
            let f16 = Data(v.flatMap { $0 > 0 ? [UInt8(0x00), 0x30] : [UInt8(0x00), 0xB0] })  // ±1/8 is 0x3000 / 0xB000 in f16
            return [("text", Data(text.utf8)), ("metadata", Data(meta.utf8)), ("f32 embedding", f32), ("f16 embedding", f16)]
        }
    }

    static let alice = MemoryScope(userID: "alice"), bob = MemoryScope(userID: "bob"), carol = MemoryScope(userID: "carol")

    /// Background memories: alice's are enough for her partition to have a graph.
    static func filler(_ store: MemoryStore) async throws {
        let n = 2_100
        let vectors = (0..<n).map { i in (0..<64).map { j in Float(sin(Double(i * 64 + j))) } }
        _ = try await store.add((0..<n).map { NewMemory(text: "filler \($0)", scope: alice, metadata: ["kind": "filler"]) }, vectors: vectors)
    }

    /// Every file under `directory`, with its bytes.
    static func files(_ directory: String) throws -> [(String, Data)] {
        let names = FileManager.default.enumerator(atPath: directory)?.compactMap { $0 as? String } ?? []
        return try names.compactMap { name in
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory + "/" + name, isDirectory: &isDirectory), !isDirectory.boolValue else { return nil }
            return (name, try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name)))
        }
    }

    /// Opens a store, adds `marked` (and fillers) and checkpoints, so that every marker is in the
    /// index files, then runs `delete`, ends the store as `ending` says and returns the directory
    /// to scan.
    static func run(_ backend: StoreBackend, _ ending: Ending, _ marked: [Marked], delete: (MemoryStore, [Memory]) async throws -> Void)
        async throws -> String {
        let dir = scratchDirectory("erasure")
        let store = try openStore(dir, backend)
        try await filler(store)
        let added = try await store.add(marked.map { $0.new() }, vectors: marked.indices.map { marked[$0].vector($0) })
        try await store.checkpoint()
        try await delete(store, added)
        switch ending {
        case .clean:
            try await store.checkpoint()
            try await store.close()
            return dir
        case .killed:
            // What a kill leaves: the files as they are now (the page cache keeps every write).
            let copy = scratchDirectory("erasure-killed")
            try FileManager.default.copyItem(atPath: dir, toPath: copy)
            StoreBackend.share(copy, with: dir)
            let reopened = try openStore(copy, backend)
            try await reopened.checkpoint()
            try await reopened.close()
            try await store.close()
            return copy
        }
    }

    static func expectErased(_ marked: [Marked], at indexes: [Int], in directory: String) throws {
        let files = try files(directory)
        for i in indexes {
            for (what, pattern) in marked[i].patterns(i) {
                for (name, bytes) in files where bytes.range(of: pattern) != nil {
                    Issue.record("\(marked[i].name)'s \(what) is still in \(name)")
                }
            }
        }
    }

    @Test("single delete, batch delete, delete by filter, delete-all of a scope and purge erase every byte of the memories at the next checkpoint",
          arguments: StoreBackend.available, Ending.allCases)
    func deletes(backend: StoreBackend, ending: Ending) async throws {
        let marked = [
            Marked(name: "single", scope: Self.alice), Marked(name: "batch1", scope: Self.alice), Marked(name: "batch2", scope: Self.alice),
            Marked(name: "filtered", scope: Self.alice), Marked(name: "scope", scope: Self.bob),
            Marked(name: "expiring", scope: Self.carol, expiresIn: 1),
            Marked(name: "kept", scope: Self.alice), Marked(name: "kept-bob", scope: Self.carol),
        ]
        let dir = try await Self.run(backend, ending, marked) { store, added in
            try await store.delete(added[0].id)
            try await store.delete([added[1].id, added[2].id], scope: Self.alice)
            #expect(try await store.deleteAll(scope: Self.alice, filter: .eq("kind", "filtered")) == 1)
            #expect(try await store.deleteAll(scope: Self.bob) == 1)
            while Date() <= added[5].expiresAt! { try await Task.sleep(for: .milliseconds(100)) }
            #expect(try await store.purgeExpired() == 1)
        }
        try Self.expectErased(marked, at: Array(0..<6), in: dir)
        // The scan sees what is kept: every marker of the kept memories, somewhere (no f16 copy:
        // graphs keep one above 128 dimensions).
        let files = try Self.files(dir)
        #expect(files.contains { $0.0.hasPrefix("index/flat") } && files.contains { $0.0.hasPrefix("index/graph") })
        for i in 6..<8 {
            for (what, pattern) in marked[i].patterns(i) where what != "f16 embedding" {
                #expect(files.contains { $0.1.range(of: pattern) != nil }, "\(marked[i].name)'s \(what) should be found")
            }
        }
    }

    @Test("reset erases every memory at the next checkpoint", arguments: StoreBackend.available, Ending.allCases)
    func reset(backend: StoreBackend, ending: Ending) async throws {
        let marked = [Marked(name: "alice", scope: Self.alice), Marked(name: "bob", scope: Self.bob)]
        let dir = try await Self.run(backend, ending, marked) { store, _ in try await store.reset() }
        try Self.expectErased(marked, at: [0, 1], in: dir)
    }
}
