import Foundation
import Testing
@testable import Scaling

@Suite("SVG plot")
struct PlotTests {
    func meetDay(_ policy: ScalingPolicy) throws -> SimulationReport {
        var day = MeetDay()
        day.platforms = 2
        day.sessions = 1
        let jobs = Workload.jobs(for: try day.generate(seed: 2), service: .measured(policy), seed: 2)
        return try Simulator.run(jobs: jobs, policy: policy, environment: SimulationEnvironment(policy: policy), startTime: 0)
    }

    /// Every number in every `points` attribute, as (x, y) pairs.
    func points(_ svg: String) -> [(Double, Double)] {
        var out: [(Double, Double)] = []
        for chunk in svg.components(separatedBy: "points=\"").dropFirst() {
            let list = chunk.prefix { $0 != "\"" }
            for pair in list.split(separator: " ") {
                let xy = pair.split(separator: ",").compactMap { Double($0) }
                if xy.count == 2 { out.append((xy[0], xy[1])) }
            }
        }
        return out
    }

    @Test func drawsThreePanelsInsideTheViewBox() throws {
        let policy = try ScalingPolicy.deployed()
        let report = try meetDay(policy)
        let svg = SVGPlot.render([.init(label: "deployed", report: report)], title: "meet day",
                                 acceptableLatency: policy.targetTracking.acceptableLatencySeconds)
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.hasSuffix("</svg>\n"))
        #expect(svg.contains("Jobs waiting") && svg.contains("Tasks:") && svg.contains("latency"))
        #expect(svg.contains("acceptable latency 30 s"))
        let pts = points(svg)
        #expect(pts.count > report.timeline.count * 3)
        let height = SVGPlot.top + 3 * SVGPlot.panelHeight + 2 * SVGPlot.gap + 48
        #expect(pts.allSatisfy { $0.0 >= SVGPlot.left - 0.05 && $0.0 <= SVGPlot.width - SVGPlot.right + 0.05 })
        #expect(pts.allSatisfy { $0.1 >= 0 && $0.1 <= height })
        #expect(svg.components(separatedBy: "<polyline").count - 1 >= 4)
        // Deterministic output.
        #expect(svg == SVGPlot.render([.init(label: "deployed", report: report)], title: "meet day",
                                      acceptableLatency: policy.targetTracking.acceptableLatencySeconds))
    }

    @Test func comparisonDrawsTheSecondRunDashedAndEscapesText() throws {
        let policy = try ScalingPolicy.deployed()
        var other = policy
        other.targetTracking.disableScaleIn = true
        let a = try meetDay(policy), b = try meetDay(other)
        let svg = SVGPlot.render([.init(label: "A <deployed>", report: a), .init(label: "B & \"no scale-in\"", report: b)],
                                 title: "<script>alert(1)</script>", acceptableLatency: nil)
        #expect(!svg.contains("<script>"))
        #expect(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(svg.contains("A &lt;deployed&gt;") && svg.contains("B &amp; &quot;no scale-in&quot;"))
        #expect(svg.contains("stroke-dasharray=\"6 3\""))
        #expect(svg.contains(SVGPlot.colors[1]))
        #expect(!svg.contains("acceptable latency"))
    }

    @Test func aWindowHidesTheQuietNightButKeepsClockHours() throws {
        let policy = try ScalingPolicy.deployed()
        let report = try meetDay(policy)
        let svg = SVGPlot.render([.init(label: "deployed", report: report)], title: "t", acceptableLatency: nil,
                                 from: 8 * 3600, xLabel: "hour of the meet day")
        // x-axis ticks are centred; y-axis ticks are right-aligned.
        #expect(svg.contains("text-anchor=\"middle\">8</text>") && svg.contains("text-anchor=\"middle\">12</text>"))
        #expect(!svg.contains("text-anchor=\"middle\">6</text>") && !svg.contains("text-anchor=\"middle\">0</text>"))
        #expect(svg.contains("hour of the meet day"))
        #expect(points(svg).allSatisfy { $0.0 >= SVGPlot.left - 0.05 })
        // The first plotted minute is 8:00, at the left edge.
        let first = try #require(points(svg).first)
        #expect(abs(first.0 - SVGPlot.left) < 0.1)
    }

    @Test func niceAxisMaxima() {
        #expect(SVGPlot.niceMax(0) == 1)
        #expect(SVGPlot.niceMax(.nan) == 1)
        #expect(SVGPlot.niceMax(3) == 5)
        #expect(SVGPlot.niceMax(43) == 50)
        #expect(SVGPlot.niceMax(120) == 200)
        #expect(SVGPlot.niceMax(1000) == 1000)
    }
}
