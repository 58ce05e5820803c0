import Foundation
import Imaging
import Judging
import Media
import PoseData
import Replay
import Testing
import TestSupport
@testable import Pipeline

/// The replay drawn while the pose stage runs, without the pose model: the poses are made up, the
/// pictures are a real generated clip.
@Suite("The replay drawn during the pose stage", .enabled(if: TestPaths.hasFFmpegCLI, "needs the ffmpeg CLI (scripts/bootstrap)"))
struct SpeculativeReplayTests {
    static let fps = 30.0

    /// A 3.5 s (`frames` at 30 fps) 640×480 clip named like a squat attempt.
    private func clip(in dir: TempDir, frames: Int = 105) throws -> String {
        let path = dir.path("squat-1.mp4")
        try ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=640x480:rate=30", "-frames:v", String(frames),
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", path])
        return path
    }

    /// One person seen from the side: standing for 0.7 s, down for 0.8 s, up for 0.8 s, standing.
    /// With `twice`: standing for 0.3 s, a half-depth squat (1 s), then a full one from 1.6 s. With
    /// `setup`: standing for that long instead of 0.7 s.
    private static func squatter(at time: Double, twice: Bool = false, setup: Double = 0.7) -> PersonPose {
        func dip(_ t: Double, _ half: Double, _ scale: Double) -> Double {
            t < 0 ? 0 : t < half ? scale * t / half : t < 2 * half ? scale * (1 - (t - half) / half) : 0
        }
        let depth = twice ? max(dip(time - 0.3, 0.5, 0.5), dip(time - 1.6, 0.8, 1)) : dip(time - setup, 0.8, 1)
        func lerp(_ a: Double, _ b: Double) -> Double { a + (b - a) * depth }
        var points = [(Double, Double)](repeating: (300, 200), count: BlazePoseLandmark.count)
        func set(_ l: BlazePoseLandmark, _ x: Double, _ y: Double) { points[l.rawValue] = (x, y) }
        let shoulder = (lerp(300, 290), lerp(130, 225)), hip = (lerp(300, 245), lerp(240, 332))
        let knee = (lerp(305, 345), 320.0), ankle = (300.0, 400.0)
        set(.nose, shoulder.0 + 8, shoulder.1 - 40)
        for (l, r, p) in [(BlazePoseLandmark.leftShoulder, BlazePoseLandmark.rightShoulder, shoulder),
                          (.leftHip, .rightHip, hip), (.leftKnee, .rightKnee, knee), (.leftAnkle, .rightAnkle, ankle),
                          (.leftElbow, .rightElbow, (shoulder.0 + 20, shoulder.1 + 5)),
                          (.leftWrist, .rightWrist, (shoulder.0 + 5, shoulder.1 + 2))] {
            set(l, p.0, p.1)
            set(r, p.0 + 2, p.1 + 1)
        }
        return PersonPose(score: 0.9, landmarks: points.map { Landmark(x: $0.0, y: $0.1, visibility: 0.95) })
    }

    private enum People { case none, squatter, twoSquats, lateSquatter }

    /// Runs the speculation over the clip's frames as the pose stage would, then completes it with
    /// the final judgment; returns the outcome and the final renderer.
    private func speculate(_ source: String, to output: String, people: People, lift: LiftKind? = nil,
                           options: SpeculativeReplay.Options = SpeculativeReplay.Options(),
                           finalLift: LiftKind? = nil, awaitDrawing: Bool = false, slowly: Bool = false,
                           writer: WriterOptions = WriterOptions(preset: "ultrafast"), keepTailSplit: Bool = false,
                           afterFrame: ((Int, SpeculativeReplay) -> Void)? = nil)
        throws -> (SpeculativeReplay.Outcome?, ReplayRenderer) {
        // One encoder, so the file can be compared byte for byte, unless the test chooses a split.
        var options = options
        if options.tailSplitOverride == nil && !keepTailSplit { options.tailSegmentMinimum = nil }
        // As the pipeline reads when it speculates: with the decoded pictures (writeReplay does too).
        let reader = try VideoReader(path: source, options: ReaderOptions(keepSource: true))
        let judge = Judge()
        let spec = try SpeculativeReplay(source: source, output: output, info: reader.info, judge: judge, lift: lift,
                                         writer: writer, options: options)
        var poses: [PoseFrame] = []
        while let f = try reader.next() {
            let index = f.index
            let pose = PoseFrame(index: f.index, time: f.time,
                                 people: people == .none ? [] : [Self.squatter(at: f.time, twice: people == .twoSquats,
                                                                               setup: people == .lateSquatter ? 3 : 0.7)])
            poses.append(pose)
            spec.append(pose, f)
            afterFrame?(index, spec)
            // As fast as a pose stage on a fast machine: the speculation judges the clip as it grows.
            if slowly { Thread.sleep(forTimeInterval: 0.01) }
        }
        // The pose stage takes ~10 ms a frame; here the frames come at once, so on a busy machine the
        // speculation thread may not have run yet: let it draw before the end, as it would.
        let deadline = Date().addingTimeInterval(20)
        while awaitDrawing, spec.framesDrawn == 0, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        let track = PoseTrack(source: source, width: reader.info.width, height: reader.info.height, fps: Self.fps,
                              frames: poses)
        let renderer = ReplayRenderer(analysis: judge.analyze(track, lift: finalLift ?? lift), track: track)
        return (try spec.complete(with: renderer), renderer)
    }

