import EngramMemory
import Foundation

/// Mem0's second step with a model: each extracted fact set against the most similar memories the
/// scope holds, and a decision per fact: store it (ADD), let it replace one (UPDATE: the old
/// version is superseded, not overwritten), end one's validity (DELETE: it is no longer true; it
/// is closed, not erased), or nothing (NONE: known already).
extension MemoryExtractor {
    /// One decision.
    enum Decision: Equatable {
        case add(String)
        case update(UUID, String)
        case delete(UUID)
        case none(UUID?)
    }

    static let decisionInstructions = """
        You keep a user's long-term memory. You get the memories it holds (each with a number) and new \
        facts (each with a number). For every new fact decide one event: "ADD" when it is new information; \
        "UPDATE" when it changes what a held memory says (that memory is replaced; give its number as "id" and \
        the new text); "DELETE" when it shows a held memory is no longer true (give its number as "id"); \
        "NONE" when a held memory says it already (give its number as "id"). Answer with a JSON object \
        {"memory": [{"fact": <fact number>, "event": "ADD"|"UPDATE"|"DELETE"|"NONE", "id": <memory number or null>, \
        "text": "<the text to store, for ADD and UPDATE>"}]} with exactly one entry per fact.
        """

    /// The decision for each of `facts`, against `held` (the scope's similar memories).
    /// - Throws: ``ServerError/upstream(_:)`` when the model cannot be reached or its answer is
    ///   not one valid decision per fact (a number it was not given, a memory two decisions
    ///   change, an event it does not know): nothing may be stored then.
    func decide(_ facts: [String], held: [Memory]) async throws -> [Decision] {
        let listing = "Held memories:\n" + held.enumerated().map { "\($0): \($1.text)" }.joined(separator: "\n")
            + "\n\nNew facts:\n" + facts.enumerated().map { "\($0): \($1)" }.joined(separator: "\n")
        let answer = try await ask(Self.decisionInstructions, listing, task: "memory decisions")
        func bad(_ why: String) -> ServerError { .upstream("memory decisions failed: \(why)") }
        guard let entries = answer["memory"] as? [[String: Any]] else { throw bad("the model did not answer {\"memory\": [decisions]}") }
        var decisions = [Decision?](repeating: nil, count: facts.count), touched = Set<UUID>()
        for entry in entries {
            guard let index = (entry["fact"] as? NSNumber)?.intValue ?? (entry["fact"] as? String).flatMap(Int.init),
                  facts.indices.contains(index), decisions[index] == nil else { throw bad("a decision names no fact, or one twice") }
            let number = (entry["id"] as? NSNumber)?.intValue ?? (entry["id"] as? String).flatMap(Int.init)
            let id: UUID? = try number.map { n in
                guard held.indices.contains(n) else { throw bad("memory \(n) was not among those given") }
                return held[n].id
            }
            let text = (entry["text"] as? String)?.trimmingCharacters(in: .whitespacesAndNewlines)
            let storable = text.flatMap { $0.isEmpty ? nil : $0 } ?? facts[index]
            let event = (entry["event"] as? String)?.uppercased()
            switch event {
            case "ADD": decisions[index] = .add(storable)
            case "UPDATE", "DELETE":
                guard let id, touched.insert(id).inserted else { throw bad("an UPDATE or DELETE needs a held memory no other decision changes") }
                decisions[index] = event == "DELETE" ? .delete(id) : .update(id, storable)
            case "NONE": decisions[index] = .none(id)
            default: throw bad("unknown event \(event ?? "none")")
            }
        }
        guard decisions.allSatisfy({ $0 != nil }) else { throw bad("not every fact got a decision") }
        return decisions.map { $0! }
    }
}
