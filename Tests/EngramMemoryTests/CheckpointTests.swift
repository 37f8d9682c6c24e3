import EngramSupport
import EngramIndex
import Foundation
import EngramTestSupport
import Testing
import EngramMemory

@Suite("Store checkpoints")
struct CheckpointTests {
    static let scopes = [MemoryScope(userID: "u"), MemoryScope(agentID: "a"), MemoryScope(runID: "r"),
                         MemoryScope(userID: "u", agentID: "a", runID: "r"), MemoryScope(agentID: "a", runID: "r2")]
    static let filters: [MemoryFilter] = [.all, .eq("flag", true), .gte("n", 100), .eq("tags", "x1"), .eq("none", .null),
                                          .contains("s", "quoted"), !.eq("flag", false), .or([.eq("tags", "ü"), .lt("n", 3)]),
                                          .eq("prefs.food", "thai"), .gte("prefs.level", 2) && .eq("prefs.list", "x")]

    /// Memories of every shape: each scope combination, every metadata type, expiry or none, non-ASCII text.
    /// Gives memory `id` a new text and vector (it moves to a new row).
    func edit(_ store: MemoryStore, _ id: UUID, _ i: Int) throws {
        _ = try store.update(id, text: "edited \(i)", vector: randomUnitVectors(1, seed: 1_000 + UInt64(i))[0])
    }

    func addVaried(_ store: MemoryStore, count: Int, seed: UInt64) throws -> [Memory] {
        let items = (0..<count).map { i in
            let metadata: [String: MetadataValue] = [
                "n": .number(Double(i) / 3), "flag": .bool(i % 2 == 0), "none": .null, "tags": .strings(["x\(i % 3)", "ü"]),
                "s": .string("\"quoted\" \u{1F600}\n\(seed)-\(i)"),
                "prefs": .object(["food": .string(["thai", "tea"][i % 2]), "level": .number(Double(i % 4)), "list": .array([1, "x", .object(["y": nil])])]),
            ]
            return NewMemory(text: "memory \(seed)-\(i) — naïve café", scope: Self.scopes[i % Self.scopes.count],
                             metadata: i % 7 == 0 ? [:] : metadata,
                             expiresAt: i % 5 == 0 ? Date(timeIntervalSince1970: 2_000_000_000 + Double(i) * 0.25) : nil)
        }
        return try store.add(items, vectors: randomUnitVectors(count, seed: seed))
    }

    /// Everything a reader can see: every memory (from the record), and every scope's list under
    /// every filter (the memories as the derived state holds them, every field).
    func contents(_ store: MemoryStore, ids: [UUID]) throws -> (memories: [UUID: Memory], lists: [[Memory]]) {
        var memories: [UUID: Memory] = [:]
        for id in ids { memories[id] = try? store.get(id) }
        let lists = try Self.scopes.flatMap { scope in
            try Self.filters.map { filter in try store.list(scope: scope, filter: filter, limit: 10_000).memories }
        }
        return (memories, lists)
    }

    /// The manifest of the store in `dir`, its view and vector segments under the names the
    /// assertions use: `flat`, `flatTail`, `flatRemoved` (absent when empty), `view`, `viewDelta`, `viewRemoved`.
    static func manifest(_ dir: String) throws -> [String: Any] {
        let m = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/index/manifest.json"))) as? [String: Any])
        let vectors = try #require(m["vectors"] as? [String: Any]), view = try #require(m["view"] as? [String: Any])
        func nonEmpty(_ list: Any?) -> [Int]? { (list as? [Int]).flatMap { $0.isEmpty ? nil : $0 } }
        var flattened: [String: Any] = ["generation": m["generation"] as Any, "graphs": m["graphs"] as Any,
                                        "flat": vectors["base"] as Any, "view": view["base"] as Any]
        flattened["flatTail"] = vectors["delta"]
        flattened["flatRemoved"] = nonEmpty(vectors["removed"])
        flattened["viewDelta"] = view["delta"]
        flattened["viewRemoved"] = nonEmpty(view["removed"])
        return flattened
    }

