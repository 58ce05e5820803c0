import Foundation
import Imaging
import Judging
import PoseData

/// Draws the annotated replay of a judged lift, frame by frame, from the pose track and the judge's
/// analysis: the lifter's skeleton (others faded), a phase banner, a live depth gauge (squats), hip
/// and knee reference lines from the bottom frame on, a rule checklist that fills in as each rule is
/// decided, a short freeze at the bottom and a final verdict card with the lights and the reasons.
/// Pure drawing: no I/O. Frames must be rendered in order.
public struct ReplayRenderer: Sendable {
    public struct Options: Sendable {
        /// How long the bottom frame is held (seconds of video).
        public var freezeSeconds = 1.0
        /// How long the verdict card is shown at the end.
        public var cardSeconds = 3.0
        public init() {}
    }

    public let analysis: Analysis
    public let track: PoseTrack
    public let options: Options
    private let byFrame: [Int: FrameAnalysis]
    private let posesByFrame: [Int: PoseFrame]
    /// Hip and knee heights (px) of the lifter at the bottom frame, for the reference lines.
    private let bottomLines: (hip: Double, knee: Double)?

    public init(analysis: Analysis, track: PoseTrack, options: Options = Options()) {
        self.analysis = analysis
        self.track = track
        self.options = options
        byFrame = Dictionary(analysis.frames.map { ($0.frame, $0) }, uniquingKeysWith: { a, _ in a })
        posesByFrame = Dictionary(track.frames.map { ($0.index, $0) }, uniquingKeysWith: { a, _ in a })
        var lines: (Double, Double)?
        if let bottom = analysis.verdict.keyFrames.bottom,
           let fa = byFrame[bottom.frame], let li = fa.lifterPerson,
           let pf = posesByFrame[bottom.frame], li < pf.people.count {
            let p = pf.people[li]
            lines = ((p[.leftHip].y + p[.rightHip].y) / 2, (p[.leftKnee].y + p[.rightKnee].y) / 2)
        }
        bottomLines = lines
    }

    public var verdict: Verdict { analysis.verdict }
    private var fps: Double { track.fps > 0 ? track.fps : 30 }

    /// Number of copies of the bottom frame to insert after it.
    public var freezeFrameCount: Int { verdict.keyFrames.bottom == nil ? 0 : Int((options.freezeSeconds * fps).rounded()) }
    /// Number of verdict-card frames appended at the end.
    public var cardFrameCount: Int { max(1, Int((options.cardSeconds * fps).rounded())) }
    /// Whether `frame` is the one to hold.
    public func isBottom(_ frame: Int) -> Bool { verdict.keyFrames.bottom?.frame == frame }

    // MARK: Per-frame overlay

    /// Draws frame `index`'s overlay on its picture: `draw(overlay(…))`.
    public func render(frame index: Int, time: Double, on image: inout RGBImage) {
        draw(overlay(frame: index, time: time, height: image.height), on: &image)
    }

    /// Everything the overlay of frame `index` shows, as values, for a picture `height` pixels high.
    /// Two renderers that give equal overlays for a frame draw the same pixels on it: the
    /// speculative replay relies on that to check frames drawn before the lift was fully judged.
    public func overlay(frame index: Int, time: Double, height: Int) -> FrameOverlay {
        let fa = byFrame[index]
        let lift = (verdict.lift?.rawValue ?? "lift").uppercased()
        let phase = (fa?.phase ?? .unknown).rawValue.uppercased()
        let label = "\(lift) · \(phase)"
        var o = FrameOverlay(frame: index, lifter: fa?.lifterPerson, label: label,
                             banner: label + String(format: "   %.2fS", time))
        if let lines = bottomLines, let bottom = verdict.keyFrames.bottom, index >= bottom.frame {
            o.lines = FrameOverlay.Lines(hip: lines.hip, knee: lines.knee)
        }
        if verdict.lift == .squat { o.gauge = gauge(current: fa?.depthMarginThigh, height: height) }
        // A rule's row: its mark once decided (`status`), a grey dot until then.
        func row(_ id: RuleID, _ status: RuleStatus?) -> FrameOverlay.Row {
            let (mark, color) = status.map(Self.mark) ?? ("·", RGB.gray)
            return FrameOverlay.Row(text: "\(mark) \(Self.ruleName(id))", color: color)
        }
        o.checklist = verdict.rules.map { rule in
            let timing = analysis.ruleTimings.first { $0.id == rule.id }
            let decided = timing?.decidedFrame.map { index >= $0 } ?? false
            return row(rule.id, decided ? rule.status : nil)
        } + analysis.pendingRules.map { row($0, nil) }
        if isBottom(index) && freezeFrameCount > 0 {
            var text = "BOTTOM"
            if let depth = verdict.rules.first(where: { $0.id == .squatDepth }), let v = depth.value {
                text += String(format: "  DEPTH %+.2f THIGH (NEED %+.2f)", v, depth.threshold)
            }
            o.freezeCaption = text
        }
        return o
    }

