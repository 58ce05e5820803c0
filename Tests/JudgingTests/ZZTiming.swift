import Foundation
import PoseData
import Testing
@testable import Judging

@Test func zzExplore() throws {
    let (clip, _, _) = SyntheticPropertyTests.squatCase(655)
    var skipped = SkippedPeople()
    let frames = clip.track.frames
    let f50 = frames[49], f51 = frames[51]
    let li = clip.lifterIndex[49]!
    let lifter = Tracker.observation(f50.people[li], slot: 50, index: li, minVisibility: 0.5, skipped: &skipped)!
    for (k, p) in f51.people.enumerated() {
        let o = Tracker.observation(p, slot: 51, index: k, minVisibility: 0.5, skipped: &skipped)!
        let d = Tracker.poseDistance(from: lifter, shiftedBy: Point(x: 0, y: 0), to: o, minVisibility: 0.5)
        print("frame51 person \(k): dist \(d) size \(o.size) lifterSize \(lifter.size) cost \(d / max(o.size, lifter.size)) centre \(o.centre) vs \(lifter.centre)")
    }
    print("fps \(clip.track.fps)")
}
