import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A minimal HTTP/1.1 server on 127.0.0.1 for tests: one request per connection, answered by
/// `handler(path, headers, body)` → (status, extra headers, body).
final class LocalHTTPServer: @unchecked Sendable {  // `requests` is guarded by `lock`
    typealias Handler = @Sendable (_ path: String, _ headers: [String: String], _ body: Data) -> (Int, [String: String], Data)

    let port: UInt16
    private let socketFD: Int32
    private let handler: Handler
    private let lock = NSLock()
    private var requests: [(path: String, headers: [String: String], body: Data)] = []

    init(handler: @escaping Handler) throws {
        self.handler = handler
        (socketFD, port) = try Self.listen()
        let thread = Foundation.Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// A listening socket on 127.0.0.1 with a kernel-chosen port.
    private static func listen() throws -> (Int32, UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, Glibc.listen(fd, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    deinit { close(socketFD) }

    var baseURL: URL { URL(string: "http://127.0.0.1:\(port)/v1")! }

    var received: [(path: String, headers: [String: String], body: Data)] {
        lock.lock()
        defer { lock.unlock() }
        return requests
    }

    func stop() { shutdown(socketFD, Int32(SHUT_RDWR)) }

    private func acceptLoop() {
        while true {
            let client = accept(socketFD, nil, nil)
            guard client >= 0 else { return }
            serve(client)
            close(client)
        }
    }

    private func serve(_ client: Int32) {
        var buffer = Data()
        var chunk = [UInt8](repeating: 0, count: 65_536)
        var headerEnd: Range<Data.Index>?
        var contentLength = 0
        while true {
            let n = read(client, &chunk, chunk.count)
            guard n > 0 else { return }
            buffer.append(contentsOf: chunk[0..<n])
            if headerEnd == nil, let end = buffer.range(of: Data("\r\n\r\n".utf8)) {
                headerEnd = end
                let head = String(decoding: buffer[..<end.lowerBound], as: UTF8.self)
                for line in head.split(separator: "\r\n").dropFirst() where line.lowercased().hasPrefix("content-length:") {
                    contentLength = Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
            if let end = headerEnd, buffer.count - end.upperBound >= contentLength { break }
        }
        let end = headerEnd!
        let lines = String(decoding: buffer[..<end.lowerBound], as: UTF8.self).split(separator: "\r\n")
        let path = lines.first.map { String($0.split(separator: " ")[1]) } ?? "/"
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { headers[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        let body = Data(buffer[end.upperBound..<end.upperBound + contentLength])
        lock.lock()
        requests.append((path, headers, body))
        lock.unlock()
        let (status, extra, reply) = handler(path, headers, body)
        var head = "HTTP/1.1 \(status) X\r\nContent-Type: application/json\r\nContent-Length: \(reply.count)\r\nConnection: close\r\n"
        for (k, v) in extra { head += "\(k): \(v)\r\n" }
        let response = Data((head + "\r\n").utf8) + reply
        _ = response.withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
    }
}
