// Judging a clip while it arrives (the replay drawn during inference judges every growing prefix):
// what a prefix's analysis says about its frames must be what the whole clip's analysis says.

import PoseData
import Testing
@testable import Judging

@Suite("Judging a clip while it arrives")
struct PartialAnalysisTests {
    /// A squat with a long, noisy set-up (3 s standing before the descent).
    static func longSetup(seed: UInt64, yaw: Double) -> SyntheticClip {
        var s = SquatSpec(depth: 0.3, yaw: yaw)
        s.standBefore = 3
        s.noise.jitterPx = 1.5
        return s.clip(seed: seed)
    }

    static func prefix(_ track: PoseTrack, _ n: Int) -> PoseTrack {
        PoseTrack(source: track.source, width: track.width, height: track.height, fps: track.fps,
                  frames: Array(track.frames.prefix(n)))
    }

    @Test("before the lifter moves, a partial analysis shows the frames as the whole clip's does: set-up, the gauge, the squat's rules not judged yet",
          arguments: [(UInt64(1), 10.0), (2, 45), (3, 85)])
    func setupBeforeMovement(seed: UInt64, yaw: Double) throws {
        let clip = Self.longSetup(seed: seed, yaw: yaw)
        let whole = Judge().analyze(clip.track, lift: .squat)
        let start = try #require(whole.verdict.keyFrames.start, "\(whole.verdict.reasons)")
        #expect(whole.pendingRules.isEmpty, "only partial analyses list pending rules")
        var checked = 0
        for n in stride(from: 15, to: start.frame - 5, by: 10) {
            let track = Self.prefix(clip.track, n)
            let partial = Judge().analyze(track, lift: .squat, partial: true)
            // The lifter is chosen after about a second of a person standing there.
            guard partial.verdict.lifterTrackId != nil else {
                #expect(n <= 45, "no lifter after \(n) frames")
                continue
            }
            // The verdict is the same as without `partial`: nothing found yet.
            #expect(partial.verdict == Judge().analyze(track, lift: .squat).verdict)
            #expect(partial.verdict.keyFrames.start == nil)
            #expect(partial.pendingRules == whole.verdict.rules.map(\.id), "prefix of \(n) frames")
            // Frames half a second or more behind the newest (the speculative replay draws set-up
            // frames a second behind): the newest ones are smoothed from one side only.
            for (p, w) in zip(partial.frames.prefix(n - 15), whole.frames) where w.lifterPerson != nil {
                #expect(p.phase == .setup && w.phase == .setup, "frame \(p.frame) of \(n)")
                #expect(p.lifterPerson == w.lifterPerson)
                let (a, b) = (try #require(p.depthMarginThigh), try #require(w.depthMarginThigh))
                #expect(abs(a - b) <= 0.01, "gauge at frame \(p.frame) of \(n): \(a) vs \(b)")
            }
            checked += 1
        }
        #expect(checked >= 5)
    }

    @Test("the depth scale is the set-up's: every prefix judged after the bottom gives the whole clip's thigh and depth",
          arguments: [UInt64(4), 5, 6])
    func depthSettlesAtTheBottom(seed: UInt64) throws {
        let clip = Self.longSetup(seed: seed, yaw: 30)
        let whole = Judge().judge(clip.track, lift: .squat)
        let bottom = try #require(whole.keyFrames.bottom)
        let depth = try #require(whole.rules.first { $0.id == .squatDepth }?.value)
        // Half a second after the bottom (the depth's quadratic fit has its frames), to the end: the
        // standing frames after the lockout no longer move the scale. (Which set-up frames count as
        // standing still depends on the standing level, a percentile of every frame, so the median
        // may move by a hundredth of a pixel when a frame at the set-up's end drops out.)
        let thigh = try #require(whole.scale?.thighPx)
        var checked = 0
        for n in stride(from: bottom.frame + 15, through: clip.track.frames.count, by: 6) {
            let v = Judge().judge(Self.prefix(clip.track, n), lift: .squat)
            let t = try #require(v.scale?.thighPx), d = try #require(v.rules.first { $0.id == .squatDepth }?.value)
            #expect(abs(t - thigh) <= 0.02, "thigh \(t) px vs \(thigh), prefix of \(n) frames")
            #expect(abs(d - depth) <= 0.0002, "depth \(d) vs \(depth), prefix of \(n) frames")
            checked += 1
        }
        #expect(checked >= 5)
    }

    @Test("a bench press or deadlift before the bar moves: set-up, the lift's rules pending, as the whole clip's analysis shows them",
          arguments: [LiftKind.bench, .deadlift])
    func otherLiftsBeforeMovement(kind: LiftKind) throws {
        let track: PoseTrack
        if kind == .bench {
            var s = BenchSpec(yaw: 80)
            s.holdBefore = 3
            s.noise.jitterPx = 1
            track = s.clip(seed: 8).track
        } else {
            var s = DeadliftSpec(yaw: 80)
            s.setup = 3
            s.noise.jitterPx = 1
            track = s.clip(seed: 9).track
        }
        let whole = Judge().analyze(track, lift: kind)
        let start = try #require(whole.verdict.keyFrames.start, "\(whole.verdict.reasons)")
        #expect(whole.verdict.rules.map(\.id) == kind.rules)
        var checked = 0
        for n in stride(from: 45, to: start.frame - 5, by: 10) {
            let partial = Judge().analyze(Self.prefix(track, n), lift: kind, partial: true)
            guard partial.verdict.lifterTrackId != nil else { continue }
            #expect(partial.pendingRules == kind.rules, "prefix of \(n) frames")
            for (p, w) in zip(partial.frames.prefix(n - 15), whole.frames) where w.lifterPerson != nil {
                #expect(p.phase == .setup && w.phase == .setup, "frame \(p.frame) of \(n)")
            }
            checked += 1
        }
        #expect(checked >= 5)
    }

    @Test("every lift's verdict lists its rules in LiftKind.rules order; a partial analysis of a lift under way lists none pending")
    func ruleOrder() throws {
        let squat = Self.longSetup(seed: 7, yaw: 60)
        let whole = Judge().analyze(squat.track, lift: .squat, partial: true)
        #expect(whole.verdict.keyFrames.start != nil)
        #expect(whole.pendingRules.isEmpty)
        #expect(whole.verdict.rules.map(\.id) == LiftKind.squat.rules)
        #expect(Set(LiftKind.allCases.flatMap(\.rules)) == Set(RuleID.allCases))
        for kind in LiftKind.allCases { #expect(kind.rules.allSatisfy { $0.lift == kind }) }
    }
}
