// Bad input never crashes or hangs: it gets needs_review with a reason that says what was wrong.

import Foundation
import PoseData
import Testing
@testable import Judging
import Scaling

@Suite("Bad input")
struct BadInputTests {
    /// A clean side-view squat to break in various ways.
    static func goodSquat(seed: UInt64 = 1) -> SyntheticClip {
        var s = SquatSpec(depth: 0.3, yaw: 85)
        s.noise.jitterPx = 1
        return s.clip(seed: seed)
    }

    static func reviewed(_ v: Verdict, mentioning words: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(v.decision == .needsReview, "\(v.reasons)", sourceLocation: sourceLocation)
        #expect(v.reasons.contains { $0.localizedCaseInsensitiveContains(words) },
                "no reason mentions \"\(words)\": \(v.reasons)", sourceLocation: sourceLocation)
    }

    @Test func theCleanSquatIsGood() {
        #expect(judge(Self.goodSquat().track).decision == .goodLift)
    }

    @Test func emptyTrack() {
        let v = judge(PoseTrack(source: "squat.mp4", width: 1280, height: 720, fps: 30, frames: []))
        Self.reviewed(v, mentioning: "no frames")
        #expect(v.rules.isEmpty)
    }

    @Test func noPersonInAnyFrame() {
        let frames = (0..<90).map { PoseFrame(index: $0, time: Double($0) / 30, people: []) }
        let v = judge(PoseTrack(source: "squat.mp4", width: 1280, height: 720, fps: 30, frames: frames))
        Self.reviewed(v, mentioning: "no person")
        #expect(v.lifterTrackId == nil)
    }

    @Test func oneFrameTrack() {
        var track = Self.goodSquat().track
        track.frames = Array(track.frames.prefix(1))
        let a = analyze(track)
        Self.reviewed(a.verdict, mentioning: "1 frame")
        #expect(a.frames.count == 1)
        #expect(a.tracks.count == 1)
    }

    @Test func allLandmarksInvisible() {
        var track = Self.goodSquat().track
        for f in track.frames.indices {
            for p in track.frames[f].people.indices {
                for l in track.frames[f].people[p].landmarks.indices {
                    track.frames[f].people[p].landmarks[l].visibility = 0.01
                }
            }
        }
        let v = judge(track)
        Self.reviewed(v, mentioning: "no person")
        #expect(v.reasons.contains { $0.contains("fewer than 3 landmarks") })
    }

    @Test func personLeavesTheFrameDuringTheAscent() throws {
        let clip = Self.goodSquat()
        var track = clip.track
        // Find the bottom from a clean judgment, then drop the lifter from half-way up.
        let bottom = try #require(judge(track).keyFrames.bottom?.frame)
        for f in track.frames.indices where track.frames[f].index > bottom + 10 {
            track.frames[f].people = []
        }
        let v = judge(track)
        Self.reviewed(v, mentioning: "lifter lost")
        #expect(v.rule(.squatKneesLockedFinish)?.status == .unknown)
        #expect(v.rule(.squatDepth)?.status == .passed)
    }

    @Test func personLeavesBeforeTheBottom() {
        var track = Self.goodSquat().track
        let n = track.frames.count
        for f in (n / 3)..<n { track.frames[f].people = [] }
        let v = judge(track)
        #expect(v.decision == .needsReview, "\(v.reasons)")
        #expect(v.rule(.squatDepth)?.status != .failed)
    }

    @Test func dropoutAtTheBottomIsNotCalledShallow() throws {
        // A deep squat whose deepest 0.5 s is not seen: the judge must not call it shallow.
        var s = SquatSpec(depth: 0.3, yaw: 85)
        s.pause = 0.3
        var track = s.clip(seed: 3).track
        let bottom = try #require(judge(track).keyFrames.bottom?.frame)
        for f in track.frames.indices where abs(track.frames[f].index - bottom) <= 12 {
            track.frames[f].people = []
        }
        let v = judge(track)
        #expect(v.decision != .noLift, "\(v.reasons)")
    }

    @Test func malformedPeopleAreIgnored() {
        var track = Self.goodSquat().track
        for f in track.frames.indices {
            track.frames[f].people.append(PersonPose(score: 0.9, landmarks: [Landmark(x: 1, y: 2, visibility: 1)]))
        }
        let v = judge(track)
        #expect(v.decision == .goodLift, "\(v.reasons)")
        #expect(v.reasons.contains { $0.contains("without 33 landmarks") })
    }

    @Test func nonFiniteAndHugeValuesDoNotCrash() {
        var track = Self.goodSquat().track
        var r = SeededRandom(seed: 9)
        for f in track.frames.indices where f % 7 == 0 {
            for l in track.frames[f].people[0].landmarks.indices where r.chance(0.3) {
                let bad: [Double] = [.nan, .infinity, -.infinity, 1e300, -1e300, .greatestFiniteMagnitude]
                track.frames[f].people[0].landmarks[l].x = r.pick(bad)
                track.frames[f].people[0].landmarks[l].visibility = r.pick([.nan, 2, -1, 0.9])
            }
        }
        let v = judge(track)
        // Every 7th frame partly broken: still judged, and never the opposite call.
        #expect(v.decision != .noLift, "\(v.reasons)")
    }

    @Test("unusable frame rates", arguments: [0.0, -30, .nan, .infinity, 1e9])
    func badFPS(fps: Double) {
        var track = Self.goodSquat().track
        track.fps = fps
        // The frame times still give 30 fps.
        #expect(judge(track).decision == .goodLift)
        for f in track.frames.indices { track.frames[f].time = .nan }
        Self.reviewed(judge(track), mentioning: "frame rate")
    }

    @Test func shuffledAndDuplicatedFrames() {
        let clean = Self.goodSquat()
        var track = clean.track
        var r = SeededRandom(seed: 4)
        track.frames += track.frames.prefix(20)  // duplicates of the first 20
        for a in stride(from: track.frames.count - 1, to: 0, by: -1) { track.frames.swapAt(a, r.int(0...a)) }
        let v = judge(track)
        #expect(v == judge(clean.track))
    }

    @Test func tooManyPeoplePerFrame() {
        var track = Self.goodSquat().track
        var r = SeededRandom(seed: 5)
        for f in track.frames.indices {
            for _ in 0..<60 {
                let lms = (0..<33).map { _ in
                    Landmark(x: r.uniform(0, 1280), y: r.uniform(0, 720), visibility: r.uniform(0.5, 1))
                }
                track.frames[f].people.append(PersonPose(score: 0.1, landmarks: lms))
            }
        }
        let v = judge(track)
        #expect(v.reasons.contains { $0.contains("beyond 16 per frame") })
        #expect(v.decision != .noLift, "\(v.reasons)")
    }

    @Test func longTrackFinishesQuickly() {
        // 2 minutes at 30 fps: standing, one squat in the middle, standing.
        var s = SquatSpec(depth: 0.3, yaw: 85)
        s.standBefore = 58
        s.standAfter = 58
        let clip = s.clip(seed: 6)
        #expect(clip.track.frames.count > 3500)
        let start = ContinuousClock.now
        let v = judge(clip.track)
        #expect(v.decision == .goodLift, "\(v.reasons)")
        #expect(ContinuousClock.now - start < .seconds(10))
    }

    @Test func invalidConfig() {
        var config = JudgingConfig.default
        config.depthBand = -1
        config.lockedAngle = 140  // below bent_angle
        config.minVisibility = .nan
        #expect(throws: JudgingConfigError.self) { try config.validate() }
        do {
            try config.validate()
        } catch {
            #expect(error.problems.count == 3, "\(error.problems)")
            #expect(error.description.contains("depth_band"))
            #expect(error.description.contains("locked_angle"))
            #expect(error.description.contains("min_visibility"))
        }
        let v = judge(Self.goodSquat().track, config: config)
        Self.reviewed(v, mentioning: "invalid judging config")
    }

    @Test func liftUnknown() {
        // An upright person whose wrists hang half-way: neither squat nor deadlift, no name.
        var s = SquatSpec(depth: 0.3, yaw: 85)
        s.noise.jitterPx = 0.5
        var track = s.clip(seed: 8, named: false).track
        for f in track.frames.indices {
            for p in track.frames[f].people.indices {
                var l = track.frames[f].people[p].landmarks
                for w in [15, 16] { l[w].y = (l[11].y + l[23].y) / 2 + 0.25 * (l[23].y - l[11].y) }
                track.frames[f].people[p].landmarks = l
            }
        }
        let v = judge(track)
        Self.reviewed(v, mentioning: "could not tell the lift")
        #expect(v.lift == nil && v.liftSource == .unknown)
        // Given explicitly, it is judged.
        #expect(judge(track, lift: .squat).decision == .goodLift)
    }
}
