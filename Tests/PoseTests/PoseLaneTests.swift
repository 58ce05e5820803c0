import Foundation
import Imaging
import Media
@testable import Pose
import PoseData
import Testing
import TestSupport

/// Side-by-side landmark runs (`BlazePose.Options.lanes`): a frame's region comes from two frames back
/// instead of one; frames still come out in order, once each, and the lanes are lent to one tracker
/// at a time.
@Suite("Pose lanes", .serialized, .enabled(if: TestPaths.hasModels, "needs .deps/models (scripts/bootstrap)"))
struct PoseLaneTests {
    /// Two lanes (the default), on a model no other suite borrows them from.
    static let twoLanes: Result<BlazePose, any Error> = Result {
        try BlazePose(modelsDirectory: TestPaths.models, options: BlazePose.Options(threads: 2, lanes: 2))
    }
    /// Strictly frame by frame.
    static let oneLane: Result<BlazePose, any Error> = Result {
        try BlazePose(modelsDirectory: TestPaths.models, options: BlazePose.Options(threads: 2, lanes: 1))
    }

    /// bus.jpg's man on the left, sliding 4 px a frame across a gray backdrop: 40 real frames in
    /// which the tracker must follow him.
    static func panClip(in dir: TempDir) throws -> [RGBImage] {
        let clip = dir.path("pan.mp4")
        try ffmpeg(["-f", "lavfi", "-i", "color=gray:s=800x600:r=25", "-loop", "1", "-i", TestPaths.media("bus.jpg"),
                    "-filter_complex", "[1]scale=405:540[p];[0][p]overlay=x='20+t*100':y=30",
                    "-frames:v", "40", "-c:v", "libx264", "-preset", "ultrafast", "-qp", "10", "-pix_fmt", "yuv420p", clip])
        let reader = try VideoReader(path: clip)
        var images: [RGBImage] = []
        while let f = try reader.next() { images.append(f.image) }
        return images
    }

    /// Every frame through `submit`/`finish`, and the order in which results came back.
    static func track(_ tracker: PoseTracker, _ images: [RGBImage]) throws -> [[PoseTracker.Person]] {
        var out: [[PoseTracker.Person]] = []
        for image in images { out += try tracker.submit(image) }
        return out + (try tracker.finish())
    }

    /// Mean distance between the same joints of two poses.
    static func meanDistance(_ a: PersonPose, _ b: PersonPose, joints: [Int]) -> Double {
        joints.map { hypot(a.landmarks[$0].x - b.landmarks[$0].x, a.landmarks[$0].y - b.landmarks[$0].y) }
            .reduce(0, +) / Double(joints.count)
    }

    static let bodyJoints = Array(11...32)
    static var canPan: Bool { TestPaths.hasFFmpegCLI && TestData.hasBus }

    @Test("two lanes follow a moving person as closely as one lane does (both against MediaPipe's points for the photo)",
          .enabled(if: canPan, "needs the ffmpeg CLI and .deps/media/bus.jpg (scripts/bootstrap)"))
    func panAccuracy() throws {
        let reference = try JSONDecoder().decode(
            ReferencePoints.self, from: Data(contentsOf: TestPaths.fixtures.appendingPathComponent("mediapipe_reference_bus.json"))).bus
        let dir = try TempDir()
        defer { dir.remove() }
        let images = try Self.panClip(in: dir)
        #expect(images.count == 40)
        let two = PoseTracker(model: try Self.twoLanes.get())
        let one = PoseTracker(model: try Self.oneLane.get())
        let a = try Self.track(two, images), b = try Self.track(one, images)
        #expect(two.sideBySide && !one.sideBySide)
        #expect(a.count == images.count && b.count == images.count)
        // Where the photo's reference points are in frame i: half size, 20 + 4i px across, 30 down.
        func error(_ p: PersonPose, frame i: Int) -> Double {
            Self.bodyJoints.map { j in
                hypot(p.landmarks[j].x - (reference.landmarks[j][0] / 2 + 20 + 4 * Double(i)),
                      p.landmarks[j].y - (reference.landmarks[j][1] / 2 + 30))
            }.reduce(0, +) / Double(Self.bodyJoints.count)
        }
        var errorsTwo: [Double] = [], errorsOne: [Double] = []
        for (i, (pa, pb)) in zip(a, b).enumerated() {
            let closestTwo = pa.map { error($0.pose, frame: i) }.min(), closestOne = pb.map { error($0.pose, frame: i) }.min()
            try #require(closestTwo != nil && closestOne != nil, "frame \(i): nobody found")
            errorsTwo.append(closestTwo!)
            errorsOne.append(closestOne!)
        }
        func mean(_ x: [Double]) -> Double { x.reduce(0, +) / Double(x.count) }
        print(String(format: "pan clip, body joints against MediaPipe's points: two lanes %.2f px mean (worst frame %.2f), one lane %.2f px (%.2f)",
                     mean(errorsTwo), errorsTwo.max()!, mean(errorsOne), errorsOne.max()!))
        // The person is 540 px tall, half the photo's size, and H.264-coded: one lane lands about
        // 8 px (1.5 %) from the photo's points. Two lanes may not be worse than that by more than
        // 1 px on average (a region two frames old is 8 px off, inside its 25 % margin).
        #expect(mean(errorsOne) < 12)
        #expect(mean(errorsTwo) < mean(errorsOne) + 1)
        #expect(two.landmarkRuns == one.landmarkRuns)
    }

