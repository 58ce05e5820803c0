import Foundation
import Imaging
import Judging
import Media
import PoseData
import Replay

/// Draws and encodes the replay while the pose stage is still running, so that drawing and encoding
/// overlap with inference instead of following it, on the frames the pose stage decoded.
///
/// The replay of a frame depends on the whole lift's judgment (the lifter, the phases, the bottom,
/// when each rule is decided and how), which is final only once every frame has been seen. So this
/// speculates: a thread judges the frames seen so far and draws the frames that lie at least `lag`
/// behind the newest one from that provisional judgment, keeping what it drew for each frame (a
/// `FrameOverlay`). Each later provisional judgment re-checks the frames already drawn and gives up
/// at the first difference (the second pass will be needed, so the CPU goes back to inference).
/// `complete(with:)` compares every drawn overlay with the final judgment's (`ReplayAgreement`: the
/// same lifter, values, statuses and held frame; a phase label or rule mark may switch up to 0.1 s
/// away and the gauge may read 0.01 thigh away): when all agree the file stands and only the last
/// `lag` frames and the card remain; otherwise the file is thrown away and the caller draws the replay
/// again. Drawing waits for a provisional judgment that has found the lifter and either the start of
/// the lift or a set-up with no movement yet (up to `setupWaitSeconds`), since frames drawn before
/// would lack them. The speculation can cost
/// time, never a different call.
final class SpeculativeReplay: @unchecked Sendable {
    struct Options: Sendable {
        /// How far (seconds of video) drawing stays behind the newest judged frame.
        var lagSeconds = 0.5
        /// Decoded frames waiting to be drawn may hold at most this many bytes. Past it the pose
        /// stage waits (`append` blocks) while the drawing takes frames; when the drawing cannot take
        /// any (it needs more frames than the budget holds), the speculation gives up instead.
        var maxPendingBytes = 256 << 20
        /// Called before each frame is drawn during inference (tests slow the drawing with it).
        var beforeDraw: (@Sendable () -> Void)?
        /// How far (thigh) a drawn frame's depth gauge may read from the final judgment's, and how
        /// much earlier or later (seconds) a drawn phase label or rule mark may switch, for the drawn
        /// frames to stay (`ReplayAgreement`).
        var gaugeTolerance = 0.01
        var switchShiftSeconds = 0.1
        /// How long (seconds of video, beyond the lag) drawing waits for a provisional judgment that
        /// has found the lifter and the start of the lift.
        var setupWaitSeconds = 2.0
        /// The frames left to draw when the pose stage ends are drawn on the calling thread; when
        /// at least this many would go to a second encoder, the encoding is split between the
        /// encoding thread (the first part) and the calling thread (the rest, from a key frame:
        /// `ReplayStream.tailSegmentDue`), so both cores work on it. nil: one encoder, and the file is byte
        /// for byte the one a single encoder writes.
        var tailSegmentMinimum: Int? = 10
        /// Tests choose the split point of a tail of that many frames with this (nil: no split).
        var tailSplitOverride: (@Sendable (_ frames: Int) -> Int?)?
        init() {}
    }

    struct Outcome: Sendable {
        var result: ReplayStream.Result
        /// Frames drawn during the pose stage (checked against the final judgment).
        var speculated: Int
        var judgments: Int
        /// How long the pose stage waited for the drawing to catch up (the budget was full).
        var waitedSeconds: Double
        /// The most bytes the waiting frames held at once.
        var peakPendingBytes: Int
    }

    private let stream: ReplayStream
    private let judge: Judge
    private let lift: LiftKind?
    private let source: String
    private let width: Int, height: Int
    private let fps: Double
    private let lag: Int
    private let maxPendingBytes: Int
    private let beforeDraw: (@Sendable () -> Void)?
    private let agreement: ReplayAgreement
    private let setupWait: Int
    private let tailSegmentMinimum: Int?
    private let tailSplitOverride: (@Sendable (Int) -> Int?)?

