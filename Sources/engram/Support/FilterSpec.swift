import Foundation

/// One line of a filtered benchmark file.
struct FilterSpec: Decodable {
    struct Query: Decodable {
        let query: Int
        let topk: [Int]
    }
    let name: String
    let allowed: [UInt64]
    let queries: [Query]

    static func read(_ path: String) throws -> [FilterSpec] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let decoder = JSONDecoder()
        return try text.split(separator: "\n").map { try decoder.decode(FilterSpec.self, from: Data($0.utf8)) }
    }
}
