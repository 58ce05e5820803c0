import Foundation

/// Draws queue depth, tasks and latency over time as a self-contained SVG (pure string building).
public enum SVGPlot {
    public struct Series: Sendable {
        public var label: String
        public var report: SimulationReport

        public init(label: String, report: SimulationReport) {
            self.label = label
            self.report = report
        }
    }

    static let width = 960.0
    static let panelHeight = 180.0
    static let left = 72.0
    static let right = 24.0
    static let top = 56.0
    static let gap = 44.0
    static let colors = ["#1f77b4", "#d62728"]
    static let secondary = ["#7fb3e0", "#f09a9b"]
    static let white = "#ffffff"
    static let frame = "#888888"
    static let grid = "#e5e5e5"
    static let goalColor = "#2ca02c"

    /// One to two runs over the same time span (a second run is drawn dashed in another colour).
    /// `acceptableLatency` draws the policy's latency goal on the latency panel. `from` hides what
    /// happens before it (e.g. a quiet night); the axis still counts hours since the runs' start.
    public static func render(_ series: [Series], title: String, acceptableLatency: Double?, from: Double? = nil,
                              xLabel: String = "hours since start") -> String {
        let allRuns = Array(series.prefix(2))
        let origin = allRuns.map(\.report.startTime).min() ?? 0
        let start = max(origin, from ?? origin)
        let runs = allRuns.map { run -> Series in
            var r = run
            r.report.timeline = run.report.timeline.filter { $0.time >= start }
            return r
        }
        let end = max(runs.map(\.report.endTime).max() ?? 0, start + 60)
        let plotWidth = width - left - right
        let height = top + 3 * panelHeight + 2 * gap + 48
        func x(_ t: Double) -> Double { left + (t - start) / (end - start) * plotWidth }

        var svg = ""
        svg += #"<svg xmlns="http://www.w3.org/2000/svg" width="\#(n(width))" height="\#(n(height))" "#
        svg += #"viewBox="0 0 \#(n(width)) \#(n(height))" font-family="sans-serif" font-size="12">"# + "\n"
        svg += #"<rect x="0" y="0" width="\#(n(width))" height="\#(n(height))" fill="\#(white)"/>"# + "\n"
        svg += #"<text x="\#(n(left))" y="24" font-size="16" font-weight="bold">\#(escape(title))</text>"# + "\n"
        var legendX = left
        for (i, run) in runs.enumerated() {
            let r = run.report
            let p95 = r.latency.map { "p95 \(n($0.p95)) s" } ?? "no decisions"
            let text = "\(run.label): \(r.decided)/\(r.jobs) jobs, \(p95), \(n(r.taskMinutes)) task-min, $\(String(format: "%.2f", r.costUSD))"
            svg += #"<line x1="\#(n(legendX))" y1="40" x2="\#(n(legendX + 24))" y2="40" stroke="\#(colors[i])" stroke-width="2"\#(i == 1 ? #" stroke-dasharray="6 3""# : "")/>"# + "\n"
            svg += #"<text x="\#(n(legendX + 30))" y="44">\#(escape(text))</text>"# + "\n"
            legendX += 30 + Double(text.count) * 6.6 + 24
        }

        // Panel 1: queue depth.
        let depthMax = niceMax(Double(runs.flatMap { $0.report.timeline.map(\.visible) }.max() ?? 0))
        var y0 = top
        svg += panel(title: "Jobs waiting (ApproximateNumberOfMessagesVisible)", y0: y0, yMax: depthMax, unit: "",
                     origin: origin, start: start, end: end, x: x)
        for (i, run) in runs.enumerated() {
            let pts = run.report.timeline.map { (x($0.time), yScale(Double($0.visible), y0, depthMax)) }
            svg += polyline(pts, color: colors[i], dashed: i == 1, width: 1.5)
        }

        // Panel 2: tasks and instances.
        y0 += panelHeight + gap
        let taskMax = niceMax(Double(runs.flatMap { $0.report.timeline.flatMap { [$0.desired, $0.running, $0.instances] } }.max() ?? 0))
        svg += panel(title: "Tasks: desired (thick), running (thin), instances (dotted)", y0: y0, yMax: taskMax, unit: "",
                     origin: origin, start: start, end: end, x: x)
        for (i, run) in runs.enumerated() {
            let tl = run.report.timeline
            svg += polyline(steps(tl.map { (x($0.time), yScale(Double($0.desired), y0, taskMax)) }), color: colors[i],
                            dashed: i == 1, width: 2.5)
            svg += polyline(steps(tl.map { (x($0.time), yScale(Double($0.running), y0, taskMax)) }), color: secondary[i],
                            dashed: i == 1, width: 1.2)
            if tl.contains(where: { $0.instances > 0 }) {
                svg += polyline(steps(tl.map { (x($0.time), yScale(Double($0.instances), y0, taskMax)) }), color: colors[i],
                                dashed: false, width: 1, dotted: true)
            }
        }

        // Panel 3: latency.
        y0 += panelHeight + gap
        let worst = runs.flatMap { $0.report.timeline.compactMap(\.maxLatency) }.max() ?? 0
        let latMax = niceMax(max(worst, acceptableLatency ?? 0))
        svg += panel(title: "Upload → decision latency, worst per minute (s)", y0: y0, yMax: latMax, unit: "",
                     origin: origin, start: start, end: end, x: x)
        if let goal = acceptableLatency {
            let gy = yScale(goal, y0, latMax)
            svg += #"<line x1="\#(n(left))" y1="\#(n(gy))" x2="\#(n(width - right))" y2="\#(n(gy))" stroke="\#(goalColor)" stroke-dasharray="4 4"/>"# + "\n"
            svg += #"<text x="\#(n(width - right - 4))" y="\#(n(gy - 4))" text-anchor="end" fill="\#(goalColor)">acceptable latency \#(n(goal)) s</text>"# + "\n"
        }
        for (i, run) in runs.enumerated() {
            var segment: [(Double, Double)] = []
            for p in run.report.timeline {
                if let l = p.maxLatency {
                    segment.append((x(p.time), yScale(l, y0, latMax)))
                } else if !segment.isEmpty {
                    svg += segmentOrDot(segment, color: colors[i], dashed: i == 1)
                    segment = []
                }
            }
            if !segment.isEmpty { svg += segmentOrDot(segment, color: colors[i], dashed: i == 1) }
        }
        svg += #"<text x="\#(n(left + plotWidth / 2))" y="\#(n(height - 12))" text-anchor="middle">\#(escape(xLabel))</text>"# + "\n"
        svg += "</svg>\n"
        return svg
    }

