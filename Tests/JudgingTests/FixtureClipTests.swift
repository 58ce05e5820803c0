// The rendered squat clips with known truth: Judging on their truth landmarks (read in place from
// <repo>/../shared/fixtures/lifts) with BlazePose-like noise must give the verdicts of expected.json.

import Foundation
import PoseData
import Testing
@testable import Judging

@Suite("Fixture clips (truth landmarks)",
       .enabled(if: FixtureClips.available,
                "needs the internal squat fixtures in <repo>/../shared/fixtures/lifts (or REFVISION_LIFT_FIXTURES)"))
struct FixtureClipTests {
    static let seeds: [UInt64] = Array(1...10)
    static let expectations: [FixtureClips.Expectation] = (try? FixtureClips.expectations()) ?? []

    /// "either" = inside the uncertainty of joint-centre depth: good_lift or needs_review, never no_lift.
    static func acceptable(_ expect: String) -> Set<Decision> {
        switch expect {
        case "good_lift": [.goodLift]
        case "no_lift": [.noLift]
        case "either": [.goodLift, .needsReview]
        default: []
        }
    }

    @Test func allEightClipsAreListed() {
        #expect(Self.expectations.count == 8)
    }

    @Test("each clip gets its expected verdict, noiseless and with 10 noise seeds",
          arguments: expectations.map(\.name))
    func expectedVerdict(name: String) throws {
        let e = try #require(Self.expectations.first { $0.name == name })
        let truth = try FixtureClips.truth(e.name)
        let allowed = Self.acceptable(e.expect)
        try #require(!allowed.isEmpty, "unknown expectation \(e.expect)")
        var decisions: [Decision] = []
        var depths: [Double] = []
        for seed in [UInt64(0)] + Self.seeds {
            let noise = seed == 0 ? FixtureClips.Noise.none : FixtureClips.Noise()
            let track = FixtureClips.track(truth, name: e.name, noise: noise, seed: seed)
            let a = analyze(track)
            let v = a.verdict
            decisions.append(v.decision)
            #expect(allowed.contains(v.decision),
                    "\(e.name) seed \(seed): \(v.decision.rawValue), expected \(e.expect): \(v.reasons)")
            #expect(v.lift == .squat && v.liftSource == .key)
            if let d = v.rule(.squatDepth)?.value { depths.append(d) }
            if e.bounce {
                #expect(v.rule(.squatSingleBottom)?.status == .failed)
                #expect(v.rule(.squatNoDownwardAscent)?.status == .failed)
            }
            guard seed == 0 else { continue }
            // Noiseless: the measured depth is the truth's (the smoother keeps the bottom), the body
            // scale and view are right, and the phases run in order.
            let depth = try #require(v.rule(.squatDepth))
            let value = try #require(depth.value)
            #expect(abs(value - truth.bottom_margin_px / e.thigh_px) < 0.02,
                    "\(e.name): depth \(value) vs truth \(truth.bottom_margin_px / e.thigh_px)")
            #expect(abs((v.scale?.thighPx ?? 0) - e.thigh_px) < 3)
            #expect(v.view == .front)
            let bottom = try #require(v.keyFrames.bottom)
            let frames = Set(truth.frames.filter { abs($0.margin_px - truth.bottom_margin_px) < 0.5 }.map(\.i))
            #expect(frames.contains(bottom.frame) || abs(bottom.frame - truth.bottom_frame) <= 3,
                    "bottom at \(bottom.frame), truth \(truth.bottom_frame)")
            let order: [LiftPhase] = [.setup, .descent, .bottom, .ascent, .lockout]
            let seen = a.frames.map(\.phase).reduce(into: [LiftPhase]()) { if $0.last != $1 { $0.append($1) } }
            if !e.bounce { #expect(seen == order, "\(seen)") }
            // The per-frame gauge agrees with the truth's margin.
            for (f, t) in zip(a.frames, truth.frames) {
                if let m = f.depthMarginPx { #expect(abs(m - t.margin_px) < 1.5, "frame \(f.frame)") }
            }
        }
        let counts = Dictionary(grouping: decisions, by: { $0.rawValue }).mapValues(\.count)
        print("fixture \(e.name): expected \(e.expect); truth \(e.margin_thigh) → depth "
              + "\(fmt(depths.min() ?? .nan, 3))…\(fmt(depths.max() ?? .nan, 3)); \(counts)")
    }
}
