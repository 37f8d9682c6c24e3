import EngramMemory
import EngramServer
import Foundation
import Hummingbird
import HummingbirdTesting
import EngramTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("Idle connections")
struct IdleConnectionTests {
    /// Connects to the server on `port`, sends `bytes`, and reports whether the server closed the
    /// connection (end of stream) within `seconds`.
    static func closedByServer(port: Int, sending bytes: String, within seconds: Int) throws -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EBADF) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        if !bytes.isEmpty { _ = bytes.withCString { send(fd, $0, strlen($0), 0) } }
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n == 0 { return true }  // the server closed it
            if n < 0 { return false }  // timed out (or reset)
        }
    }

    @Test("a connection that sends nothing, or stops halfway through a request, is closed after the idle timeout")
    func idleConnectionsAreClosed() async throws {
        let dir = scratchDirectory("server")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let store = try await MemoryStore.open(directory: dir, embedder: HashedWordsEmbedder())
        let server = try MemoryServer(store: store, configuration: .init(port: 0, idleTimeout: .seconds(1)))
        try await server.application().test(.live) { client in
            let port = try #require(client.port)
            for sent in ["", "POST /v3/memories/search/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"qu"] {
                let start = ContinuousClock.now
                let closed = try await Task.detached { try Self.closedByServer(port: port, sending: sent, within: 15) }.value
                #expect(closed && ContinuousClock.now - start < .seconds(10), "\(sent.debugDescription)")
            }
        }
        try await store.close()
    }
}