    // MARK: pieces

    static func yScale(_ v: Double, _ y0: Double, _ yMax: Double) -> Double {
        y0 + panelHeight - min(max(v, 0), yMax) / yMax * panelHeight
    }

    static func panel(title: String, y0: Double, yMax: Double, unit: String, origin: Double, start: Double, end: Double,
                      x: (Double) -> Double) -> String {
        var s = ""
        let x1 = width - right
        s += #"<text x="\#(n(left))" y="\#(n(y0 - 8))" font-weight="bold">\#(escape(title))</text>"# + "\n"
        s += #"<rect x="\#(n(left))" y="\#(n(y0))" width="\#(n(x1 - left))" height="\#(n(panelHeight))" fill="none" stroke="\#(frame)"/>"# + "\n"
        // As many gridlines as divide the maximum into whole numbers (4, 5, 2 or 1 intervals).
        let intervals = [4, 5, 2].first { (yMax / Double($0)).rounded() == yMax / Double($0) } ?? 1
        for k in 0...intervals {
            let v = yMax * Double(k) / Double(intervals)
            let y = yScale(v, y0, yMax)
            if k > 0, k < intervals {
                s += #"<line x1="\#(n(left))" y1="\#(n(y))" x2="\#(n(x1))" y2="\#(n(y))" stroke="\#(grid)"/>"# + "\n"
            }
            s += #"<text x="\#(n(left - 6))" y="\#(n(y + 4))" text-anchor="end">\#(n(v))\#(unit)</text>"# + "\n"
        }
        let hours = (end - start) / 3600
        let stepHours: Double = hours <= 3 ? 0.5 : hours <= 12 ? 1 : hours <= 30 ? 2 : hours <= 72 ? 6 : 24
        // Ticks on whole multiples of the step, counted from the origin.
        var h = ((start - origin) / 3600 / stepHours).rounded(.up) * stepHours
        while h <= (end - origin) / 3600 + 1e-9 {
            let px = x(origin + h * 3600)
            s += #"<line x1="\#(n(px))" y1="\#(n(y0 + panelHeight))" x2="\#(n(px))" y2="\#(n(y0 + panelHeight + 4))" stroke="\#(frame)"/>"# + "\n"
            s += #"<text x="\#(n(px))" y="\#(n(y0 + panelHeight + 17))" text-anchor="middle">\#(n(h))</text>"# + "\n"
            h += stepHours
        }
        return s
    }

    static func steps(_ pts: [(Double, Double)]) -> [(Double, Double)] {
        var out: [(Double, Double)] = []
        out.reserveCapacity(pts.count * 2)
        for (i, p) in pts.enumerated() {
            if i > 0 { out.append((p.0, pts[i - 1].1)) }
            out.append(p)
        }
        return out
    }

    static func polyline(_ pts: [(Double, Double)], color: String, dashed: Bool, width: Double, dotted: Bool = false) -> String {
        guard !pts.isEmpty else { return "" }
        let coords = pts.map { "\(n($0.0)),\(n($0.1))" }.joined(separator: " ")
        let dash = dotted ? #" stroke-dasharray="1 3""# : dashed ? #" stroke-dasharray="6 3""# : ""
        return #"<polyline fill="none" stroke="\#(color)" stroke-width="\#(n(width))"\#(dash) points="\#(coords)"/>"# + "\n"
    }

    static func segmentOrDot(_ pts: [(Double, Double)], color: String, dashed: Bool) -> String {
        if pts.count == 1 {
            return #"<circle cx="\#(n(pts[0].0))" cy="\#(n(pts[0].1))" r="2" fill="\#(color)"/>"# + "\n"
        }
        return polyline(pts, color: color, dashed: dashed, width: 1.2)
    }

    /// 1, 2 or 5 × 10^k at or above `v` (at least 1).
    static func niceMax(_ v: Double) -> Double {
        guard v.isFinite, v > 1 else { return 1 }
        let e = (log10(v)).rounded(.down)
        let base = pow(10, e)
        let f = v / base
        let nice: Double = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10
        return nice * base
    }

    /// A number with at most one decimal, no locale.
    static func n(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        if r == r.rounded() { return String(Int(r)) }
        return String(format: "%.1f", r)
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                // XML 1.0 forbids most control characters.
                if c.value < 0x20 && c != "\t" && c != "\n" { out += "?" } else { out.unicodeScalars.append(c) }
            }
        }
        return out
    }
}
