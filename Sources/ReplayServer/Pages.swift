import Fleet
import Foundation
import Judging

/// The replay service's HTML: self-contained pages (inline CSS, inline SVG, no scripts), every value
/// from a record escaped. Pure.
public enum Pages {
    /// `&`, `<`, `>`, `"`, `'` escaped for text and attribute values.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                if scalar.value < 0x20 && scalar != "\n" && scalar != "\t" { out += "\u{FFFD}" } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }

    static let style = """
        body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#111;color:#eee}
        main{max-width:980px;margin:0 auto;padding:16px}
        h1{font-size:1.4em;margin:.3em 0}
        .meta{color:#aaa;font-size:.9em}
        video{width:100%;max-height:60vh;background:#000;border-radius:6px}
        .verdict{display:flex;align-items:center;gap:16px;margin:16px 0;font-size:1.5em;font-weight:700}
        .lights{display:flex;gap:8px}
        .light{width:34px;height:34px;border-radius:50%;border:2px solid #555}
        .light.white{background:#fff}.light.red{background:#e22}.light.amber{background:#f5b800}.light.off{background:#333}
        table{border-collapse:collapse;width:100%;margin:12px 0;font-size:.95em}
        th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #333}
        th{color:#aaa;font-weight:600}
        td.num{text-align:right;font-variant-numeric:tabular-nums}
        .passed{color:#7d7}.failed{color:#f66}.unknown{color:#f5b800}
        .reasons li{margin:4px 0}
        svg{background:#1b1b1b;border-radius:6px;width:100%;height:auto}
        a{color:#8cf}
        form{margin:12px 0;display:flex;gap:8px;flex-wrap:wrap;align-items:center}
        select,button{background:#222;color:#eee;border:1px solid #444;padding:4px 8px;border-radius:4px}
        """

