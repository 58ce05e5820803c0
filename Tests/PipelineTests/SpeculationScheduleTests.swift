import Foundation
import Judging
import PoseData
import Replay
import Scaling
import Testing
import TestSupport

/// The speculation judges the growing track whenever its thread gets the CPU, so which provisional
/// judgments draw which frames depends on timing. This replays many such schedules offline on a real
/// pose track and checks that every file they draw stands against the final judgment.
@Suite("Speculation schedules on a recorded pose track")
struct SpeculationScheduleTests {
    /// `refvision judge --pose-json` of the single-attempt bench clip (`make bench` makes it from
    /// ../shared/fixtures/lifts/squat_m30.mp4: a 3 s set-up, one squat); numbers only.
    static func track() throws -> PoseTrack {
        try JSONDecoder().decode(PoseTrack.self, from: Data(contentsOf: TestPaths.fixtures.appendingPathComponent("pose_track_lift_720p.json")))
    }

    @Test("random judging schedules: with late switches held back every drawn file stands; without, some were doomed")
    func randomSchedules() throws {
        let full = try Self.track()
        let judge = Judge()
        let fps = full.fps, lag = Int((0.5 * fps).rounded()), shift = Int((0.1 * fps).rounded())
        let agreement = ReplayAgreement(shift: shift, gaugeTolerance: 0.01)
        // Every provisional judgment the speculation could make: its overlays, and whether it may draw.
        var overlays: [[FrameOverlay]] = [[]]
        var mayDraw = [false]
        for k in 1...full.frames.count {
            let t = PoseTrack(source: full.source, width: full.width, height: full.height, fps: fps, frames: Array(full.frames.prefix(k)))
            let r = ReplayRenderer(analysis: judge.analyze(t, lift: .squat, partial: true), track: t)
            let lifter = r.verdict.lifterTrackId != nil
            mayDraw.append(lifter && (r.verdict.keyFrames.start != nil || !r.analysis.pendingRules.isEmpty))
            overlays.append(t.frames.map { r.overlay(frame: $0.index, time: $0.time, height: full.height) })
        }
        let final = ReplayRenderer(analysis: judge.analyze(full, lift: .squat), track: full)
        let finalOverlays = full.frames.map { final.overlay(frame: $0.index, time: $0.time, height: full.height) }
        /// Draws as `SpeculativeReplay.speculate` does at the judgments `schedule` names; whether the file stands.
        func stands(_ schedule: [Int], holdBack: Bool) -> Bool {
            var drawn: [FrameOverlay] = []
            for k in schedule {
                let check = Array(overlays[k].prefix(min(k, drawn.count + shift + 1)))
                guard agreement.accepts(drawn: drawn, reference: check) else { return false }
                guard mayDraw[k], k - lag > drawn.count else { continue }
                let next = Array(overlays[k][drawn.count..<(k - lag)])
                drawn += holdBack ? Array(next.prefix(agreement.drawable(next, after: drawn.last))) : next
            }
            return agreement.accepts(drawn: drawn, reference: finalOverlays)
        }
        var rng = SeededRandom(seed: 7)
        var doomedWithout = 0
        for _ in 0..<600 {
            // A starved thread judges at irregular gaps: 1 to 60 frames.
            var schedule: [Int] = []
            var k = Int.random(in: 1...20, using: &rng)
            while k <= full.frames.count {
                schedule.append(k)
                k += Int.random(in: 1...60, using: &rng)
            }
            #expect(stands(schedule, holdBack: true), "schedule \(schedule)")
            if !stands(schedule, holdBack: false) { doomedWithout += 1 }
        }
        // The track does exercise the case: drawn without holding back, some schedules fail.
        #expect(doomedWithout > 0)
    }
}
