import EngramMemory
import EngramTestSupport
import Foundation
import HTTPTypes
import Testing

/// What happens to a database under a serving node.
enum Outage: String, CaseIterable, Sendable, CustomStringConvertible {
    /// A fast shutdown: the server closes every connection.
    case stopped
    /// An immediate shutdown, as in a crash.
    case crashed
    /// Every server process frozen: connections stay open, nothing answers (a hung host, a
    /// network partition that drops packets).
    case frozen

    var description: String { rawValue }

    func begin(_ cluster: TestCluster) throws {
        switch self {
        case .stopped: try cluster.stop()
        case .crashed: try cluster.kill()
        case .frozen: try cluster.pause()
        }
    }

    func end(_ cluster: TestCluster) throws {
        self == .frozen ? try cluster.thaw() : try cluster.resume()
    }
}

@Suite("PostgreSQL outages under serving nodes", .serialized,
       .enabled(if: StoreBackend.available.contains(.postgres), "needs PostgreSQL (scripts/test-postgres)"))
struct DatabaseOutageTests {
    @Test("writes and gets fail fast with 503 and a detail, searches go on from the node's index, and both nodes recover by themselves",
          arguments: Outage.allCases)
    func outage(_ outage: Outage) async throws {
        let cluster = try TestCluster()
        // A short bound on calls, so that a frozen database is declared down quickly (and still
        // ample for opening the store while the whole suite runs on two cores).
        let database = try cluster.database("engram", parameters: "timeout=4")
        let other = try await MemoryStore.open(directory: scratchDirectory("node-b"), embedder: HashedWordsEmbedder(),
                                               database: PostgresLocation(url: database))
        let alice = MemoryScope(userID: "alice")
        try await withServer(.postgres, database: database) { client in
            let add = { (text: String) in
                try await client.call(.post, "/v1/memories/", json: #"{"messages": "\#(text)", "user_id": "alice", "infer": false}"#)
            }
            let (status, added) = try await add("likes green tea")
            let id = try #require(results(added).first?["id"] as? String)
            #expect(status == .ok)

            try outage.begin(cluster)
            let clock = ContinuousClock()
            var took: [Duration] = []
            for text in ["likes black coffee", "works night shifts", "reads at night", "walks to work"] {
                let start = clock.now
                let (status, body) = try await add(text)
                took.append(clock.now - start)
                #expect(status == .serviceUnavailable && ((body as? [String: Any])?["detail"] as? String)?.contains("database") == true,
                        "\(status) \(body)")
            }
            // No call waits past the timeout; the first ones may wait that long (a frozen database
            // says nothing; on a busy machine a call may be in the pool, or behind one that is,
            // when the node learns of the outage). Once the node knows, calls fail without waiting
            // for the 4 s timeout (well under it: the whole suite shares two cores meanwhile).
            #expect(took.allSatisfy { $0 < .seconds(9) } && took.suffix(2).allSatisfy { $0 < .milliseconds(1_500) }, "\(took)")
            #expect(try await client.call(.get, "/v1/memories/\(id)/").0 == .serviceUnavailable)
            // The following node cannot read the feed: its lag grows past its 1 s poll.
            let lagDeadline = clock.now + .seconds(20)
            while other.catchUpLag! < .seconds(3), clock.now < lagDeadline { try await Task.sleep(for: .milliseconds(100)) }
            #expect(other.catchUpLag! >= .seconds(3))
            let (searched, found) = try await client.call(.post, "/v2/memories/search/", json: #"{"query": "green tea", "filters": {"user_id": "alice"}}"#)
            #expect(searched == .ok && results(found).first?["id"] as? String == id)

            try outage.end(cluster)
            var recovered: (HTTPResponse.Status, Any) = (.serviceUnavailable, "")
            let deadline = clock.now + .seconds(30)
            while recovered.0 != .ok, clock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
                recovered = try await add("plays the cello")
            }
            let cello = try #require(results(recovered.1).first?["id"] as? String, "no recovery within 30 s: \(recovered)")
            #expect(try await client.call(.get, "/v1/memories/\(id)/").0 == .ok)
            // The other node follows again. (Whether an add that failed with 503 committed anyway
            // is unknown to its client, as with any database call that timed out: both nodes agree
            // on it either way.)
            var onA: Set<String> = [], onB: Set<String> = []
            repeat {
                try await Task.sleep(for: .milliseconds(50))
                let (_, listed) = try await client.call(.post, "/v2/memories/", json: #"{"filters": {"user_id": "alice"}, "page_size": 100}"#)
                onA = Set(results(listed).compactMap { $0["id"] as? String })
                onB = Set(try other.list(scope: alice).memories.map { $0.id.uuidString.lowercased() })
            } while (onA != onB || !onB.contains(cello)) && clock.now < deadline
            #expect(onA == onB && onB.isSuperset(of: [id, cello]), "A: \(onA), B: \(onB)")
            #expect(other.catchUpLag! < .seconds(3), "\(other.catchUpLag!)")
        }
        try await other.close()
    }
}