    @Test("when every provisional frame matches the final judgment, the file is the one the second pass writes, byte for byte")
    func matches() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let source = try clip(in: dir)
        let (outcome, renderer) = try speculate(source, to: dir.path("spec.mp4"), people: .none, awaitDrawing: true)
        let o = try #require(outcome, "nobody in the clip: every provisional judgment is the same")
        // How many are drawn before the input ends depends on the threads' timing; never the lag.
        #expect(o.speculated > 0 && o.speculated <= 105 - Int(SpeculativeReplay.Options().lagSeconds * Self.fps))
        #expect(o.judgments >= 1)
        #expect(o.result.frames == 105 + renderer.cardFrameCount)
        try expectSameAsSecondPass(dir.path("spec.mp4"), source: source, renderer: renderer, in: dir)
    }

    /// Draws the replay after inference from `renderer` and expects `speculative` to be that file, byte
    /// for byte.
    private func expectSameAsSecondPass(_ speculative: String, source: String, renderer: ReplayRenderer, in dir: TempDir,
                                        sourceLocation: SourceLocation = #_sourceLocation) throws {
        _ = try JudgePipeline.writeReplay(source: source, to: dir.path("seq.mp4"), renderer: renderer,
                                          reader: ReaderOptions(), writer: WriterOptions(preset: "ultrafast"))
        let spec = try Data(contentsOf: URL(fileURLWithPath: speculative))
        let seq = try Data(contentsOf: URL(fileURLWithPath: dir.path("seq.mp4")))
        let same = spec == seq // a Bool: swift-testing would diff two differing files byte by byte for hours
        #expect(same, "speculative \(spec.count) bytes vs second pass \(seq.count)", sourceLocation: sourceLocation)
    }

    @Test("a clean squat: every provisional judgment that has found the lifter and the start agrees with the final one, and the file stands")
    func changesWithinAllowances() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let source = try clip(in: dir)
        let output = dir.path("spec.mp4")
        let (outcome, renderer) = try speculate(source, to: output, people: .squatter, awaitDrawing: true)
        let o = try #require(outcome, "the provisional judgments of a clean squat agree with the final one")
        #expect(o.speculated > 0)
        #expect(o.result.frames == 105 + renderer.freezeFrameCount + renderer.cardFrameCount)
        #expect(FileManager.default.fileExists(atPath: output))
        // Every prefix judgment the speculation may draw from agrees with the whole clip's.
        let reader = try VideoReader(path: source)
        var all: [PoseFrame] = []
        while let f = try reader.next() {
            all.append(PoseFrame(index: f.index, time: f.time, people: [Self.squatter(at: f.time)]))
        }
        let agreement = ReplayAgreement(shift: 3, gaugeTolerance: 0.01)
        let final = all.map { renderer.overlay(frame: $0.index, time: $0.time, height: 480) }
        var checked = 0
        for n in stride(from: 20, through: all.count, by: 5) {
            let prefix = PoseTrack(source: source, width: 640, height: 480, fps: Self.fps, frames: Array(all.prefix(n)))
            let provisional = ReplayRenderer(analysis: Judge().analyze(prefix), track: prefix)
            guard provisional.verdict.lifterTrackId != nil, provisional.verdict.keyFrames.start != nil else { continue }
            let drawn = all.prefix(n - 15).map { provisional.overlay(frame: $0.index, time: $0.time, height: 480) }
            #expect(agreement.accepts(drawn: drawn, reference: final), "prefix of \(n) frames")
            checked += 1
        }
        #expect(checked >= 10)
    }

    @Test("a long set-up (3 s standing) is drawn before the descent begins, and the file stands")
    func longSetup() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let source = try clip(in: dir, frames: 180)
        let output = dir.path("spec.mp4")
        // At 2.8 s, before the descent (3.0 s): the provisional judgment sees a lifter standing, so the
        // set-up frames more than a second old are drawn.
        let drawnBeforeDescent = LockedBox(0)
        let (outcome, renderer) = try speculate(source, to: output, people: .lateSquatter, slowly: true) { index, spec in
            guard index == 84 else { return }
            let deadline = Date().addingTimeInterval(20)
            while spec.framesDrawn == 0, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
            drawnBeforeDescent.value = spec.framesDrawn
        }
        #expect(drawnBeforeDescent.value > 0 && drawnBeforeDescent.value <= 85 - 30)
        let start = try #require(renderer.verdict.keyFrames.start)
        #expect(start.frame >= 85)
        let o = try #require(outcome, "the set-up drawn before the descent agrees with the final judgment")
        #expect(o.speculated >= drawnBeforeDescent.value)
        #expect(o.result.frames == 180 + renderer.freezeFrameCount + renderer.cardFrameCount)
        // Noiseless poses: every overlay drawn provisionally is exactly the final one, so the file is
        // the one drawn after inference, byte for byte (the set-up's checklist box included).
        try expectSameAsSecondPass(output, source: source, renderer: renderer, in: dir)
    }

    @Test("a second, deeper squat moves the bottom after the first was drawn: the speculation gives up and leaves no file")
    func bottomMoves() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let source = try clip(in: dir)
        let output = dir.path("spec.mp4")
        var spec: SpeculativeReplay?
        let (outcome, _) = try speculate(source, to: output, people: .twoSquats, slowly: true, afterFrame: { spec = $1 })
        #expect(outcome == nil)
        #expect(!FileManager.default.fileExists(atPath: output))
        // Caught by a provisional judgment, or at the latest by the final one.
        #expect([.provisionalDiffered, .finalDiffered].contains(spec?.stopReason))
    }

    @Test("a final judgment that draws any checked frame differently throws the speculative file away")
    func finalDiffers() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let source = try clip(in: dir)
        let output = dir.path("spec.mp4")
        // Provisionally a squat (from the file name); the final judgment is told it is a bench press,
        // so every banner differs.
        var spec: SpeculativeReplay?
        let (outcome, _) = try speculate(source, to: output, people: .none, finalLift: .bench, afterFrame: { spec = $1 })
        #expect(outcome == nil)
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(spec?.stopReason == .finalDiffered)
    }

    #if os(Linux)
    /// The nice values of this process's threads (field 19 of /proc/self/task/TID/stat).
    private static func nices() throws -> [Int] {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").compactMap { tid in
            guard let stat = try? String(contentsOfFile: "/proc/self/task/\(tid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            // After "pid (comm)": state is field 3, nice field 19.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 16 ? Int(fields[16]) : nil
        }
    }

    /// The nice value of thread `tid` of this process, once it has started (nil if it has not within
    /// 20 s, or has ended).
    private static func nice(ofThread tid: () -> Int32?) -> Int? {
        let deadline = Date().addingTimeInterval(20)
        while tid() == nil && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        guard let id = tid(), let stat = try? String(contentsOfFile: "/proc/self/task/\(id)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 16 ? Int(fields[16]) : nil
    }

    /// Every frame of `source` with its decoded picture, and the renderer of the final judgment of
    /// the clip with nobody in it.
    private func nobody(in source: String) throws -> (VideoInfo, [VideoFrame], ReplayRenderer) {
        let reader = try VideoReader(path: source, options: ReaderOptions(keepSource: true))
        var frames: [VideoFrame] = []
        while let f = try reader.next() { frames.append(f) }
        let track = PoseTrack(source: source, width: reader.info.width, height: reader.info.height, fps: Self.fps,
                              frames: frames.map { PoseFrame(index: $0.index, time: $0.time, people: []) })
        return (reader.info, frames, ReplayRenderer(analysis: Judge().analyze(track, lift: nil), track: track))
    }

    @Test("promote() hands the encoding from its background thread to one at normal priority, in order: the file is the one drawn in one go")
    func promotion() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let source = try clip(in: dir)
        let (info, decoded, renderer) = try nobody(in: source)
        var frames = decoded
        let stream = try ReplayStream(output: dir.path("promoted.mp4"), info: info,
                                      writer: WriterOptions(preset: "ultrafast"), priority: .background)
        #expect(Self.nice(ofThread: { stream.encoderThreadID }) == Int(Worker.backgroundNice))
        let first = try #require(stream.encoderThreadID)
        func draw(_ range: Range<Int>) {
            for i in range {
                stream.draw(&frames[i], renderer.overlay(frame: frames[i].index, time: frames[i].time, height: frames[i].height),
                            with: renderer)
            }
        }
        draw(0..<50)
        stream.promote()
        // Another thread, at the caller's priority (the test's thread never lowered its own).
        #expect(Self.nice(ofThread: { stream.encoderThreadID }) == Int(Worker.currentNice()))
        #expect(stream.encoderThreadID != first)
        draw(50..<frames.count)
        stream.promote() // a second time: nothing to do
        let result = try stream.finish(card: renderer)
        #expect(result.frames == frames.count + renderer.cardFrameCount)
        try expectSameAsSecondPass(dir.path("promoted.mp4"), source: source, renderer: renderer, in: dir)
    }

    /// Lossless, so that a file whose end a second encoder wrote decodes to the same pictures.
    static let lossless = WriterOptions(preset: "ultrafast", rateControl: .qp(0), threads: 1)

    /// Draws the replay after inference from `renderer` (lossless, one encoder) and expects `file` to
    /// decode to the same pictures at the same times.
    private func expectSamePicturesAsSecondPass(_ file: String, source: String, renderer: ReplayRenderer, in dir: TempDir,
                                                sourceLocation: SourceLocation = #_sourceLocation) throws {
        _ = try JudgePipeline.writeReplay(source: source, to: dir.path("seq.mp4"), renderer: renderer,
                                          reader: ReaderOptions(), writer: Self.lossless)
        let a = try VideoReader(path: file), b = try VideoReader(path: dir.path("seq.mp4"))
        var n = 0
        while true {
            let x = try a.next(), y = try b.next()
            guard let x, let y else {
                #expect(x == nil && y == nil, "frame \(n): one file ends before the other", sourceLocation: sourceLocation)
                break
            }
            let same = x.image.pixels == y.image.pixels && abs(x.time - y.time) < 1e-9
            #expect(same, "frame \(n) at \(x.time) s vs \(y.time) s", sourceLocation: sourceLocation)
            n += 1
        }
    }

    @Test("the end of the replay split between the encoding thread and a second encoder on the caller's: the same pictures, a key frame where the second starts")
    func tailSegment() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let source = try clip(in: dir)
        let (info, decoded, renderer) = try nobody(in: source)
        var frames = decoded
        let output = dir.path("split.mp4")
        let stream = try ReplayStream(output: output, info: info, writer: Self.lossless, priority: .background)
        for i in frames.indices {
            if i == 40 { stream.promote(queueing: 32) }
            if i == 70 { #expect(stream.beginSegment()) }
            stream.draw(&frames[i], renderer.overlay(frame: frames[i].index, time: frames[i].time, height: frames[i].height),
                        with: renderer)
        }
        #expect(!stream.beginSegment(), "a second segment while one is open")
        let result = try stream.finish(card: renderer)
        #expect(result.segmentFrames == 35 + 1, "the frames from 70 and the card")
        #expect(result.frames == frames.count + renderer.cardFrameCount)
        let keys = try probePackets(output).enumerated().filter { $0.element.key }.map { $0.offset }
        #expect(keys == [0, 70])
        try expectSamePicturesAsSecondPass(output, source: source, renderer: renderer, in: dir)
    }

    @Test("when the tail's second encoder begins: once the encoding thread's backlog lasts as long as the rest drawn and encoded plus the card; never for a short rest or an unknown cost")
    func tailSegmentDuePoint() {
        // Encoding 2 ms, drawing 1 ms a frame, 100 frames left: 100 · 3 ms + the card (5 · 1 + 2 ms) = 307 ms,
        // which a backlog of 154 frames (308 ms) covers and one of 153 (306 ms) does not.
        #expect(ReplayStream.tailSegmentDue(backlog: 154, remaining: 100, minimum: 10, draw: 0.001, encode: 0.002))
        #expect(!ReplayStream.tailSegmentDue(backlog: 153, remaining: 100, minimum: 10, draw: 0.001, encode: 0.002))
        #expect(!ReplayStream.tailSegmentDue(backlog: 1000, remaining: 9, minimum: 10, draw: 0.001, encode: 0.002))
        #expect(!ReplayStream.tailSegmentDue(backlog: 0, remaining: 0, minimum: 0, draw: 0.001, encode: 0.002))
        #expect(!ReplayStream.tailSegmentDue(backlog: 0, remaining: 20, minimum: 1, draw: 0, encode: 0.002))
        #expect(!ReplayStream.tailSegmentDue(backlog: 1000, remaining: 20, minimum: 1, draw: .nan, encode: 0.002))
        #expect(!ReplayStream.tailSegmentDue(backlog: 1000, remaining: 20, minimum: 1, draw: 0.001, encode: 0))
        #expect(!ReplayStream.tailSegmentDue(backlog: 1000, remaining: 20, minimum: 1, draw: 0.001, encode: .infinity))
        // Drawing slower than encoding: the backlog shrinks as the rest is drawn, but one already
        // long enough still makes the split worth it.
        #expect(ReplayStream.tailSegmentDue(backlog: 59, remaining: 20, minimum: 1, draw: 0.003, encode: 0.002))
        #expect(!ReplayStream.tailSegmentDue(backlog: 58, remaining: 20, minimum: 1, draw: 0.003, encode: 0.002))
    }

    /// Speculates over the clip with the drawing slowed during inference, so that most frames are
    /// left for the tail, into a lossless file; expects it to hold the second pass's pictures.
    private func speculateLeavingTail(_ adjust: (inout SpeculativeReplay.Options) -> Void) throws -> SpeculativeReplay.Outcome {
        let dir = try TempDir()
        defer { dir.remove() }
        let source = try clip(in: dir)
        var options = SpeculativeReplay.Options()
        options.beforeDraw = { Thread.sleep(forTimeInterval: 0.05) }
        adjust(&options)
        let (outcome, renderer) = try speculate(source, to: dir.path("spec.mp4"), people: .none, options: options,
                                                awaitDrawing: true, writer: Self.lossless, keepTailSplit: true)
        let o = try #require(outcome)
        #expect(o.result.frames == 105 + renderer.cardFrameCount)
        try expectSamePicturesAsSecondPass(dir.path("spec.mp4"), source: source, renderer: renderer, in: dir)
        return o
    }

    @Test("the speculation's tail split where the tail's own pace says: the pictures of the second pass, and no second encoder for fewer frames than the minimum")
    func speculationSplitsTailByPace() throws {
        let o = try speculateLeavingTail { $0.tailSegmentMinimum = 5 }
        let tail = 105 - o.speculated
        // Whether the split pays depends on this machine's drawing and encoding speeds (a debug
        // build draws ten times slower); either way the file must hold the second pass's pictures.
        #expect(o.result.segmentFrames == 0 || (6...tail + 1).contains(o.result.segmentFrames),
                "\(o.result.segmentFrames) frames in the second encoder, of a tail of \(tail)")
    }

    @Test("the speculation's tail split at a chosen frame: the pictures of the second pass")
    func speculationSplitsTail() throws {
        let tail = LockedBox<Int?>(nil)
        let o = try speculateLeavingTail {
            $0.tailSplitOverride = { frames in
                tail.value = frames
                return frames / 2
            }
        }
        let frames = try #require(tail.value)
        #expect(o.speculated + frames == 105)
        #expect(o.result.segmentFrames == frames - frames / 2 + 1, "the second half of the \(frames) and the card")
    }

    @Test("the speculation draws and encodes on two threads at background priority, beside the caller at its own")
    func backgroundThreads() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let source = try clip(in: dir)
        let nices = Self.nices
        let background = Int(Worker.backgroundNice)
        let before = try nices().filter { $0 == background }.count
        let reader = try VideoReader(path: source, options: ReaderOptions(keepSource: true))
        let spec = try SpeculativeReplay(source: source, output: dir.path("spec.mp4"), info: reader.info, judge: Judge(),
                                         lift: nil, writer: WriterOptions(preset: "ultrafast"))
        // The threads lower their own priority as they start.
        let deadline = Date().addingTimeInterval(20)
        var during = 0
        repeat {
            during = try nices().filter { $0 == background }.count
            if during >= before + 2 { break }
            Thread.sleep(forTimeInterval: 0.01)
        } while Date() < deadline
        spec.abandon()
        #expect(during >= before + 2, "threads at nice \(background): \(before) before, \(during) during")
        #expect(Worker.currentNice() < Worker.backgroundNice)
    }

    @Test("a background thread gets nice 10 and, where the kernel takes a custom slice (Linux 6.12+), a 0.1 ms slice; elsewhere its slice is left alone")
    func backgroundSlice() throws {
        /// This thread's nice value and EEVDF slice (ns) from /proc/thread-self.
        @Sendable func own() -> (nice: Int?, slice: Int?) {
            let stat = (try? String(contentsOfFile: "/proc/thread-self/stat", encoding: .utf8)) ?? ""
            let fields = stat.lastIndex(of: ")").map { stat[stat.index(after: $0)...].split(separator: " ") } ?? []
            let sched = (try? String(contentsOfFile: "/proc/thread-self/sched", encoding: .utf8)) ?? ""
            let slice = sched.split(separator: "\n").first { $0.hasPrefix("se.slice") }
                .flatMap { $0.split(separator: ":").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
            return (fields.count > 16 ? Int(fields[16]) : nil, slice)
        }
        let result = LockedBox<(before: (nice: Int?, slice: Int?), applied: Bool, after: (nice: Int?, slice: Int?))?>(nil)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            let before = own()
            let applied = Worker.lowerOwnPriority()
            result.value = (before, applied, own())
            done.signal()
        }
        thread.start()
        done.wait()
        let r = try #require(result.value)
        #expect(r.after.nice == Int(Worker.backgroundNice), "nice \(String(describing: r.after.nice))")
        if r.applied {
            #expect(r.after.slice == Int(Worker.backgroundSlice), "slice \(String(describing: r.after.slice))")
        } else {
            print("this kernel keeps its default slice for SCHED_OTHER (\(String(describing: r.before.slice)) ns)")
            #expect(r.after.slice == r.before.slice)
        }
    }
    #endif

    @Test("frames waiting to be drawn are bounded: past the budget the speculation gives up")
    func memoryBound() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let source = try clip(in: dir)
        var options = SpeculativeReplay.Options()
        options.maxPendingBytes = 10 * 640 * 480 * 3 / 2 // ten decoded 4:2:0 pictures (the RGB is let go), under the lag
        var spec: SpeculativeReplay?
        let (outcome, _) = try speculate(source, to: dir.path("spec.mp4"), people: .none, options: options,
                                         afterFrame: { spec = $1 })
        #expect(outcome == nil)
        #expect(!FileManager.default.fileExists(atPath: dir.path("spec.mp4")))
        #expect(spec?.stopReason == .pendingBudget)
    }

    @Test("when the pose stage ends in the middle of a step, the drawing stops at the next frame and complete draws the rest: the file is the second pass's")
    func endsMidStep() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let source = try clip(in: dir)
        var options = SpeculativeReplay.Options()
        options.beforeDraw = { Thread.sleep(forTimeInterval: 0.05) } // a step of ~90 frames would take 4.5 s
        let (outcome, renderer) = try speculate(source, to: dir.path("spec.mp4"), people: .none, options: options,
                                                awaitDrawing: true)
        let o = try #require(outcome)
        #expect(o.speculated > 0 && o.speculated < 30, "\(o.speculated) frames drawn before the end")
        #expect(o.result.frames == 105 + renderer.cardFrameCount)
        try expectSameAsSecondPass(dir.path("spec.mp4"), source: source, renderer: renderer, in: dir)
    }

    @Test("when the drawing falls behind, the pose stage waits within the budget instead of giving up")
    func backpressure() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let source = try clip(in: dir)
        let picture = 640 * 480 * 3 / 2
        var options = SpeculativeReplay.Options()
        options.maxPendingBytes = 40 * picture // room for the lag and a step, far from the clip's 105 frames
        options.beforeDraw = { Thread.sleep(forTimeInterval: 0.008) } // drawing slower than the frames come
        let (outcome, renderer) = try speculate(source, to: dir.path("spec.mp4"), people: .none, options: options)
        let o = try #require(outcome, "the speculation gave up")
        #expect(o.waitedSeconds > 0, "the pose stage never waited: the test did not fill the budget")
        #expect(o.peakPendingBytes <= options.maxPendingBytes)
        #expect(o.peakPendingBytes > options.maxPendingBytes - 2 * picture)
        #expect(o.speculated > 0)
        #expect(o.result.frames == 105 + renderer.cardFrameCount)
        try expectSameAsSecondPass(dir.path("spec.mp4"), source: source, renderer: renderer, in: dir)
    }
}