    @Test("frames come back in order, once each, whatever each one holds",
          .enabled(if: canPan, "needs the ffmpeg CLI and .deps/media/bus.jpg (scripts/bootstrap)"))
    func orderAndCount() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let person = try Self.panClip(in: dir)
        let empty = RGBImage(width: 800, height: 600)
        // Person, person, nobody, person, nobody, nobody, person, …: each result must sit at its frame.
        let pattern = [true, true, false, true, false, false, true, true, true, false, true, true]
        let images = pattern.enumerated().map { $0.element ? person[$0.offset] : empty }
        for lanes in [try Self.twoLanes.get(), try Self.oneLane.get()] {
            let tracker = PoseTracker(model: lanes)
            var out: [[PoseTracker.Person]] = []
            for (i, image) in images.enumerated() {
                let back = try tracker.submit(image)
                out += back
                // Never ahead, and at most one frame per extra lane behind (none with one lane).
                #expect(out.count <= i + 1 && out.count >= i + 1 - (lanes.lanes - 1), "lanes \(lanes.lanes), frame \(i)")
            }
            out += try tracker.finish()
            #expect(tracker.sideBySide == (lanes.lanes == 2))
            #expect(out.map { !$0.isEmpty } == pattern, "lanes \(lanes.lanes)")
            #expect(try tracker.finish().isEmpty)
        }
    }

    @Test("the lanes go to one tracker at a time; another runs the same schedule one run at a time, with the same results, and gets them once they are back",
          .enabled(if: canPan, "needs the ffmpeg CLI and .deps/media/bus.jpg (scripts/bootstrap)"))
    func lending() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let images = Array(try Self.panClip(in: dir).prefix(12))
        let model = try Self.twoLanes.get()
        #expect(model.lanes == 2)
        let first = PoseTracker(model: model), second = PoseTracker(model: model)
        var a: [[PoseTracker.Person]] = [], b: [[PoseTracker.Person]] = []
        for image in images {
            a += try first.submit(image)
            b += try second.submit(image)
        }
        a += try first.finish()
        b += try second.finish()
        #expect(first.sideBySide)
        #expect(!second.sideBySide)
        #expect(a.count == images.count && b.count == images.count)
        // The one without lanes runs the same schedule one run at a time: the same regions, the same
        // network on one thread, so the same results — a verdict may not depend on who got the lanes.
        for (i, (pa, pb)) in zip(a, b).enumerated() {
            try #require(pa.count == 1 && pb.count == 1, "frame \(i)")
            #expect(pa[0].roi == pb[0].roi, "frame \(i)")
            #expect(pa[0].pose.landmarks.map(\.x) == pb[0].pose.landmarks.map(\.x)
                    && pa[0].pose.landmarks.map(\.y) == pb[0].pose.landmarks.map(\.y), "frame \(i)")
        }
        first.reset()
        let third = PoseTracker(model: model)
        _ = try Self.track(third, Array(images.prefix(3)))
        #expect(third.sideBySide)
    }

    @Test("an error mid-video leaves no run going: a typed error, and the lanes come back for the next video",
          .enabled(if: canPan, "needs the ffmpeg CLI and .deps/media/bus.jpg (scripts/bootstrap)"))
    func errorMidVideo() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let images = Array(try Self.panClip(in: dir).prefix(6))
        let model = try Self.twoLanes.get()
        do {
            let tracker = PoseTracker(model: model)
            for image in images.prefix(3) { _ = try tracker.submit(image) }
            #expect(throws: PoseError.invalidImage("empty image")) { try tracker.submit(RGBImage(width: 0, height: 0)) }
            // The frames that were in flight are dropped, not handed out later.
            #expect(try tracker.finish().isEmpty)
        } // released here without reset(): the lanes go back when it goes
        let next = PoseTracker(model: model)
        let out = try Self.track(next, images)
        #expect(next.sideBySide)
        #expect(out.count == images.count && out.allSatisfy { $0.count == 1 })
    }

    @Test("fewer threads than lanes: one lane, strictly frame by frame")
    func oneThread() throws {
        let model = try BlazePose(modelsDirectory: TestPaths.models, options: BlazePose.Options(threads: 1, lanes: 2))
        #expect(model.lanes == 1)
        let tracker = PoseTracker(model: model)
        _ = try tracker.submit(RGBImage(width: 64, height: 48))
        #expect(!tracker.sideBySide)
    }
}
