import EngramEmbedding
import EngramMem0
import Foundation

/// Turns a conversation into a few concise memories with a chat model on any OpenAI-compatible
/// endpoint (`/chat/completions`), as Mem0 does with an LLM when `infer` is on.
public struct MemoryExtractor: Sendable {
    /// Which chat model to ask, and where.
    public struct Configuration: Sendable {
        /// The API root, e.g. `https://api.openai.com/v1` or `http://localhost:11434/v1`.
        public var baseURL: URL
        /// The chat model's name at the endpoint.
        public var model: String
        /// Bearer token; nil for local servers.
        public var apiKey: String?
        /// Retries of a request that failed for a reason worth retrying.
        public var maxRetries = 2

        /// A configuration with the default retries.
        public init(baseURL: URL, model: String, apiKey: String?) {
            self.baseURL = baseURL
            self.model = model
            self.apiKey = apiKey
        }
    }

    /// The configuration it was made with.
    public let configuration: Configuration
    private let client: OpenAICompatibleClient

    /// An extractor; nothing is sent until the first conversation.
    public init(_ configuration: Configuration) {
        self.configuration = configuration
        client = OpenAICompatibleClient(baseURL: configuration.baseURL, apiKey: configuration.apiKey, maxRetries: configuration.maxRetries,
                                        timeout: .seconds(60))
    }

    static let instructions = """
        You extract long-term memories from a conversation between a user and an assistant: facts about \
        the user, their preferences, plans, decisions and anything they ask to remember. Write each as one \
        short, self-contained sentence in the user's language. Skip greetings, small talk and what only \
        the assistant said. Answer with a JSON object {"facts": ["...", ...]}, an empty list when there is \
        nothing worth remembering.
        """

    /// The memories to store for `messages` (role, content), possibly none.
    /// - Throws: ``ServerError/upstream(_:)`` when the model cannot be reached or answers anything
    ///   but the JSON asked for: nothing is stored then.
    /// - Parameter guidance: the request's `custom_instructions`, `includes` and `excludes`, added
    ///   to the instructions (what to keep, what to leave out).
    func extract(_ messages: [Mem0Request.Message], guidance: ExtractionGuidance = ExtractionGuidance()) async throws -> [String] {
        let transcript = messages.map { "\($0.role): \($0.content)" }.joined(separator: "\n")
        guard let facts = try await ask(Self.instructions + guidance.text, transcript, task: "memory extraction")["facts"] as? [Any],
              let texts = facts as? [String] else {
            throw ServerError.upstream("memory extraction failed: the model did not answer {\"facts\": [strings]}")
        }
        return texts.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }

    /// The JSON object the model answers to `system` and `user` (fenced or not).
    /// - Throws: ``ServerError/upstream(_:)`` naming `task` when the model cannot be reached or
    ///   answers anything but a JSON object.
    func ask(_ system: String, _ user: String, task: String) async throws -> [String: Any] {
        let data: Data
        do {
            data = try await client.post("chat/completions", [
                "model": configuration.model, "temperature": 0, "response_format": ["type": "json_object"],
                "messages": [["role": "system", "content": system], ["role": "user", "content": user]],
            ])
        } catch {
            throw ServerError.upstream("\(task) failed: \(error)")
        }
        guard let answer = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let message = (answer["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any],
              let content = message["content"] as? String,
              let object = try? JSONSerialization.jsonObject(with: Data(Self.unfenced(content).utf8)) as? [String: Any] else {
            throw ServerError.upstream("\(task) failed: the model did not answer a JSON object")
        }
        return object
    }

    /// The JSON inside a Markdown code fence, which some models add despite being asked not to.
    static func unfenced(_ text: String) -> String {
        var t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard t.hasPrefix("```") else { return t }
        t = String(t.drop { $0 != "\n" })
        if t.hasSuffix("```") { t = String(t.dropLast(3)) }
        return t
    }
}

/// What a request adds to the extraction instructions: Mem0's `custom_instructions`, `includes`
/// (what to extract) and `excludes` (what never to store).
struct ExtractionGuidance: Sendable {
    var instructions: String?
    var includes: String?
    var excludes: String?

    var isEmpty: Bool { instructions == nil && includes == nil && excludes == nil }

    var text: String {
        var parts: [String] = []
        if let instructions { parts.append("Further instructions: \(instructions)") }
        if let includes { parts.append("Extract in particular: \(includes)") }
        if let excludes { parts.append("Never extract: \(excludes)") }
        return parts.isEmpty ? "" : "\n" + parts.joined(separator: "\n")
    }
}
