import EngramSupport
import Metrics
import Prometheus

/// What `GET /metrics` reports, in Prometheus' text format: the server's requests (by route,
/// method and status), their durations and the parts of a search's (parse, embed, search,
/// encode), and the store's size and checkpoints. Recorded through swift-metrics into a registry
/// of the server's own (not the process-wide `MetricsSystem`), so that several servers in one
/// process each report their own.
public final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    /// The running totals last turned into counters (``advance(_:to:)``).
    private let reported = Locked<[String: Int]>([:])

    /// Server time is mostly under a millisecond; a query embedding takes a few.
    static let buckets: [Duration] = [0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10]
        .map { Duration.nanoseconds(Int64($0 * 1e9)) }

    public init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = Self.buckets
        self.factory = factory
    }

    /// Records one answered request. `parts` are the named parts of its server time (a search's).
    func request(route: String, method: String, status: Int, duration: Duration, parts: [(String, Duration)]) {
        Counter(label: "engram_http_requests_total", dimensions: [("route", route), ("method", method), ("status", String(status))],
                factory: factory).increment()
        Timer(label: "engram_http_request_duration_seconds", dimensions: [("route", route)], factory: factory).recordNanoseconds(Self.nanoseconds(duration))
        for (part, time) in parts {
            Timer(label: "engram_request_part_duration_seconds", dimensions: [("route", route), ("part", part)], factory: factory).recordNanoseconds(Self.nanoseconds(time))
        }
    }

    static func nanoseconds(_ d: Duration) -> Int64 { d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000 }

    /// Records a checkpoint the server ran.
    func checkpoint(_ duration: Duration) {
        Timer(label: "engram_checkpoint_duration_seconds", factory: factory).recordNanoseconds(Self.nanoseconds(duration))
    }

    /// Moves the counter `name` up to `total` (a running total read when scraped).
    func advance(_ name: String, to total: Int) {
        let delta = reported.withLock { seen -> Int in
            defer { seen[name] = max(seen[name] ?? 0, total) }
            return total - (seen[name] ?? 0)
        }
        if delta > 0 { Counter(label: name, factory: factory).increment(by: delta) }
    }

    /// Sets a gauge (the store's figures, read when scraped).
    func set(_ name: String, _ value: Double) {
        Gauge(label: name, factory: factory).record(value)
    }

    /// The text a scrape receives.
    func exposition() -> String { registry.emitToString() }
}
