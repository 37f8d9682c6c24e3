import Foundation

/// Which versions of the facts a search or a listing sees, by their validity (event time:
/// ``Memory/validFrom`` to ``Memory/validTo``). Expired memories stay hidden in every case.
public enum Validity: Sendable, Hashable {
    /// What is true now: memories whose validity has not ended (the default).
    case current
    /// What was true at an instant: `validFrom <= instant < validTo`.
    case asOf(Date)
    /// Every version, superseded ones included.
    case all

    /// The instant ages are measured to (recency): the as-of instant, else now.
    func reference(now: Date) -> Date {
        if case let .asOf(instant) = self { instant } else { now }
    }
}