    /// Draws `o` on its frame's picture.
    public func draw<Canvas: OverlayCanvas>(_ o: FrameOverlay, on image: inout Canvas) {
        let s = max(1, image.height / 360)
        if let pf = posesByFrame[o.frame] {
            for (i, p) in pf.people.enumerated() where i != o.lifter {
                drawSkeleton(p, on: &image, color: .gray, alpha: 0.45)
            }
            if let l = o.lifter, l < pf.people.count {
                drawSkeleton(pf.people[l], on: &image, color: .cyan, alpha: 1)
            }
        }
        if let lines = o.lines {
            image.drawDashedHorizontal(y: lines.hip, .orange, dash: 10 * s, gap: 6 * s, thickness: Double(s))
            image.drawDashedHorizontal(y: lines.knee, .yellow, dash: 10 * s, gap: 6 * s, thickness: Double(s))
            // Labels at the right edge, side by side so they never overlap when the lines are close.
            let right = image.width - 40 * s - RGBImage.textWidth("HIP KNEE", scale: s)
            image.drawText("HIP", x: right, y: Int(lines.hip) - 9 * s, scale: s, .orange, shadow: true)
            image.drawText("KNEE", x: right + RGBImage.textWidth("HIP ", scale: s), y: Int(lines.knee) - 9 * s,
                           scale: s, .yellow, shadow: true)
        }
        image.fillRect(x: 0, y: 0, width: RGBImage.textWidth(o.banner, scale: 2 * s) + 12 * s, height: 20 * s,
                       .black, alpha: 0.6)
        image.drawText(o.banner, x: 6 * s, y: 3 * s, scale: 2 * s, .white, shadow: true)
        if let g = o.gauge { drawGauge(g, on: &image) }
        drawChecklist(o.checklist, on: &image)
    }

    /// The bottom frame held: the rendered frame plus `o.freezeCaption` (the measured depth).
    public func drawFreezeCaption<Canvas: OverlayCanvas>(_ o: FrameOverlay, on image: inout Canvas) {
        guard let text = o.freezeCaption else { return }
        let s = max(1, image.height / 360)
        let w = RGBImage.textWidth(text, scale: 2 * s) + 12 * s
        let x = (image.width - w) / 2, y = 30 * s
        image.fillRect(x: x, y: y, width: w, height: 22 * s, .black, alpha: 0.7)
        image.drawText(text, x: x + 6 * s, y: y + 4 * s, scale: 2 * s, .white, shadow: true)
    }

    // MARK: Verdict card

    /// The final card drawn over (a darkened copy of) the last frame.
    public func verdictCard(over last: RGBImage) -> RGBImage {
        var image = last
        image.fillRect(x: 0, y: 0, width: image.width, height: image.height, .black, alpha: 0.72)
        let s = max(1, image.height / 360)
        let light: RGB, title: String
        switch verdict.decision {
        case .goodLift: (light, title) = (.white, "GOOD LIFT")
        case .noLift: (light, title) = (.red, "NO LIFT")
        case .needsReview: (light, title) = (.yellow, "NEEDS REVIEW")
        }
        // Three referee lights.
        let r = Double(18 * s), cy = Double(70 * s), cx = Double(image.width) / 2
        for k in -1...1 {
            image.fillCircle(cx + Double(k) * 3 * r, cy, radius: r + Double(2 * s), RGB(60, 60, 60))
            image.fillCircle(cx + Double(k) * 3 * r, cy, radius: r, light)
        }
        let liftName = (verdict.lift?.rawValue ?? "lift").uppercased()
        centered("\(liftName): \(title)", y: 100 * s, scale: 3 * s, light, on: &image)
        var y = 135 * s
        for line in verdict.reasons.prefix(4) {
            for wrapped in wrap(line, width: max(20, (image.width - 24 * s) / (6 * s))) .prefix(2) {
                centered(wrapped, y: y, scale: s, .white, on: &image)
                y += 11 * s
            }
        }
        y += 6 * s
        for rule in verdict.rules {
            let (mark, color) = Self.mark(rule.status)
            var text = "\(mark) \(Self.ruleName(rule.id))"
            if let v = rule.value { text += String(format: "  %.2f %@ (LIMIT %.2f)", v, rule.unit.rawValue, rule.threshold) }
            centered(text, y: y, scale: s, color, on: &image)
            y += 10 * s
        }
        return image
    }