    private let condition = NSCondition()
    // Under `condition`.
    private var poses: [PoseFrame] = []
    private var pending: [VideoFrame] = [] // decoded frames not drawn yet, oldest first
    private var pendingBytes = 0
    private var peakPendingBytes = 0
    private var waitedNanoseconds: UInt64 = 0
    /// While the drawing thread waits for more poses: the count it waits for, less the step
    /// (`speculate`). nil while it works.
    private var waitingBase: Int?
    private var inputEnded = false
    private var gaveUp = false
    /// Why the speculation produced no file (nil while it stands, or if it did).
    private var _stopReason: ReplayRedrawReason?
    /// `drawn.count`, for other threads (`framesDrawn`).
    private var framesDrawnSoFar = 0
    private var worker: Worker?
    // Touched by the worker thread only until it is joined.
    private var drawn: [FrameOverlay] = []
    private var judgments = 0

    /// Frames drawn so far from provisional judgments (readable from any thread).
    var framesDrawn: Int {
        condition.lock()
        defer { condition.unlock() }
        return framesDrawnSoFar
    }

    init(source: String, output: String, info: VideoInfo, judge: Judge, lift: LiftKind?,
         writer: WriterOptions, options: Options = Options()) throws {
        // Both threads run at background priority: inference is the critical path, and the replay
        // only has to keep up with it (the pending budget bounds how far it may fall behind).
        stream = try ReplayStream(output: output, info: info, writer: writer, priority: .background)
        self.judge = judge
        self.lift = lift
        self.source = source
        width = info.width
        height = info.height
        fps = info.fps > 0 ? info.fps : 30
        lag = max(1, Int((options.lagSeconds * fps).rounded()))
        maxPendingBytes = options.maxPendingBytes
        beforeDraw = options.beforeDraw
        setupWait = max(0, Int((options.setupWaitSeconds * fps).rounded()))
        tailSegmentMinimum = options.tailSegmentMinimum
        tailSplitOverride = options.tailSplitOverride
        agreement = ReplayAgreement(shift: max(1, Int((options.switchShiftSeconds * fps).rounded())),
                                    gaugeTolerance: options.gaugeTolerance)
        worker = Worker(name: "replay-speculate", priority: .background) { [self] in speculate() }
    }

    /// A frame's poses and picture, in order, as the pose stage produces them. A frame with its
    /// decoded picture is drawn on that (`ReplayStream.draw`), so its RGB image is let go here: only
    /// the decoded picture waits to be drawn.
    func append(_ pose: PoseFrame, _ frame: VideoFrame) {
        var frame = frame
        if frame.source != nil { frame.image = RGBImage(width: 0, height: 0) }
        let size = Self.bytes(frame)
        condition.lock()
        defer { condition.unlock() }
        // Backpressure: while the frame does not fit in the budget, wait for the drawing to take
        // frames. Giving up instead would cost the whole replay again after inference.
        if pendingBytes + size > maxPendingBytes && !gaveUp {
            let start = DispatchTime.now().uptimeNanoseconds
            while pendingBytes + size > maxPendingBytes && !gaveUp && !inputEnded && !drawingIsStuck { condition.wait() }
            waitedNanoseconds += DispatchTime.now().uptimeNanoseconds - start
            if pendingBytes + size > maxPendingBytes { giveUp(.pendingBudget) }
        }
        guard !gaveUp else { return }
        poses.append(pose)
        pending.append(frame)
        pendingBytes += size
        peakPendingBytes = max(peakPendingBytes, pendingBytes)
        condition.broadcast()
    }

    /// Under `condition`: whether the drawing thread waits for poses it will not get while the pose
    /// stage waits for it (the frames it must keep behind the newest do not fit in the budget).
    private var drawingIsStuck: Bool {
        guard let base = waitingBase else { return false }
        return poses.count < base + step(seen: poses.count)
    }

    /// Memory a waiting frame holds: its RGB picture, if any, and the decoded one it keeps alive.
    private static func bytes(_ frame: VideoFrame) -> Int { frame.image.pixels.count + (frame.source?.byteCount ?? 0) }