    static func document(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width,initial-scale=1">
        <meta name="referrer" content="no-referrer">
        <title>\(escape(title))</title>
        <style>\(style)</style></head>
        <body><main>
        \(body)
        </main></body></html>

        """
    }

    // MARK: - Replay page

    /// The page behind a signed link: the video, the verdict with lights, the rule table and the chart.
    /// - Parameter videoURL: where the `<video>` loads from (`/v/TOKEN`), nil when there is no replay.
    public static func replay(_ record: DecisionRecord, videoURL: String?, expires: Date?) -> String {
        let verdict = record.verdict.flatMap { try? JSONDecoder().decode(Verdict.self, from: Data($0.utf8)) }
        var html = ""
        let title = [record.lift.flatMap(LiftKind.init(rawValue:))?.title, record.athlete, record.attempt.map { "attempt \($0)" }].compactMap { $0 }.joined(separator: " — ")
        html += "<h1>\(escape(title))</h1>\n"
        var meta: [String] = []
        if let meet = record.meet { meta.append("Meet \(escape(meet))") }
        if let team = record.team { meta.append("Team \(escape(team))") }
        meta.append("Video <code>\(escape(record.key))</code>")
        html += "<p class=\"meta\">\(meta.joined(separator: " · "))</p>\n"
        if let videoURL {
            html += "<video id=\"replay\" controls playsinline preload=\"metadata\" src=\"\(escape(videoURL))\"></video>\n"
        }
        html += verdictBlock(record, verdict: verdict)
        if let verdict, !verdict.reasons.isEmpty {
            html += "<ul class=\"reasons\">" + verdict.reasons.map { "<li>\(escape($0))</li>" }.joined() + "</ul>\n"
        } else if let reason = record.reason {
            html += "<p class=\"reasons\">\(escape(reason))</p>\n"
        }
        if let verdict, !verdict.rules.isEmpty { html += ruleTable(verdict.rules) }
        if let chart = record.chart { html += "<h2>\(escape(chart.label))</h2>\n" + ChartSVG.render(chart) }
        if let expires {
            html += "<p class=\"meta\">This link works until \(escape(HumanDate.utc(expires))).</p>\n"
        }
        return document(title: title.isEmpty ? "refvision replay" : title, body: html)
    }

    static func verdictBlock(_ record: DecisionRecord, verdict: Verdict?) -> String {
        let (words, light, css): (String, String, String)
        if record.decidedState == .failed {
            (words, light, css) = ("NOT JUDGED", "off", "unknown")
        } else {
            switch record.decision {
            case Decision.goodLift.rawValue: (words, light, css) = ("GOOD LIFT", "white", "passed")
            case Decision.noLift.rawValue: (words, light, css) = ("NO LIFT", "red", "failed")
            case Decision.needsReview.rawValue: (words, light, css) = ("NEEDS REVIEW", "amber", "unknown")
            default: (words, light, css) = (record.state.rawValue.uppercased(), "off", "unknown")
            }
        }
        let lights = (0..<3).map { _ in "<span class=\"light \(light)\"></span>" }.joined()
        return "<div class=\"verdict\" id=\"verdict\" data-decision=\"\(escape(record.decision ?? record.state.rawValue))\"><span class=\"lights\">\(lights)</span><span class=\"\(css)\">\(words)</span></div>\n"
    }

    static func ruleTable(_ rules: [RuleResult]) -> String {
        var html = "<table id=\"rules\"><thead><tr><th>Rule</th><th>Result</th><th>Measured</th><th>Threshold</th><th>Unit</th><th>When</th></tr></thead><tbody>\n"
        for rule in rules {
            let value = rule.value.map { String(format: "%.3f", $0) } ?? "—"
            let when = rule.time.map { String(format: "%.2f s", $0) } ?? (rule.frame.map { "frame \($0)" } ?? "")
            html += "<tr class=\"rule\" data-rule=\"\(escape(rule.id.rawValue))\"><td>\(escape(rule.id.title))</td>"
                + "<td class=\"\(rule.status.rawValue)\">\(rule.status.rawValue)</td><td class=\"num\">\(value)</td>"
                + "<td class=\"num\">\(String(format: "%.3f", rule.threshold))</td><td>\(escape(rule.unit.rawValue))</td><td>\(when)</td></tr>\n"
        }
        return html + "</tbody></table>\n"
    }

    // MARK: - Meet dashboard

    /// What the dashboard shows and filters on: `good_lift`, `no_lift`, `needs_review`, `failed`, or the
    /// state of a job not decided yet.
    static func outcome(_ record: DecisionRecord) -> String {
        record.decidedState == .failed ? "failed" : (record.decision ?? record.state.rawValue)
    }

    /// Filters of the meet page (query parameters `lift`, `decision`, `review=1`).
    public struct MeetFilter: Sendable, Equatable {
        public var lift: String?
        public var decision: String?
        public var needsReviewOnly = false

        public init(lift: String? = nil, decision: String? = nil, needsReviewOnly: Bool = false) {
            self.lift = lift
            self.decision = decision
            self.needsReviewOnly = needsReviewOnly
        }

        public func keeps(_ record: DecisionRecord) -> Bool {
            if let lift, record.lift != lift { return false }
            if let decision {
                let value = outcome(record)
                if value != decision { return false }
            }
            if needsReviewOnly && record.decision != Decision.needsReview.rawValue { return false }
            return true
        }
    }

    /// The decisions of a meet, newest first, with links to each replay.
    public static func meet(_ meet: String, records: [DecisionRecord], filter: MeetFilter,
                            link: (DecisionRecord) -> String?) -> String {
        let shown = records.filter(filter.keeps)
        var html = "<h1>Meet \(escape(meet))</h1>\n"
        var counts: [String: Int] = [:]
        for record in records { counts[outcome(record), default: 0] += 1 }
        html += "<p class=\"meta\">\(records.count) videos: " + counts.keys.sorted().map { "\(escape($0)) \(counts[$0] ?? 0)" }.joined(separator: " · ") + "</p>\n"
        func option(_ value: String, _ label: String, selected: String?) -> String {
            "<option value=\"\(value)\"\(selected == value ? " selected" : "")>\(label)</option>"
        }
        html += "<form method=\"get\">"
        html += "<label>Lift <select name=\"lift\">" + option("", "all", selected: filter.lift ?? "")
            + option("squat", "squat", selected: filter.lift) + option("bench", "bench", selected: filter.lift)
            + option("deadlift", "deadlift", selected: filter.lift) + "</select></label>"
        html += "<label>Decision <select name=\"decision\">" + option("", "all", selected: filter.decision ?? "")
            + ["good_lift", "no_lift", "needs_review", "failed", "queued", "processing"].map { option($0, $0, selected: filter.decision) }.joined()
            + "</select></label>"
        html += "<label><input type=\"checkbox\" name=\"review\" value=\"1\"\(filter.needsReviewOnly ? " checked" : "")> needs review only</label>"
        html += "<button type=\"submit\">Filter</button></form>\n"
        html += "<table id=\"decisions\"><thead><tr><th>When</th><th>Athlete</th><th>Team</th><th>Lift</th><th>Attempt</th><th>Decision</th><th>Reason</th><th>Notified</th><th></th></tr></thead><tbody>\n"
        for record in shown {
            let decision = outcome(record)
            let css = switch decision {
            case "good_lift": "passed"
            case "no_lift", "failed": "failed"
            default: "unknown"
            }
            let notified = record.notification.map { $0.delivery.rawValue } ?? ""
            let replay = link(record).map { "<a href=\"\(escape($0))\">replay</a>" } ?? ""
            html += "<tr class=\"decision\" data-job=\"\(escape(record.jobId))\"><td>\(escape(HumanDate.utc(record.updatedAt)))</td>"
                + "<td>\(escape(record.athlete ?? "—"))</td><td>\(escape(record.team ?? ""))</td><td>\(escape(record.lift ?? "—"))</td>"
                + "<td class=\"num\">\(record.attempt.map(String.init) ?? "")</td><td class=\"\(css)\">\(escape(decision))</td>"
                + "<td>\(escape(record.reason ?? ""))</td><td>\(escape(notified))</td><td>\(replay)</td></tr>\n"
        }
        html += "</tbody></table>\n"
        if shown.isEmpty { html += "<p class=\"meta\">No decisions match.</p>\n" }
        return document(title: "Meet \(meet)", body: html)
    }

    // MARK: - Errors

    /// A plain error page that says what happened in words and nothing about why a token failed beyond
    /// "expired" or "not valid".
    public static func error(title: String, message: String) -> String {
        document(title: title, body: "<h1>\(escape(title))</h1>\n<p>\(escape(message))</p>\n")
    }
}

/// The chart of a decision as inline SVG: the signal over time, the bottom frame marked, and for squat
/// depth the pass line and the review band.
public enum ChartSVG {
    public static func render(_ chart: DecisionChart, width: Double = 900, height: Double = 260) -> String {
        let left = 56.0, right = 12.0, top = 12.0, bottom = 30.0
        let plotW = width - left - right, plotH = height - top - bottom
        let points = zip(chart.times, chart.values).compactMap { t, v in v.map { (t, $0) } }
        var svg = "<svg id=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(Pages.escape(chart.label)) over time\">"
        guard let firstTime = chart.times.first, let lastTime = chart.times.last, !points.isEmpty else {
            return svg + "<text x=\"20\" y=\"40\" fill=\"#aaa\">no measurements</text></svg>\n"
        }
        var low = points.map(\.1).min()!, high = points.map(\.1).max()!
        for extra in [chart.threshold, chart.bandLow, chart.bandHigh].compactMap({ $0 }) {
            low = min(low, extra)
            high = max(high, extra)
        }
        if high - low < 1e-9 { high += 0.5; low -= 0.5 }
        let pad = (high - low) * 0.08
        low -= pad
        high += pad
        let span = max(lastTime - firstTime, 1e-9)
        func x(_ t: Double) -> Double { left + (t - firstTime) / span * plotW }
        func y(_ v: Double) -> Double { top + (high - v) / (high - low) * plotH }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        if let a = chart.bandLow, let b = chart.bandHigh {
            svg += "<rect class=\"band\" x=\"\(f(left))\" y=\"\(f(y(max(a, b))))\" width=\"\(f(plotW))\" height=\"\(f(abs(y(a) - y(b))))\" fill=\"#f5b800\" fill-opacity=\"0.18\"/>"
        }
        if let threshold = chart.threshold {
            svg += "<line class=\"threshold\" x1=\"\(f(left))\" x2=\"\(f(left + plotW))\" y1=\"\(f(y(threshold)))\" y2=\"\(f(y(threshold)))\" stroke=\"#f5b800\" stroke-dasharray=\"6 4\"/>"
        }
        // Axes with min/max labels.
        svg += "<line x1=\"\(f(left))\" x2=\"\(f(left))\" y1=\"\(f(top))\" y2=\"\(f(top + plotH))\" stroke=\"#555\"/>"
        svg += "<line x1=\"\(f(left))\" x2=\"\(f(left + plotW))\" y1=\"\(f(top + plotH))\" y2=\"\(f(top + plotH))\" stroke=\"#555\"/>"
        svg += "<text x=\"4\" y=\"\(f(top + 10))\" fill=\"#aaa\" font-size=\"11\">\(String(format: "%.2f", high))</text>"
        svg += "<text x=\"4\" y=\"\(f(top + plotH))\" fill=\"#aaa\" font-size=\"11\">\(String(format: "%.2f", low))</text>"
        svg += "<text x=\"\(f(left))\" y=\"\(f(height - 8))\" fill=\"#aaa\" font-size=\"11\">\(String(format: "%.1f s", firstTime))</text>"
        svg += "<text x=\"\(f(left + plotW - 40))\" y=\"\(f(height - 8))\" fill=\"#aaa\" font-size=\"11\">\(String(format: "%.1f s", lastTime))</text>"
        svg += "<text x=\"\(f(left + plotW / 2 - 20))\" y=\"\(f(height - 8))\" fill=\"#aaa\" font-size=\"11\">\(Pages.escape(chart.unit))</text>"
        // The signal: one polyline per run of measured samples.
        var runs: [[(Double, Double)]] = [[]]
        for (t, v) in zip(chart.times, chart.values) {
            if let v { runs[runs.count - 1].append((t, v)) } else if !runs[runs.count - 1].isEmpty { runs.append([]) }
        }
        for run in runs where !run.isEmpty {
            svg += "<polyline class=\"signal\" fill=\"none\" stroke=\"#8cf\" stroke-width=\"2\" points=\""
                + run.map { "\(f(x($0.0))),\(f(y($0.1)))" }.joined(separator: " ") + "\"/>"
        }
        if let bottom = chart.bottomTime {
            svg += "<line id=\"bottom-marker\" class=\"bottom\" x1=\"\(f(x(bottom)))\" x2=\"\(f(x(bottom)))\" y1=\"\(f(top))\" y2=\"\(f(top + plotH))\" stroke=\"#f66\" stroke-width=\"2\"/>"
            svg += "<text x=\"\(f(x(bottom) + 4))\" y=\"\(f(top + 12))\" fill=\"#f66\" font-size=\"11\">bottom \(String(format: "%.2f s", bottom))</text>"
        }
        return svg + "</svg>\n"
    }
}
