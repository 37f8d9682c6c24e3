import EngramMem0
import Foundation
import Hummingbird

extension Mem0Request {
    /// The request's JSON body (at most the context's upload size) and its URL query.
    init(_ request: Request, _ context: ServerContext) async throws {
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { query[String(key)] = String(value).removingPercentEncoding ?? String(value) }
        var request = request
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)
        try self.init(body: Data(buffer.readableBytesView), query: query)
    }
}