    /// Under `condition`: stop speculating and free the frames.
    private func giveUp(_ reason: ReplayRedrawReason) {
        if !gaveUp { _stopReason = reason }
        gaveUp = true
        pending = []
        pendingBytes = 0
        condition.broadcast()
    }

    /// How many new frames to wait for before judging again: a quarter second, or a 64th of what
    /// has been seen (so a long clip is not judged too often), at most a second. The frames of a
    /// step are drawn together and reach the encoder in a burst, so a step is also about how far
    /// the encoder is behind when the pose stage ends — work left for after it.
    private func step(seen: Int) -> Int { max(1, min(max(Int(fps / 4), seen / 64), Int(fps))) }

    private func speculate() {
        var emitted = 0
        var judgedAt = 0
        while true {
            condition.lock()
            let base = max(emitted + lag, judgedAt)
            while !inputEnded && !gaveUp && poses.count < base + step(seen: poses.count) {
                waitingBase = base
                condition.broadcast() // a pose stage waiting on the budget must learn this
                condition.wait()
            }
            waitingBase = nil
            if inputEnded || gaveUp {
                condition.unlock()
                return
            }
            let snapshot = poses
            condition.unlock()

            let track = PoseTrack(source: source, width: width, height: height, fps: fps, frames: snapshot)
            let renderer = ReplayRenderer(analysis: judge.analyze(track, lift: lift, partial: true), track: track)
            judgments += 1
            judgedAt = snapshot.count
            // Nothing is drawn before the lifter is found and either the start of the lift or, when
            // the lifter has not moved yet, the set-up (until then the frames would be drawn without
            // the skeleton, the phases and the rules, and differ from the final judgment's), unless
            // that keeps more than `setupWait` frames or three quarters of the pending budget waiting.
            // Set-up frames are drawn a further `lag` behind (as far as half the pending budget
            // allows): the first frames of a descent or a pull are set-up until the tracked point has
            // travelled far enough for the lift to be found.
            condition.lock()
            let lifter = renderer.verdict.lifterTrackId != nil
            let started = lifter && renderer.verdict.keyFrames.start != nil
            let settingUp = lifter && !started && !renderer.analysis.pendingRules.isEmpty
            guard started || settingUp || snapshot.count - emitted > lag + setupWait
                    || pendingBytes > maxPendingBytes / 4 * 3 else {
                condition.unlock()
                continue
            }
            let perFrame = pending.isEmpty ? 1 : max(1, pendingBytes / pending.count)
            let behind = settingUp ? min(2 * lag, max(lag, maxPendingBytes / 2 / perFrame)) : lag
            let ready = max(0, snapshot.count - behind - emitted)
            condition.unlock()
            // A provisional judgment that changes a frame already drawn dooms the file.
            guard agrees(with: renderer, frames: snapshot) else {
                condition.lock()
                giveUp(.provisionalDiffered)
                condition.unlock()
                return
            }
            // A switch in the last frames waits for the next step (`ReplayAgreement.drawable`).
            let overlays = snapshot[emitted..<(emitted + ready)].map { renderer.overlay(frame: $0.index, time: $0.time, height: height) }
            let now = agreement.drawable(overlays, after: drawn.last)
            // Only this thread takes from `pending`, so its first `now` frames are those. Taken frames
            // stay in `pendingBytes` until drawn: the budget bounds every picture held.
            condition.lock()
            var frames = Array(pending.prefix(now))
            pending.removeFirst(frames.count)
            condition.unlock()
            for i in frames.indices {
                beforeDraw?()
                let size = Self.bytes(frames[i])
                stream.draw(&frames[i], overlays[i], with: renderer) // takes the pictures out of the frame
                drawn.append(overlays[i])
                condition.lock()
                framesDrawnSoFar = drawn.count
                if !gaveUp { pendingBytes -= size } // (giving up cleared the count)
                condition.broadcast() // room for the pose stage
                // Once the pose stage has ended, `complete` draws what is left, at normal priority.
                let stop = inputEnded
                if stop { pending.insert(contentsOf: frames[(i + 1)...], at: 0) }
                condition.unlock()
                if stop { return }
            }
            emitted += frames.count
        }
    }

