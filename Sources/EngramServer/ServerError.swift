import EngramMem0
import EngramMemory
import Foundation
import Hummingbird

/// Errors answered as Mem0 answers them: `{"detail": ...}` with the status.
public enum ServerError: Error, Sendable, CustomStringConvertible {
    /// 400: the request cannot be read.
    case badRequest(String)
    /// 401: no key, or an unknown one.
    case unauthorized
    /// 403: the key may not reach the scope asked for.
    case forbidden(String)
    /// 404: nothing there for this key.
    case notFound(String)
    /// 422: a field is missing, of the wrong type or out of range.
    case unprocessable(String)
    /// The server cannot start as configured (keys file, address).
    case configuration(String)
    /// A model the server depends on (memory extraction) failed.
    case upstream(String)
    /// 501: a route of Mem0's API that Engram does not offer (the message says which).
    case notOffered(String)
    /// 503: the server listens but its store is still opening.
    case starting

    /// The message answered as `{"detail": …}`.
    public var description: String {
        switch self {
        case let .badRequest(m), let .forbidden(m), let .notFound(m), let .unprocessable(m), let .configuration(m), let .upstream(m),
             let .notOffered(m): m
        case .unauthorized: "Invalid API key: send 'Authorization: Token <key>' or 'X-API-Key: <key>'"
        case .starting: "the store is still opening; try again shortly"
        }
    }

    var status: HTTPResponse.Status {
        switch self {
        case .badRequest, .configuration: .badRequest
        case .unauthorized: .unauthorized
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .unprocessable: .unprocessableContent
        case .upstream: .badGateway
        case .notOffered: .notImplemented
        case .starting: .serviceUnavailable
        }
    }

    /// The server error for an error thrown while handling a request.
    static func from(_ error: any Error) -> (HTTPResponse.Status, String) {
        switch error {
        case let e as ServerError: (e.status, e.description)
        case let e as MemoryError:
            switch e {
            case .notFound: (.notFound, e.description)
            case .duplicateText, .idInUse, .alreadySuperseded, .immutable: (.conflict, e.description)
            case .unavailable: (.serviceUnavailable, e.description)
            case .closed, .io, .corruptRecord: (.internalServerError, e.description)
            default: (.unprocessableContent, e.description)
            }
        case let e as FilterError: (.unprocessableContent, e.description)
        case let e as Mem0RequestError:
            if case .malformed = e { (.badRequest, e.description) } else { (.unprocessableContent, e.description) }
        case let e as HTTPError: (e.status, e.body ?? e.status.reasonPhrase)
        case let e as any HTTPResponseError:
            (e.status, e.status == .contentTooLarge ? "request body too large (at most 1 MiB)" : e.status.reasonPhrase)
        default: (.internalServerError, "internal error")
        }
    }
}