    func copy(_ dir: String) throws -> String {
        let target = scratchDirectory("ckpt")
        try FileManager.default.copyItem(atPath: dir, toPath: target)
        StoreBackend.share(target, with: dir)
        return target
    }

    @Test("a store reopened from its checkpoint holds every memory exactly, with the same lists and searches", arguments: StoreBackend.available)
    func exactReopen(backend: StoreBackend) throws {
        let dir = scratchDirectory("ckpt")
        let store = try openStore(dir, backend, WordsEmbedder())
        let memories = try addVaried(store, count: 600, seed: 1)
        #expect(store.checkpointBytes == 0)
        try store.checkpoint()
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/index")
        let sizes = try files.map { try FileManager.default.attributesOfItem(atPath: dir + "/index/" + $0)[.size] as? Int ?? 0 }
        #expect(store.checkpointBytes == sizes.reduce(0, +) && store.checkpointBytes > 600 * 64, "\(files)")
        // Only a shared record can be behind; a store that just caught up is not far behind.
        #expect(backend == .sqlite ? store.catchUpLag == nil : store.catchUpLag! < .seconds(30))
        let reopened = try openStore(dir, backend, WordsEmbedder())
        let (before, after) = (try contents(store, ids: memories.map(\.id)), try contents(reopened, ids: memories.map(\.id)))
        #expect(before.memories.count == 600 && after.memories == before.memories)
        #expect(after.lists == before.lists && before.lists.contains { !$0.isEmpty })
        for query in randomUnitVectors(20, seed: 9) {
            for scope in Self.scopes {
                #expect(try reopened.search(vector: query, scope: scope, limit: 5).map(\.memory) == store.search(vector: query, scope: scope, limit: 5).map(\.memory))
            }
        }
        // A second checkpoint from the reopened store (memories still undecoded are copied as they are).
        try reopened.checkpoint()
        #expect(try contents(openStore(dir, backend, WordsEmbedder()), ids: memories.map(\.id)).memories == before.memories)
    }

    @Test("changes after a checkpoint are caught up at open, also when its view snapshot is damaged or a checkpoint was cut short", arguments: StoreBackend.available)
    func damagedSnapshots(backend: StoreBackend) async throws {
        let dir = scratchDirectory("ckpt")
        let store = try openStore(dir, backend, WordsEmbedder())
        var ids = try addVaried(store, count: 400, seed: 2).map(\.id)
        try await store.checkpoint()
        ids += try addVaried(store, count: 50, seed: 3).map(\.id)
        for id in ids.prefix(30) { try await store.delete(id) }
        try await store.update(ids[40], metadata: ["flag": true, "n": 1_000])
        try await store.update(ids[41], text: "a brand new text")
        _ = try await store.deleteAll(scope: MemoryScope(runID: "r2"))
        let expected = try contents(store, ids: ids)

        let damages: [(String, (String) throws -> Void)] = [
            ("none", { _ in }),
            ("flipped byte", { path in try Self.patch(path) { $0[$0.count / 2] ^= 0x10 } }),
            ("truncated", { path in try Self.patch(path) { $0.removeLast() } }),
            ("header only", { path in try Self.patch(path) { $0 = $0.prefix(32) } }),
            ("missing", { path in try FileManager.default.removeItem(atPath: path) }),
            ("unfinished next checkpoint", { path in
                let index = (path as NSString).deletingLastPathComponent
                try Data(repeating: 7, count: 100).write(to: URL(fileURLWithPath: index + "/view-99.snapshot"))
                try FileManager.default.copyItem(atPath: path, toPath: index + "/flat-99.engram")
            }),
        ]
        for (name, damage) in damages {
            let target = try copy(dir)
            let view = try #require(try FileManager.default.contentsOfDirectory(atPath: target + "/index").first { $0.hasSuffix(".snapshot") })
            try damage(target + "/index/" + view)
            let reopened = try openStore(target, backend, WordsEmbedder())
            let got = try contents(reopened, ids: ids)
            #expect(got.memories == expected.memories, "\(name)")
            #expect(got.lists == expected.lists, "\(name)")
            try await reopened.checkpoint()
            let files = try FileManager.default.contentsOfDirectory(atPath: target + "/index")
            #expect(!files.contains { $0.contains("-99.") || $0.contains(".tmp") }, "\(name): \(files)")
            #expect(try contents(openStore(target, backend, WordsEmbedder()), ids: ids).memories == expected.memories, "\(name)")
        }
    }

