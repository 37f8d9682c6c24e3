extension Duration {
    /// A recency half-life of `days` (a fraction allowed), to the millisecond; nil unless
    /// 0 < days < 10⁹ (beyond that no age weighs anything, and the milliseconds would overflow).
    /// REST, MCP and the CLI all read `recency_half_life_days` through it.
    package static func halfLife(days: Double) -> Duration? {
        guard days > 0, days < 1e9 else { return nil }
        return .milliseconds(Int64((days * 86_400_000).rounded()))
    }
}
