import EngramIndex
import EngramSupport
import Foundation

/// One measured configuration; its JSON line is the `engram bench` contract
/// (`index, metric, n, dim, k, ef, threads, batch, build_seconds, recall, qps`, then extras).
struct BenchRow {
    var index: String
    var metric: Metric
    var n: Int
    var dim: Int
    var k: Int
    var ef: Int?
    var threads: Int
    var batch: Bool
    var buildSeconds: Double
    var recall: Double
    var qps: Double
    var extra: [(String, JSONValue)] = []

    var json: JSONValue {
        .object([
            ("index", .string(index)), ("metric", .string(metric.rawValue)), ("n", .int(n)), ("dim", .int(dim)),
            ("k", .int(k)), ("ef", ef.map { .int($0) } ?? .number(nil)), ("threads", .int(threads)),
            ("batch", .bool(batch)), ("build_seconds", .number(rounded(buildSeconds, 4))),
            ("recall", .number(rounded(recall, 5))), ("qps", .number(rounded(qps, 1))),
        ] + extra + [("blas", .string(BLASRuntime.description))])
    }

    var table: String {
        let efText = ef.map(String.init) ?? "-"
        return "index=\(index) metric=\(metric.rawValue) n=\(n) dim=\(dim) k=\(k) ef=\(efText) threads=\(threads) "
            + "batch=\(batch) build=\(String(format: "%.3f", buildSeconds))s recall=\(String(format: "%.4f", recall)) "
            + "qps=\(String(format: "%.1f", qps))"
            + extra.map { " \($0.0)=\($0.1.plain)" }.joined()
    }

    private func rounded(_ x: Double, _ digits: Int) -> Double {
        let scale = pow(10.0, Double(digits))
        return (x * scale).rounded() / scale
    }
}