    /// Whether the frames drawn so far may stay in the replay `renderer` draws (`ReplayAgreement`).
    /// `frames`: every frame `renderer` judged, in order.
    private func agrees(with renderer: ReplayRenderer, frames: [PoseFrame]) -> Bool {
        guard drawn.count <= frames.count else { return false }
        let upTo = min(frames.count, drawn.count + agreement.shift + 1)
        let reference = frames[..<upTo].map { renderer.overlay(frame: $0.index, time: $0.time, height: height) }
        return agreement.accepts(drawn: drawn, reference: reference)
    }

    private func endInput() {
        condition.lock()
        inputEnded = true
        condition.broadcast()
        condition.unlock()
        worker?.join()
        worker = nil
    }

    /// Ends the speculation with the final judgment. If every frame drawn so far matches it, draws
    /// the remaining frames and the card and returns the finished replay; returns nil (no file)
    /// when the speculation gave up or a drawn frame differs. Throws encode errors.
    func complete(with renderer: ReplayRenderer) throws -> Outcome? {
        endInput()
        condition.lock()
        let kept = !gaveUp
        let allPoses = poses
        var rest = pending
        pending = []
        condition.unlock()
        guard kept, agrees(with: renderer, frames: allPoses) else {
            if kept {
                condition.lock()
                _stopReason = .finalDiffered
                condition.unlock()
            }
            stream.abandon()
            return nil
        }
        // The rest of the replay is now the critical path: encode it at normal priority, and draw
        // it on this thread (which never lowered its priority). With enough of it, this thread also
        // encodes its second part, so the encoding thread is not left with all of it.
        // The queue takes every frame left, so this thread never waits for the encoding thread (the
        // pictures are held either way). Where the second encoder begins is decided frame by frame
        // from how fast the tail goes (`ReplayStream.tailSegmentDue`), unless a test chose it.
        stream.promote(queueing: rest.count + 2)
        let split = tailSplitOverride.map { $0(rest.count) }
        do {
            for i in rest.indices {
                let due = tailSplitOverride != nil ? i == split
                    : tailSegmentMinimum.map { stream.tailSegmentDue(remaining: rest.count - i, minimum: $0) } ?? false
                if due { stream.beginSegment() }
                let o = renderer.overlay(frame: rest[i].index, time: rest[i].time, height: rest[i].height)
                stream.draw(&rest[i], o, with: renderer)
            }
            condition.lock()
            let (waited, peak) = (Double(waitedNanoseconds) / 1e9, peakPendingBytes)
            condition.unlock()
            return Outcome(result: try stream.finish(card: renderer), speculated: drawn.count, judgments: judgments,
                           waitedSeconds: waited, peakPendingBytes: peak)
        } catch {
            stream.abandon()
            throw error
        }
    }

    /// Why the speculation produced no file, once it has stopped without one.
    var stopReason: ReplayRedrawReason? {
        condition.lock()
        defer { condition.unlock() }
        return _stopReason
    }

    /// Stops without a replay (the pose stage failed).
    func abandon() {
        endInput()
        stream.abandon()
    }
}

/// Why a replay drawn during inference was thrown away and drawn again after it.
public enum ReplayRedrawReason: String, Sendable, Codable, Equatable {
    /// The frames waiting to be drawn passed the memory budget (`SpeculativeReplay.Options.maxPendingBytes`).
    case pendingBudget = "pending-budget"
    /// A later provisional judgment changed a frame already drawn.
    case provisionalDiffered = "provisional-differed"
    /// The final judgment changed a frame already drawn.
    case finalDiffered = "final-differed"

    /// In words, for the CLI.
    public var explanation: String {
        switch self {
        case .pendingBudget: "the frames waiting to be drawn passed the memory budget"
        case .provisionalDiffered: "a later provisional judgment changed a frame already drawn"
        case .finalDiffered: "the final judgment changed a frame already drawn"
        }
    }
}