    // MARK: Pieces

    private func drawSkeleton<Canvas: OverlayCanvas>(_ p: PersonPose, on image: inout Canvas, color: RGB, alpha: Double) {
        guard p.landmarks.count == BlazePoseLandmark.count else { return }
        let t = max(2, Double(image.height) / 240)
        for (a, b) in BlazePoseLandmark.bones {
            let v = min(p[a].visibility, p[b].visibility)
            image.drawLine(p[a].x, p[a].y, p[b].x, p[b].y, color, thickness: t, alpha: alpha * (v > 0.5 ? 1 : 0.35))
        }
        for l in [BlazePoseLandmark.leftHip, .rightHip, .leftKnee, .rightKnee, .leftAnkle, .rightAnkle,
                  .leftShoulder, .rightShoulder, .leftElbow, .rightElbow, .leftWrist, .rightWrist] {
            image.fillCircle(p[l].x, p[l].y, radius: t * 1.3, .white, alpha: alpha)
        }
    }

    /// A vertical gauge on the right: the hip-minus-knee depth in thigh lengths, deeper = lower,
    /// with the review band (amber) around the depth threshold. Rows are for a picture `height` high.
    private func gauge(current: Double?, height: Int) -> FrameOverlay.Gauge {
        let s = max(1, height / 360)
        let range = (-0.6, 0.6)
        let gy = 30 * s, gh = height / 2
        func yFor(_ v: Double) -> Int {
            let t = (min(range.1, max(range.0, v)) - range.0) / (range.1 - range.0)
            return gy + Int(t * Double(gh))
        }
        // The review band the judge actually used (it widens on noisy tracks).
        let cfg = verdict.config
        let depthRule = verdict.rules.first { $0.id == .squatDepth }
        let bandLow = depthRule?.reviewLow ?? (cfg.depthOffset - cfg.depthBand)
        let bandHigh = depthRule?.reviewHigh ?? (cfg.depthOffset + cfg.depthBand)
        var g = FrameOverlay.Gauge(top: gy, height: gh, bandLowRow: yFor(bandLow), bandHighRow: yFor(bandHigh))
        if let v = current {
            let color: RGB = v >= bandHigh ? .green : (v <= bandLow ? .red : .yellow)
            g.marker = FrameOverlay.Marker(row: yFor(v), text: String(format: "%+.2f", v), color: color, value: v)
        }
        return g
    }

    private func drawGauge<Canvas: OverlayCanvas>(_ g: FrameOverlay.Gauge, on image: inout Canvas) {
        let s = max(1, image.height / 360)
        let gx = image.width - 34 * s, gy = g.top, gw = 14 * s, gh = g.height
        let lo = g.bandLowRow, hi = g.bandHighRow
        image.fillRect(x: gx, y: gy, width: gw, height: gh, .black, alpha: 0.5)
        image.fillRect(x: gx, y: gy, width: gw, height: lo - gy, .red, alpha: 0.35)
        image.fillRect(x: gx, y: lo, width: gw, height: hi - lo, .yellow, alpha: 0.6)
        image.fillRect(x: gx, y: hi, width: gw, height: gy + gh - hi, .green, alpha: 0.35)
        image.strokeRect(x: gx, y: gy, width: gw, height: gh, .white, thickness: 1)
        image.drawText("DEPTH", x: gx - 8 * s, y: gy - 10 * s, scale: s, .white, shadow: true)
        if let m = g.marker {
            image.fillRect(x: gx - 3 * s, y: m.row - s, width: gw + 6 * s, height: 3 * s, m.color, alpha: 1)
            image.drawText(m.text, x: gx - 26 * s, y: m.row - 3 * s, scale: s, m.color, shadow: true)
        }
    }

