import Imaging
@testable import Replay
import Testing

/// When frames drawn from provisional judgments may stay in the final replay (pure: overlays only).
@Suite("Provisional replay frames against the final judgment")
struct ReplayAgreementTests {
    private let agreement = ReplayAgreement(shift: 3, gaugeTolerance: 0.01)

    /// `labels[i]` is frame i's phase; `marks[i]` its first checklist row; `gauge[i]` its depth reading.
    private func overlays(_ labels: [String], marks: [String]? = nil, gauge: [Double]? = nil,
                          caption: Int? = nil) -> [FrameOverlay] {
        labels.indices.map { i in
            let label = "SQUAT · \(labels[i])"
            var o = FrameOverlay(frame: i, lifter: 0, label: label, banner: label + "   \(i)")
            o.checklist = [FrameOverlay.Row(text: marks?[i] ?? "· DEPTH", color: .gray)]
            if let v = gauge?[i] {
                o.gauge = FrameOverlay.Gauge(top: 30, height: 360, bandLowRow: 200, bandHighRow: 230,
                                             marker: FrameOverlay.Marker(row: Int(v * 100), text: String(format: "%+.2f", v),
                                                                         color: v > 0 ? .green : .red, value: v))
            }
            if i == caption { o.freezeCaption = "BOTTOM" }
            return o
        }
    }

    private let final = Array(repeating: "SETUP", count: 10) + Array(repeating: "DESCENT", count: 10)
        + Array(repeating: "BOTTOM", count: 5)

    @Test("a switch in the last `shift` frames about to be drawn waits for the next step; earlier ones are drawn")
    func drawableHoldsBackLateSwitches() {
        let labels = Array(repeating: "SETUP", count: 10) + Array(repeating: "DESCENT", count: 10)
        let all = overlays(labels)
        // The switch (frame 10) is the last frame of the batch, or within `shift` (3) of its end.
        #expect(agreement.drawable(Array(all[0..<11]), after: nil) == 10)
        #expect(agreement.drawable(Array(all[0..<13]), after: nil) == 10)
        // Further from the end: everything.
        #expect(agreement.drawable(Array(all[0..<14]), after: nil) == 14)
        // A batch that starts with the switch, relative to the frame drawn before it.
        #expect(agreement.drawable(Array(all[10..<12]), after: all[9]) == 0)
        #expect(agreement.drawable(Array(all[10..<15]), after: all[9]) == 5)
        #expect(agreement.drawable(Array(all[11..<13]), after: all[10]) == 2)
        // A checklist row that switches counts like the label; the banner (the time) does not.
        let marks = (0..<8).map { $0 < 6 ? "· DEPTH" : "✓ DEPTH" }
        #expect(agreement.drawable(overlays(Array(repeating: "BOTTOM", count: 8), marks: marks), after: nil) == 6)
        #expect(agreement.drawable(overlays(Array(repeating: "BOTTOM", count: 8)), after: nil) == 8)
        #expect(agreement.drawable([], after: all[0]) == 0)
    }

    @Test("frames drawn exactly as the final judgment draws them stay")
    func identical() {
        let all = overlays(final)
        #expect(agreement.accepts(drawn: Array(all.prefix(18)), reference: all))
        #expect(agreement.accepts(drawn: all, reference: all))
        #expect(agreement.accepts(drawn: [], reference: all))
    }

    @Test("a phase that begins up to `shift` frames away still agrees; further away it does not")
    func switchTiming() {
        let reference = overlays(final)
        for moved in [-3, -1, 1, 3] {
            let labels = (0..<final.count).map { $0 < 10 + moved ? "SETUP" : ($0 < 20 ? "DESCENT" : "BOTTOM") }
            #expect(agreement.accepts(drawn: Array(overlays(labels).prefix(16)), reference: reference), "moved \(moved)")
        }
        for moved in [-4, 4, 6] {
            let labels = (0..<final.count).map { $0 < 10 + moved ? "SETUP" : ($0 < 20 ? "DESCENT" : "BOTTOM") }
            #expect(!agreement.accepts(drawn: Array(overlays(labels).prefix(16)), reference: reference), "moved \(moved)")
        }
    }

    @Test("a drawn switch just before the end of what was drawn matches the final's just after it")
    func switchAtTheEdge() {
        let reference = overlays(final)
        // Drawn up to frame 10, switching at 9; the final switches at 10, one frame after.
        let early = overlays((0..<final.count).map { $0 < 9 ? "SETUP" : ($0 < 20 ? "DESCENT" : "BOTTOM") })
        #expect(agreement.accepts(drawn: Array(early.prefix(10)), reference: reference))
    }

    @Test("a flicker (a phase left and entered again) or a phase the final never shows does not agree")
    func flickerAndOtherValues() {
        let reference = overlays(final)
        var flicker = final
        flicker[11] = "SETUP"
        #expect(!agreement.accepts(drawn: Array(overlays(flicker).prefix(16)), reference: reference))
        var other = final
        other[5] = "UNKNOWN"
        #expect(!agreement.accepts(drawn: Array(overlays(other).prefix(16)), reference: reference))
    }

    @Test("a rule mark may switch a frame or two away, but never to another status")
    func ruleMarks() {
        let finalMarks = (0..<final.count).map { $0 < 14 ? "· DEPTH" : "✓ DEPTH" }
        let reference = overlays(final, marks: finalMarks)
        let late = (0..<final.count).map { $0 < 16 ? "· DEPTH" : "✓ DEPTH" }
        #expect(agreement.accepts(drawn: overlays(final, marks: late), reference: reference))
        let failed = (0..<final.count).map { $0 < 14 ? "· DEPTH" : "✗ DEPTH" }
        #expect(!agreement.accepts(drawn: overlays(final, marks: failed), reference: reference))
    }

    @Test("the gauge may read one hundredth of a thigh away, across a band edge too, no more")
    func gauge() {
        let values = final.indices.map { -0.5 + Double($0) * 0.04 }
        let reference = overlays(final, gauge: values)
        #expect(agreement.accepts(drawn: overlays(final, gauge: values.map { $0 + 0.006 }), reference: reference))
        #expect(!agreement.accepts(drawn: overlays(final, gauge: values.map { $0 + 0.02 }), reference: reference))
        // Across zero the colour changes (red to green): kept within the tolerance, not beyond it.
        var flipped = values
        flipped[12] = 0.001
        var finalFlipped = values
        finalFlipped[12] = -0.001
        #expect(agreement.accepts(drawn: overlays(final, gauge: flipped), reference: overlays(final, gauge: finalFlipped)))
        flipped[12] = 0.012
        #expect(!agreement.accepts(drawn: overlays(final, gauge: flipped), reference: overlays(final, gauge: finalFlipped)))
    }

    @Test("the held frame, the lifter and the number of frames must agree exactly")
    func fixedParts() {
        let reference = overlays(final, caption: 22)
        #expect(agreement.accepts(drawn: overlays(final, caption: 22), reference: reference))
        #expect(!agreement.accepts(drawn: overlays(final, caption: 21), reference: reference))
        var otherLifter = overlays(final, caption: 22)
        otherLifter[3].lifter = 1
        #expect(!agreement.accepts(drawn: otherLifter, reference: reference))
        // More frames drawn than the reference judged.
        #expect(!agreement.accepts(drawn: overlays(final + ["BOTTOM"]), reference: overlays(final)))
    }
}
