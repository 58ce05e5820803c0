import Foundation
import Judging

/// The lift's main signal over time, kept on the decision record for the replay page's chart:
/// squats plot the depth (hip below the top of the knee, in thigh lengths, with the rule's threshold and
/// review band); bench presses and deadlifts plot the bar height (wrists) in pixels, up = higher.
/// At most `maximumPoints` samples (min/max-preserving downsampling, so the bottom is never shaved).
public struct DecisionChart: Codable, Sendable, Equatable {
    public static let maximumPoints = 240

    /// What is plotted, e.g. "Depth: hip below knee top".
    public var label: String
    /// `thigh` or `px`.
    public var unit: String
    /// Seconds from the start of the clip.
    public var times: [Double]
    /// One value per time; nil where the lifter was not measured.
    public var values: [Double?]
    /// When the bottom of the lift was (the chart marks it).
    public var bottomTime: Double?
    /// The rule's pass line and review band (squat depth), in `unit`.
    public var threshold: Double?
    public var bandLow: Double?
    public var bandHigh: Double?

    public init(label: String, unit: String, times: [Double], values: [Double?], bottomTime: Double?,
                threshold: Double? = nil, bandLow: Double? = nil, bandHigh: Double? = nil) {
        self.label = label
        self.unit = unit
        self.times = times
        self.values = values
        self.bottomTime = bottomTime
        self.threshold = threshold
        self.bandLow = bandLow
        self.bandHigh = bandHigh
    }

    /// The chart of a judged lift; nil when nothing was measured.
    public static func from(_ analysis: Analysis) -> DecisionChart? {
        let verdict = analysis.verdict
        let bottom = verdict.keyFrames.bottom?.time
        if verdict.lift == .squat, analysis.frames.contains(where: { $0.depthMarginThigh != nil }) {
            let rule = verdict.rule(.squatDepth)
            let (times, values) = downsample(analysis.frames.map { ($0.time, $0.depthMarginThigh) })
            return DecisionChart(label: "Depth: hip below knee top", unit: "thigh", times: times, values: values,
                                 bottomTime: bottom, threshold: rule?.threshold, bandLow: rule?.reviewLow, bandHigh: rule?.reviewHigh)
        }
        guard analysis.frames.contains(where: { $0.trackedY != nil }) else { return nil }
        // Image y grows downwards: plot the negated y so that up on the chart is up in the video.
        let (times, values) = downsample(analysis.frames.map { ($0.time, $0.trackedY.map { -$0 }) })
        let label = verdict.lift == .squat ? "Hip height" : "Bar height (wrists)"
        return DecisionChart(label: label, unit: "px", times: times, values: values, bottomTime: bottom)
    }

    /// Keeps at most `maximumPoints` samples: each bucket of consecutive samples keeps its minimum and its
    /// maximum (in time order), so extremes such as the bottom of a squat survive.
    static func downsample(_ samples: [(Double, Double?)]) -> ([Double], [Double?]) {
        let limit = maximumPoints
        guard samples.count > limit else { return (samples.map(\.0), samples.map(\.1)) }
        let buckets = limit / 2
        var times: [Double] = []
        var values: [Double?] = []
        for b in 0..<buckets {
            let lo = b * samples.count / buckets
            let hi = (b + 1) * samples.count / buckets
            let bucket = samples[lo..<hi]
            let measured = bucket.filter { $0.1 != nil }
            guard let minimum = measured.min(by: { $0.1! < $1.1! }), let maximum = measured.max(by: { $0.1! < $1.1! }) else {
                times.append(bucket.first!.0)
                values.append(nil)
                continue
            }
            for sample in [minimum, maximum].sorted(by: { $0.0 < $1.0 }) where times.last != sample.0 {
                times.append(sample.0)
                values.append(sample.1)
            }
        }
        return (times, values)
    }
}
