/// A request that cannot be served as sent. The server answers `malformed` with 400 and `invalid`
/// with 422, each as `{"detail": description}`; the CLI prints the description.
package enum Mem0RequestError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The body is not what any route reads (not a JSON object).
    case malformed(String)
    /// A field is missing, of the wrong type or out of range.
    case invalid(String)

    package var description: String {
        switch self {
        case let .malformed(message), let .invalid(message): message
        }
    }
}