    @Test("writes made while a checkpoint writes its view snapshot are kept: the next checkpoint and the next open have them", arguments: StoreBackend.available)
    func writesDuringCheckpoint(backend: StoreBackend) throws {
        let dir = scratchDirectory("ckpt")
        let store = try openStore(dir, backend, WordsEmbedder())
        let first = try addVaried(store, count: 3_000, seed: 21).map(\.id)
        let during = Locked<[UUID]>([])
        let failures = Locked<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            do {
                if worker == 0 { return try store.checkpoint() }
                for i in 0..<60 {
                    let memory = try store.add(["written during \(i)"], vectors: randomUnitVectors(1, seed: 100 + UInt64(i)), scope: MemoryScope(userID: "u"))[0]
                    during.withLock { $0.append(memory.id) }
                }
                try store.delete(first[0])
            } catch { failures.withLock { $0.append("\(error)") } }
        }
        #expect(failures.withLock { $0 }.isEmpty)
        let ids = first + during.withLock { $0 }
        let expected = try contents(store, ids: ids)
        #expect(expected.memories.count == ids.count - 1)
        #expect(try contents(openStore(dir, backend, WordsEmbedder()), ids: ids).memories == expected.memories)
        try store.checkpoint()
        #expect(try contents(openStore(dir, backend, WordsEmbedder()), ids: ids).memories == expected.memories)
    }

    @Test("a memory another writer added is not lost when a checkpoint that lacks it is reopened", arguments: StoreBackend.available)
    func foreignWriter(backend: StoreBackend) throws {
        let dir = scratchDirectory("ckpt")
        let store = try openStore(dir, backend, WordsEmbedder())
        _ = try addVaried(store, count: 50, seed: 4)
        // A second store on the same database (as another process would be) adds a memory the
        // first one never sees; the first then adds one more and checkpoints its view.
        let other = try openStore(dir, backend, WordsEmbedder())
        let foreign = try other.add(["written elsewhere"], vectors: randomUnitVectors(1, seed: 5), scope: MemoryScope(userID: "u"))[0]
        let own = try store.add(["written here"], vectors: randomUnitVectors(1, seed: 6), scope: MemoryScope(userID: "u"))[0]
        try store.checkpoint()
        let reopened = try openStore(dir, backend, WordsEmbedder())
        #expect(try reopened.get(foreign.id) == foreign && reopened.get(own.id) == own)
        #expect(reopened.count == 52)
        #expect(try reopened.search(vector: randomUnitVectors(1, seed: 5)[0], scope: MemoryScope(userID: "u"), limit: 1).first?.memory.id == foreign.id)
        // The next checkpoint cannot be a delta of the last view snapshot, which lacks the foreign
        // memory: a delete then must not come back, nor the foreign memory go missing.
        try reopened.delete(own.id)
        try reopened.checkpoint()
        let again = try openStore(dir, backend, WordsEmbedder())
        #expect(try again.get(foreign.id) == foreign && (try? again.get(own.id)) == nil && again.count == 51)
    }

    @Test("a checkpoint rewrites only what changed: nothing when the last one is exact, and a tenant's graph only when it changed", arguments: StoreBackend.available)
    func incrementalCheckpoints(backend: StoreBackend) throws {
        let dir = scratchDirectory("ckpt")
        var store: MemoryStore? = try openStore(dir, backend, WordsEmbedder())
        let big = MemoryScope(userID: "big"), small = MemoryScope(userID: "small")
        let ids = try store!.add((0..<2_100).map { "big \($0)" }, vectors: randomUnitVectors(2_100, seed: 7), scope: big).map(\.id)
            + store!.add(["small 1"], vectors: randomUnitVectors(1, seed: 8), scope: small).map(\.id)
        func manifest() throws -> (generation: Int, flat: String, tail: String?, removed: Int, view: String, viewDelta: String?, graph: String) {
            let m = try Self.manifest(dir)
            let graphs = m["graphs"] as! [[String: Any]]
            #expect(graphs.count == 1)
            return (m["generation"] as! Int, m["flat"] as! String, m["flatTail"] as? String, (m["flatRemoved"] as? [Int])?.count ?? 0,
                    m["view"] as! String, m["viewDelta"] as? String, graphs[0]["file"] as! String)
        }
        try store!.checkpoint()
        let first = try manifest()
        #expect(first.tail == nil && first.removed == 0)
        store = nil
        store = try openStore(dir, backend, WordsEmbedder())
        try store!.checkpoint()  // opened from an exact checkpoint, nothing changed: nothing to write
        #expect(try manifest().generation == first.generation)
        let added = try store!.add(["small 2"], vectors: randomUnitVectors(1, seed: 9), scope: small)[0]
        try store!.checkpoint()
        let second = try manifest()
        #expect(second.generation == first.generation + 1 && second.graph == first.graph)  // the big tenant's graph is listed as it was
        #expect(second.flat == first.flat && second.tail != nil)  // one new vector: written as the tail
        #expect(second.view == first.view && second.viewDelta != nil)  // one new memory: written as the view's delta
        try store!.delete(ids[5])
        try store!.checkpoint()
        let third = try manifest()
        #expect(third.graph != second.graph)
        #expect(third.flat == first.flat && third.tail == second.tail && third.removed == 1)  // the base lists the removal beside it
        // A deletion from the view's base: the view is written whole, without it.
        #expect(third.view != second.view && third.viewDelta == nil)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/index").sorted()
        #expect(files == ["manifest.json", third.flat, third.tail!, third.graph, third.view].sorted())
        store = nil
        let reopened = try openStore(dir, backend, WordsEmbedder())
        #expect(reopened.count == 2_101 && (try? reopened.get(ids[5])) == nil)
        #expect(try reopened.get(added.id) == added)
        #expect(try reopened.search(vector: randomUnitVectors(2_100, seed: 7)[9], scope: big, limit: 1).first?.memory.id == ids[9])
        #expect(try reopened.search(vector: randomUnitVectors(2_100, seed: 7)[5], scope: big, limit: 1).first?.memory.id != ids[5])
    }

    @Test("flat vectors and view: small changes are checkpointed as a tail (a delta) and a list of removed rows, larger ones fold into a new base; every stage reopens exactly", arguments: StoreBackend.available)
    func flatTail(backend: StoreBackend) throws {
        let dir = scratchDirectory("ckpt")
        let store = try openStore(dir, backend, WordsEmbedder())
        var ids = try addVaried(store, count: 400, seed: 11).map(\.id)
        func manifest() throws -> [String: Any] { try Self.manifest(dir) }
        func expectExactReopen(_ stage: String) throws {
            let reopened = try openStore(dir, backend, WordsEmbedder())
            let generation = try manifest()["generation"] as! Int
            try reopened.checkpoint()  // a no-op only when the checkpoint's files opened as they are (no fallback)
            #expect(try manifest()["generation"] as! Int == generation, "\(stage)")
            let (before, after) = (try contents(store, ids: ids), try contents(reopened, ids: ids))
            #expect(after.memories == before.memories && after.lists == before.lists, "\(stage)")
            for query in randomUnitVectors(10, seed: 12) {
                for scope in Self.scopes {
                    #expect(try reopened.search(vector: query, scope: scope, limit: 5).map(\.memory) == store.search(vector: query, scope: scope, limit: 5).map(\.memory), "\(stage)")
                }
            }
        }
        try store.checkpoint()
        let base = try manifest()["flat"] as! String, view = try manifest()["view"] as! String
        try expectExactReopen("base")

        ids += try addVaried(store, count: 20, seed: 13).map(\.id)
        try store.checkpoint()
        let tail = try manifest()["flatTail"] as? String
        #expect(try manifest()["flat"] as? String == base && tail != nil)
        #expect(try manifest()["view"] as? String == view && manifest()["viewDelta"] != nil)  // 20 added ≤ 400 / 8
        try expectExactReopen("tail")

        // Updates (a memory moves to a new row): ten from the base, five from the tail.
        for (i, id) in (ids[0..<10] + ids[400..<405]).enumerated() { try edit(store, id, i) }
        try store.checkpoint()
        #expect(try manifest()["flat"] as? String == base && (manifest()["flatRemoved"] as? [Int])?.count == 10)
        #expect(try manifest()["flatTail"] as? String != tail)  // the tail changed: written again
        #expect(try manifest()["view"] as? String == view && (manifest()["viewRemoved"] as? [Int])?.count == 10)
        try expectExactReopen("removed")

        // A damaged delta (checksum intact or not) falls back to the database: nothing is lost.
        let damaged = try copy(dir)
        try Self.patch(damaged + "/index/" + (manifest()["viewDelta"] as! String)) { $0[$0.count - 3] ^= 0x01 }
        #expect(try contents(openStore(damaged, backend, WordsEmbedder()), ids: ids).memories == contents(store, ids: ids).memories)

        // A deletion: the view's base held removed rows, so the view is written whole, without
        // them; the flat base stays, its removed rows zeroed in place.
        try store.delete(ids.remove(at: 20))
        try store.checkpoint()
        #expect(try manifest()["flat"] as? String == base && (manifest()["flatRemoved"] as? [Int])?.count == 11)
        #expect(try manifest()["view"] as? String != view && manifest()["viewRemoved"] == nil)
        try expectExactReopen("deleted")

        ids += try addVaried(store, count: 150, seed: 14).map(\.id)  // tail 180 + removed 11 > 389 / 4: fold; > 419 / 8: new view
        try store.checkpoint()
        #expect(try manifest()["flat"] as? String != base && manifest()["flatTail"] == nil && manifest()["flatRemoved"] == nil)
        #expect(try manifest()["view"] as? String != view && manifest()["viewDelta"] == nil && manifest()["viewRemoved"] == nil)
        try expectExactReopen("folded")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/index")
        #expect(files.filter { $0.hasPrefix("flat") } == [try manifest()["flat"] as! String])
        #expect(files.filter { $0.hasPrefix("view") } == [try manifest()["view"] as! String])
    }

    @Test("a store opened from a view delta checkpoints its changes as a delta against the same baseline, and reopens exactly", arguments: StoreBackend.available)
    func deltaAfterReopen(backend: StoreBackend) throws {
        let dir = scratchDirectory("ckpt")
        var store: MemoryStore? = try openStore(dir, backend, WordsEmbedder())
        var ids = try addVaried(store!, count: 400, seed: 31).map(\.id)
        try store!.checkpoint()
        ids += try addVaried(store!, count: 10, seed: 32).map(\.id)
        for (i, id) in ids[0..<3].enumerated() { try edit(store!, id, i) }
        try store!.checkpoint()
        func manifest() throws -> [String: Any] { try Self.manifest(dir) }
        let baseline = try manifest()["view"] as! String
        store = try openStore(dir, backend, WordsEmbedder())
        ids += try addVaried(store!, count: 5, seed: 33).map(\.id)
        for (i, id) in [ids[3], ids[405]].enumerated() { try edit(store!, id, 3 + i) }  // one from the baseline, one from the delta
        try store!.checkpoint()
        #expect(try manifest()["view"] as? String == baseline && (manifest()["viewRemoved"] as? [Int])?.count == 4)
        let expected = try contents(store!, ids: ids)
        #expect(expected.memories.count == 415)
        let generation = try manifest()["generation"] as! Int
        let reopened = try openStore(dir, backend, WordsEmbedder())
        try reopened.checkpoint()  // a no-op only when the checkpoint opened as it is
        #expect(try manifest()["generation"] as! Int == generation)
        let got = try contents(reopened, ids: ids)
        #expect(got.memories == expected.memories && got.lists == expected.lists)
    }

    @Test("an open without index files reports reading the memories and embeddings and building the graphs, up to their totals; an open with them only catches up",
          arguments: StoreBackend.available)
    func openProgress(backend: StoreBackend) async throws {
        let dir = scratchDirectory("ckpt")
        let store = try openStore(dir, backend, WordsEmbedder())
        // One tenant large enough for a graph, and a few small ones.
        let large = 2_400, small = 300
        let scopes = (0..<large).map { _ in MemoryScope(userID: "big") } + (0..<small).map { MemoryScope(userID: "u\($0 % 7)") }
        _ = try await store.add(scopes.enumerated().map { NewMemory(text: "memory \($0.offset)", scope: $0.element) },
                          vectors: randomUnitVectors(scopes.count, seed: 4))
        try await store.close()
        try FileManager.default.removeItem(atPath: dir + "/index")

        let seen = Locked<[OpenProgress]>([])
        let rebuilt = try MemoryStore(directory: dir, embedder: WordsEmbedder(), database: backend.database(for: dir).map { try PostgresLocation(url: $0) }) { progress in
            seen.withLock { $0.append(progress) }
        }
        let reports = seen.withLock { $0 }
        let stages = reports.map(\.stage).reduce(into: [OpenProgress.Stage]()) { if $0.last != $1 { $0.append($1) } }
        #expect(stages == [.readingMemories, .readingEmbeddings, .buildingGraphs], "\(reports)")
        for stage in stages {
            let ofStage = reports.filter { $0.stage == stage }
            #expect(zip(ofStage, ofStage.dropFirst()).allSatisfy { $0.done <= $1.done && $1.done <= $1.total }, "\(ofStage)")
            let last = try #require(ofStage.last)
            #expect(last.done == last.total)
            #expect(last.total == (stage == .buildingGraphs ? large : large + small), "\(stage): \(last)")
        }
        #expect(rebuilt.count == large + small)
        try await rebuilt.close()

        seen.withLock { $0 = [] }
        let reopened = try MemoryStore(directory: dir, embedder: WordsEmbedder(), database: backend.database(for: dir).map { try PostgresLocation(url: $0) }) { progress in
            seen.withLock { $0.append(progress) }
        }
        #expect(seen.withLock { $0 }.allSatisfy { $0.stage == .catchingUp } && seen.withLock { $0.last?.done } == 1)
        try await reopened.close()
    }

    @Test("vectors damaged under intact headers (flat and graph files) are found by the check the store runs once open, and rebuilt from the record: searches are right again, and the next checkpoint writes files that verify",
          arguments: StoreBackend.available)
    func damagedVectors(backend: StoreBackend) async throws {
        let dir = scratchDirectory("ckpt")
        let big = MemoryScope(userID: "big")
        let vectors = randomUnitVectors(2_100, seed: 21)
        var store: MemoryStore? = try openStore(dir, backend, WordsEmbedder())
        let ids = try await store!.add((0..<2_100).map { "big \($0)" }, vectors: vectors, scope: big).map(\.id)
        try await store!.checkpoint()
        try await store!.close()
        store = nil
        let m = try Self.manifest(dir)
        let flat = try #require(m["flat"] as? String), graph = try #require((m["graphs"] as? [[String: Any]])?.first?["file"] as? String)
        for file in [flat, graph] {  // every vector's first component becomes 1e38
            let header = try IndexFile.inspect(dir + "/index/" + file)
            let section = try #require(header.sections.first { $0.id == .vectors })
            try Self.patch(dir + "/index/" + file) { bytes in
                for slot in 0..<header.slotCount {
                    withUnsafeBytes(of: Float(1e38)) { bytes.replaceSubrange(section.offset + slot * header.stride * 4 ..< section.offset + slot * header.stride * 4 + 4, with: $0) }
                }
            }
        }
        // A checkpoint right after the open waits for the store's own check: it never copies the damage into files that verify.
        let other = try copy(dir)
        let first = try openStore(other, backend, WordsEmbedder())
        try await first.checkpoint()
        let rewritten = try Self.manifest(other)
        #expect(rewritten["flat"] as? String != flat)
        try IndexFile.verify(other + "/index/" + (rewritten["flat"] as! String))
        #expect(try first.search(vector: vectors[7], scope: big, limit: 1).first.map { $0.memory.id == ids[7] && $0.score <= 1.0001 } == true)
        try await first.close()

        let reopened = try openStore(dir, backend, WordsEmbedder())
        let check = try await reopened.verifyIndexFiles()
        #expect(check.checked.sorted() == [flat, graph].sorted() && check.repaired.sorted() == [flat, graph].sorted())
        for i in stride(from: 0, to: 2_100, by: 97) {
            let exact = try reopened.search(vector: vectors[i], scope: big, limit: 5)
            #expect(exact.first?.memory.id == ids[i] && exact.allSatisfy { $0.score <= 1.0001 } && abs(exact[0].score - 1) < 1e-4)
        }
        try await reopened.checkpoint()
        let listed = try Self.manifest(dir)
        try IndexFile.verify(dir + "/index/" + (listed["flat"] as! String))
        for entry in listed["graphs"] as! [[String: Any]] { try IndexFile.verify(dir + "/index/" + (entry["file"] as! String)) }
        #expect(try await reopened.verifyIndexFiles().repaired.isEmpty)
    }

    @Test("damaged view snapshots with valid checksums (counts, offsets, lengths, bytes overwritten) open or fail, never trap", arguments: StoreBackend.available)
    func hostileSnapshots(backend: StoreBackend) throws {
        let dir = scratchDirectory("ckpt")
        var store: MemoryStore? = try openStore(dir, backend, WordsEmbedder())
        let ids = try addVaried(store!, count: 60, seed: 10).map(\.id)
        try store!.checkpoint()
        store = nil
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: dir + "/index").first { $0.hasSuffix(".snapshot") })
        let path = dir + "/index/" + name
        let original = try Data(contentsOf: URL(fileURLWithPath: path))
        var rng = SplitMix64(seed: 3)
        var opened = 0
        for round in 0..<300 {
            var bytes = [UInt8](original)
            let payload = 32..<bytes.count
            switch round % 3 {
            case 0:  // a few random bytes anywhere in the payload
                for _ in 0...Int.random(in: 0..<4, using: &rng) { bytes[Int.random(in: payload, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng) }
            case 1:  // a u64 among the counts, rows, ids and offsets: huge, small or off by a little
                let at = Int.random(in: 32..<min(bytes.count - 8, 32 + 40 * 60), using: &rng)
                let value: UInt64 = [UInt64.random(in: 0...UInt64.max, using: &rng), UInt64.random(in: 0...100, using: &rng),
                                     UInt64(bytes.count) + UInt64.random(in: 0...8, using: &rng)][round % 9 / 3]
                withUnsafeBytes(of: value.littleEndian) { for (i, b) in $0.enumerated() { bytes[at + i] = b } }
            default:  // cut short
                bytes.removeLast(Int.random(in: 1..<(bytes.count - 32), using: &rng))
            }
            // Reseal: the length and checksum fields say the damage is intended.
            let length = UInt64(bytes.count - 32)
            let checksum = bytes[32...].withUnsafeBytes { XXH64.hash($0) }
            withUnsafeBytes(of: length.littleEndian) { for (i, b) in $0.enumerated() { bytes[16 + i] = b } }
            withUnsafeBytes(of: checksum.littleEndian) { for (i, b) in $0.enumerated() { bytes[24 + i] = b } }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            guard let reopened = try? openStore(dir, backend, WordsEmbedder()) else { continue }
            opened += 1
            for id in ids { _ = try? reopened.get(id) }  // decodes every memory still held
            for scope in Self.scopes { _ = try? reopened.list(scope: scope, filter: .gte("n", 3), limit: 100) }
        }
        #expect(opened > 0)
        try Data(original).write(to: URL(fileURLWithPath: path))
        #expect(try openStore(dir, backend, WordsEmbedder()).count == 60)
    }

    static func patch(_ path: String, _ change: (inout Data) -> Void) throws {
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        change(&data)
        try data.write(to: URL(fileURLWithPath: path))
    }
}
