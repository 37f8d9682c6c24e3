import ArgumentParser
import Foundation

struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw recall@k (x) against queries/second (log y) from bench JSON-lines files as an SVG chart.",
        discussion: "One curve per file, labelled with --labels or the files' `index` field.")

    @Argument(help: "JSON-lines files from `engram bench --json` or Benchmarks/scripts/peers.py.") var files: [String]
    @Option(help: "SVG file to write.") var output: String
    @Option(help: "Comma-separated curve labels, one per file.") var labels: String?
    @Option(help: "Chart title.") var title = "recall@10 vs queries/second"

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one JSON-lines file") }
        if let labels, labels.split(separator: ",").count != files.count {
            throw ValidationError("--labels needs one label per file")
        }
    }

    func run() throws {
        let names = labels?.split(separator: ",").map(String.init)
        let curves = try files.enumerated().map { i, file -> Chart.Curve in
            let rows = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").compactMap {
                try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
            let points = rows.compactMap { row -> (Double, Double)? in
                guard let r = (row["recall"] as? NSNumber)?.doubleValue, let q = (row["qps"] as? NSNumber)?.doubleValue, q > 0 else { return nil }
                return (r, q)
            }.sorted { $0.0 < $1.0 }
            guard !points.isEmpty else { throw ValidationError("\(file) has no lines with recall and qps") }
            let label = names?[i] ?? (rows.first?["index"] as? String) ?? file
            return Chart.Curve(label: label, points: points)
        }
        try Chart(title: title, curves: curves).svg.write(toFile: output, atomically: true, encoding: .utf8)
        Progress.log("wrote \(output)")
    }
}

/// A small SVG line chart: linear x (recall), logarithmic y (queries/second).
struct Chart {
    struct Curve {
        let label: String
        let points: [(Double, Double)]
    }

    let title: String
    let curves: [Curve]
    let width = 820.0, height = 520.0
    let left = 80.0, right = 190.0, top = 50.0, bottom = 60.0
    static let colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]

    var svg: String {
        let all = curves.flatMap(\.points)
        let xMin = (all.map(\.0).min()! * 100).rounded(.down) / 100, xMax = min(1, (all.map(\.0).max()! * 100).rounded(.up) / 100)
        let yMin = pow(10, floor(log10(all.map(\.1).min()!))), yMax = pow(10, ceil(log10(all.map(\.1).max()!)))
        let plotW = width - left - right, plotH = height - top - bottom
        func x(_ r: Double) -> Double { left + (r - xMin) / max(xMax - xMin, 1e-9) * plotW }
        func y(_ q: Double) -> Double { top + (1 - (log10(q) - log10(yMin)) / max(log10(yMax) - log10(yMin), 1e-9)) * plotH }
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(left)" y="28" font-size="16">\(escape(title))</text>

            """
        // Grid and ticks: every 0.01 of recall (labels every 0.02 when crowded), every decade (and 2x, 5x) of q/s.
        let xSteps = Int(((xMax - xMin) * 100).rounded())
        for i in 0...max(xSteps, 1) {
            let r = xMin + Double(i) / 100
            guard r <= xMax + 1e-9 else { break }
            out += line(x(r), top, x(r), top + plotH, "#eee")
            if xSteps <= 12 || i % 2 == 0 { out += text(x(r), top + plotH + 18, String(format: "%.2f", r), anchor: "middle") }
        }
        var decade = yMin
        while decade <= yMax * 1.0001 {
            for m in [1.0, 2, 5] where decade * m <= yMax * 1.0001 {
                out += line(left, y(decade * m), left + plotW, y(decade * m), m == 1 ? "#ddd" : "#f3f3f3")
                out += text(left - 8, y(decade * m) + 4, Self.format(decade * m), anchor: "end")
            }
            decade *= 10
        }
        out += line(left, top + plotH, left + plotW, top + plotH, "#333") + line(left, top, left, top + plotH, "#333")
        out += text(left + plotW / 2, height - 15, "recall@10", anchor: "middle")
        out += "<text transform=\"translate(20,\(top + plotH / 2)) rotate(-90)\" text-anchor=\"middle\">queries/second (log)</text>\n"
        for (i, curve) in curves.enumerated() {
            let color = Self.colors[i % Self.colors.count]
            let path = curve.points.map { String(format: "%.1f,%.1f", x($0.0), y($0.1)) }.joined(separator: " ")
            out += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(path)\"/>\n"
            for p in curve.points { out += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%@\"/>\n", x(p.0), y(p.1), color) }
            let ly = top + 10 + Double(i) * 22
            out += line(left + plotW + 15, ly, left + plotW + 40, ly, color, width: 3)
            out += text(left + plotW + 46, ly + 4, curve.label, anchor: "start")
        }
        return out + "</svg>\n"
    }

    private func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, _ color: String, width: Double = 1) -> String {
        String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%@\" stroke-width=\"%.0f\"/>\n", x1, y1, x2, y2, color, width)
    }

    private func text(_ x: Double, _ y: Double, _ s: String, anchor: String) -> String {
        String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%@\">%@</text>\n", x, y, anchor, escape(s))
    }

    private func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    static func format(_ q: Double) -> String { q >= 1000 ? "\(Int(q / 1000))k" : "\(Int(q))" }
}