    private func drawChecklist<Canvas: OverlayCanvas>(_ rows: [FrameOverlay.Row], on image: inout Canvas) {
        guard !rows.isEmpty else { return }
        let s = max(1, image.height / 360)
        let rowH = 10 * s
        // From the rows themselves, so that equal overlays draw equal boxes (a partial analysis lists
        // its rules as pending, not in the verdict).
        let longest = rows.map(\.text.count).max() ?? 10
        let w = longest * 6 * s + 8 * s, h = rowH * rows.count + 6 * s
        let x = 4 * s, y = image.height - h - 4 * s
        image.fillRect(x: x, y: y, width: w, height: h, .black, alpha: 0.55)
        for (i, row) in rows.enumerated() {
            image.drawText(row.text, x: x + 4 * s, y: y + 4 * s + i * rowH, scale: s, row.color, shadow: true)
        }
    }

    private func centered(_ text: String, y: Int, scale: Int, _ c: RGB, on image: inout RGBImage) {
        image.drawText(text, x: (image.width - RGBImage.textWidth(text, scale: scale)) / 2, y: y, scale: scale, c)
    }

    private func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = [], current = ""
        for word in text.split(separator: " ") {
            if current.count + word.count + 1 > width, !current.isEmpty {
                lines.append(current)
                current = ""
            }
            current += (current.isEmpty ? "" : " ") + word
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    static func mark(_ status: RuleStatus) -> (String, RGB) {
        switch status {
        case .passed: ("✓", .green)
        case .failed: ("✗", .red)
        case .unknown: ("?", .yellow)
        }
    }

    /// A short human name for a rule ("squat_depth" → "DEPTH").
    public static func ruleName(_ id: RuleID) -> String {
        id.shortName.uppercased()
    }
}

/// What one replay frame's overlay shows (see `ReplayRenderer.overlay`): the values the drawing is
/// made from, rounded to what is drawn (pixel rows, formatted text).
public struct FrameOverlay: Sendable, Equatable {
    public struct Lines: Sendable, Equatable {
        public var hip: Double
        public var knee: Double
    }
    public struct Marker: Sendable, Equatable {
        public var row: Int
        public var text: String
        public var color: RGB
        /// The measured value the row and text show (not drawn itself, so not compared by `==`).
        public var value: Double

        public static func == (a: Marker, b: Marker) -> Bool { a.row == b.row && a.text == b.text && a.color == b.color }
    }
    public struct Gauge: Sendable, Equatable {
        public var top: Int
        public var height: Int
        public var bandLowRow: Int
        public var bandHighRow: Int
        public var marker: Marker?
    }
    public struct Row: Sendable, Equatable {
        public var text: String
        public var color: RGB
    }

    public var frame: Int
    /// Index into the frame's people of the lifter (drawn bright; the others faded).
    public var lifter: Int?
    /// The banner's lift and phase ("SQUAT · DESCENT").
    public var label: String
    /// `label` and the frame's time: the text drawn at the top left.
    public var banner: String
    /// Hip and knee reference lines, from the bottom frame on.
    public var lines: Lines?
    /// Squats only.
    public var gauge: Gauge?
    public var checklist: [Row] = []
    /// Set on the bottom frame: the caption of the held copies that follow it.
    public var freezeCaption: String?

    /// Whether `other` shows the same, except that the depth gauge's marker may show a value up to
    /// `gaugeTolerance` away (one step of its two-decimal text when the tolerance is 0.01, and the
    /// other colour when a band edge lies between the two readings), the reference lines may lie up to
    /// `linesTolerance` pixels away, and the label and checklist are not compared (`ReplayAgreement`
    /// compares their switches).
    func sameFixedParts(as other: FrameOverlay, gaugeTolerance: Double, linesTolerance: Double) -> Bool {
        guard frame == other.frame, lifter == other.lifter, freezeCaption == other.freezeCaption,
              checklist.count == other.checklist.count else { return false }
        switch (lines, other.lines) {
        case (nil, nil): break
        case let (a?, b?): guard abs(a.hip - b.hip) <= linesTolerance, abs(a.knee - b.knee) <= linesTolerance else { return false }
        default: return false
        }
        switch (gauge, other.gauge) {
        case (nil, nil): return true
        case let (a?, b?):
            guard a.top == b.top, a.height == b.height, a.bandLowRow == b.bandLowRow, a.bandHighRow == b.bandHighRow
            else { return false }
            switch (a.marker, b.marker) {
            case (nil, nil): return true
            case let (x?, y?): return x == y || abs(x.value - y.value) <= gaugeTolerance + 1e-9
            default: return false
            }
        default: return false
        }
    }
}
