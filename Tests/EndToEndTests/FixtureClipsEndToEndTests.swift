import Foundation
import Judging
import Media
import Pipeline
import Pose
import Testing
import TestSupport

/// `../shared/fixtures/lifts/expected.json`: the verdict each rendered clip must get.
struct ExpectedClip: Decodable, Sendable, CustomTestStringConvertible {
    let clip: String
    let expect: String
    let margin_thigh: Double
    var testDescription: String { "\(clip) (expect \(expect), margin \(margin_thigh) thigh)" }
}

enum EndToEnd {
    static let clips: [ExpectedClip] = {
        guard let data = try? Data(contentsOf: TestPaths.sharedLifts.appendingPathComponent("expected.json")) else { return [] }
        return (try? JSONDecoder().decode([ExpectedClip].self, from: data)) ?? []
    }()
    static let model: Result<BlazePose, any Error> = Result { try BlazePose(modelsDirectory: TestPaths.models) }
}

@Suite("The whole pipeline on the rendered squat clips: video → BlazePose → verdict",
       .enabled(if: TestPaths.hasModels && TestPaths.hasSharedLifts,
                "needs .deps and ../shared/fixtures/lifts (internal clips, absent here)"))
struct FixtureClipsEndToEndTests {
    @Test("each clip gets its expected verdict, never the opposite", arguments: EndToEnd.clips)
    func clip(_ c: ExpectedClip) throws {
        let path = TestPaths.sharedLifts.appendingPathComponent(c.clip).path
        let outcome = try JudgePipeline(model: try EndToEnd.model.get()).run(path: path, lift: nil)
        let v = outcome.verdict
        print("\(c.clip): \(v.decision.rawValue); depth \(v.rules.first { $0.id == .squatDepth }?.value.map { String(format: "%.3f", $0) } ?? "–") thigh")
        #expect(v.lift == .squat && v.liftSource == .key)
        switch c.expect {
        case "good_lift": #expect(v.decision == .goodLift, "\(v.reasons)")
        case "no_lift": #expect(v.decision == .noLift, "\(v.reasons)")
        case "either": #expect(v.decision != .noLift, "a boundary clip was called confidently wrong: \(v.reasons)")
        default: Issue.record("unknown expectation \(c.expect)")
        }
    }
}

@Suite("The replay drawn during inference stands for the replay drawn after it",
       .enabled(if: TestPaths.hasModels && TestPaths.hasFFmpegCLI, "needs .deps (scripts/bootstrap)"))
struct SpeculativeReplayEndToEndTests {
    /// Judges `path` with the replay drawn during inference and again after it, with the same encoder
    /// settings both ways (by default a replay drawn after inference gets more x264 threads). A replay
    /// drawn again must be the same bytes; one kept from the speculation (whose frames agreed with the
    /// final judgment within `ReplayAgreement`'s allowances) must have the same frames and length.
    /// `poseDelay` (seconds) is added to each frame of the pose stage, as on a slower machine: the
    /// speculation then keeps up with it whatever the build (a debug build draws ten times slower).
    private func compare(_ path: String, in dir: TempDir, poseDelay: Double = 0) throws -> JudgeStats {
        let pipeline = JudgePipeline(model: try EndToEnd.model.get())
        let a = dir.path("during.mp4"), b = dir.path("after.mp4")
        let writer = JudgePipeline.replayWriter
        let during = try pipeline.run(path: path, lift: nil, replayPath: a, redrawWriter: writer, speculate: true,
                                      progress: { _, _ in if poseDelay > 0 { Thread.sleep(forTimeInterval: poseDelay) } })
        let after = try pipeline.run(path: path, lift: nil, replayPath: b, redrawWriter: writer, speculate: false)
        #expect(during.verdict == after.verdict)
        #expect(after.stats.replaySpeculatedFrames == 0 && !after.stats.replayRedrawn)
        #expect(during.stats.replaySpeculatedFrames > 0 || during.stats.replayRedrawn)
        // A reason exactly when the speculation was thrown away.
        #expect(during.stats.replayRedrawn == (during.stats.replayRedrawReason != nil))
        #expect(after.stats.replayRedrawReason == nil)
        #expect(during.stats.replayFrames == after.stats.replayFrames)
        if during.stats.replayRedrawn {
            let x = try Data(contentsOf: URL(fileURLWithPath: a)), y = try Data(contentsOf: URL(fileURLWithPath: b))
            let same = x == y // a Bool: swift-testing would diff two differing files byte by byte for hours
            #expect(same, "\(x.count) bytes drawn again vs \(y.count) after")
        } else {
            func pictures(_ p: String) throws -> (count: Int, last: Double) {
                let r = try VideoReader(path: p)
                var n = 0, last = 0.0
                while let f = try r.next() { n += 1; last = f.time }
                return (n, last)
            }
            let x = try pictures(a), y = try pictures(b)
            #expect(x.count == y.count && abs(x.last - y.last) < 1e-6, "kept \(x), drawn after \(y)")
        }
        // H.264 yuv420p: both ways draw on the decoder's pictures' planes and encode them; nothing
        // goes through RGB.
        for s in [during.stats, after.stats] {
            #expect(s.replayConvertedShare == 0, "converted \(s.replayConvertedShare)")
        }
        return during.stats
    }

    @Test("street video (opencv-doc's vtest.avi, 90 frames): nobody squats, the judgment never changes")
    func street() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let clip = dir.path("street.mp4")
        try ffmpeg(["-i", TestPaths.media("vtest.avi"), "-frames:v", "90", "-c:v", "libx264", "-preset", "ultrafast",
                    "-pix_fmt", "yuv420p", clip])
        let stats = try compare(clip, in: dir)
        print("street: \(stats.replaySpeculatedFrames) frames drawn during inference, redrawn \(stats.replayRedrawn), "
              + "\(Int(100 * stats.replayConvertedShare))% of each frame converted from RGB")
    }

    @Test("a rendered squat (../shared): its provisional judgments agree with the final one, or the replay is drawn again",
          .enabled(if: TestPaths.hasSharedLifts, "needs ../shared/fixtures/lifts (internal clips, absent here)"))
    func squat() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let stats = try compare(TestPaths.sharedLifts.appendingPathComponent("squat_m60.mp4").path, in: dir)
        print("squat_m60: \(stats.replaySpeculatedFrames) frames drawn during inference kept, redrawn \(stats.replayRedrawn)")
    }

    @Test("a rendered double bounce (../shared): the second bottom moves the held frame after the first was drawn, the replay is drawn again",
          .enabled(if: TestPaths.hasSharedLifts, "needs ../shared/fixtures/lifts (internal clips, absent here)"))
    func bounce() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        // The speculation must have drawn the first bottom before the second one came: pace the pose
        // stage (in a release build it is drawn again without the pause, `judge --stats-json`).
        let stats = try compare(TestPaths.sharedLifts.appendingPathComponent("squat_bounce_m20.mp4").path, in: dir,
                                poseDelay: 0.03)
        #expect(stats.replayRedrawn)
        #expect([.provisionalDiffered, .finalDiffered].contains(stats.replayRedrawReason))
    }
}
