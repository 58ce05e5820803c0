import Foundation
import Imaging
import Media
import Replay

/// The source decoded again on its own thread, for a replay drawn after the pose stage. The queue is
/// bounded, so memory stays a few frames whatever the clip's length.
final class SourceFrames: @unchecked Sendable {
    private let decoded = BoundedQueue<Swift.Result<VideoFrame, any Error>>(capacity: 2)
    private let clock = LockedBox(StageClock())
    private var decoder: Worker?
    private var ended = false
    let info: VideoInfo

    init(path: String, options: ReaderOptions) throws {
        let reader = try VideoReader(path: path, options: options)
        info = reader.info
        let (decoded, decodeClock) = (self.decoded, self.clock)
        decoder = Worker(name: "replay-decode") {
            var clock = StageClock()
            defer { decodeClock.value = clock }
            do {
                while let f = try clock.measure({ try reader.next() }) { if !decoded.push(.success(f)) { break } }
            } catch { decoded.push(.failure(error)) }
            decoded.close()
        }
    }

    /// The next source frame; nil at the end of the video. Throws what the decoder hit.
    func next() throws -> VideoFrame? {
        guard let item = decoded.pop() else { return nil }
        return try item.get()
    }

    /// Stops the decoder (early or at the end) and returns its busy seconds.
    @discardableResult
    func stop() -> Double {
        if !ended {
            ended = true
            decoded.close()
            decoder?.join()
        }
        return clock.value.seconds
    }

    deinit { stop() }
}

/// The replay's drawing and encoding: the caller draws each frame (`draw(_:_:with:)`), a thread
/// encodes it, and `finish` adds the verdict card. The queue is bounded.
final class ReplayStream: @unchecked Sendable {
    /// A finished frame: a decoded picture drawn on where it lies, or an RGB image.
    private enum Picture: Sendable {
        case decoded(SourcePicture)
        case image(RGBImage)
    }

    private struct Work: Sendable {
        var picture: Picture
        var hold: Int
    }

    struct Result: Sendable {
        /// Frame periods of video written (held frames count for their whole length).
        var frames = 0
        /// 0 when the frames came from the pose stage's decoder.
        var decodeSeconds = 0.0
        var renderSeconds = 0.0
        var encodeSeconds = 0.0
        /// Mean share of each drawn frame's pixels that went through RGB: 0 for a frame drawn on its
        /// decoded picture's planes (`SourcePicture.draw`), 1 for one drawn on its RGB image.
        var convertedShare = 0.0
        /// Frames drawn on a copy of their decoded picture (the decoder still referenced it).
        var copiedPictures = 0
        /// Frames (the card included) the calling thread encoded with a second encoder at the end
        /// (`beginSegment()`); 0 when one encoder wrote the whole file.
        var segmentFrames = 0
    }

    /// What the encoding thread takes: a finished frame, the sign to hand the encoding over to a
    /// thread of normal priority (`promote()`), or the frames the calling thread encoded after its
    /// own (`beginSegment()`), to be put after them in the file.
    private enum Item: Sendable {
        case frame(Work)
        case handOver
        case append(VideoSegment)
    }

    private var toEncode = BoundedQueue<Item>(capacity: 2)
    private let writer: VideoWriter
    private let encodeClock = LockedBox(StageClock())
    /// Frames the encoding threads have encoded, and frames queued for them (`tailSegmentDue`).
    private let encodedFrames = LockedBox(0)
    private var queuedFrames = 0
    /// Where the tail began (`promote`): its start, frames encoded and drawing clock then.
    private var tail: (start: UInt64, encoded: Int, render: StageClock)?
    private var segmentTried = false
    private let encodeError = LockedBox<(any Error)?>(nil)
    private var encoder: Worker?
    private var encoderPriority: Worker.Priority
    private var renderClock = StageClock()
    /// The second encoder at the end of the replay, on the calling thread (`beginSegment()`).
    private var segment: VideoSegment?
    /// The second encoder, made ahead by the background encoding thread before its first frame
    /// (opening x264 takes 4–20 ms here, which would otherwise fall on the tail's critical path).
    private let spare = LockedBox<VideoSegment?>(nil)
    /// The calling thread's encoding in the segment (its count is the segment's frames).
    private var segmentClock = StageClock()
    /// Frames drawn, those drawn on their RGB image (no decoded picture), and on a copy of their picture.
    private var converted = (frames: 0, rgb: 0, copied: 0)
    private var written = 0
    private var ended = false
    /// The newest drawn frame (the verdict card is drawn over it).
    private var last: Picture?

    /// `priority` is the encoding thread's (`.background` beside inference; `promote()` ends it).
    init(output: String, info: VideoInfo, writer writerOptions: WriterOptions, priority: Worker.Priority = .normal) throws {
        writer = try VideoWriter(path: output, width: info.width, height: info.height,
                                 frameRate: info.frameRate, options: writerOptions)
        encoderPriority = priority
        // Only for a one-thread x264: with more, it starts its own threads when opened, and they
        // would keep the opening thread's background priority.
        startEncoder(makingSpare: priority == .background && writerOptions.threads == 1)
    }

    private func startEncoder(makingSpare: Bool = false) {
        let (toEncode, writer, encodeClock, encodeError, spare) = (self.toEncode, self.writer, self.encodeClock, self.encodeError, self.spare)
        let encodedFrames = self.encodedFrames
        encoder = Worker(name: "replay-encode", priority: encoderPriority) {
            if makingSpare { spare.value = try? writer.makeSegment() }
            var clock = encodeClock.value
            defer { encodeClock.value = clock }
            while let item = toEncode.pop() {
                if case .handOver = item { return } // the writer stays open
                guard encodeError.value == nil else { continue } // keep draining so the drawing never blocks
                do {
                    try clock.measure {
                        switch item {
                        case .frame(let work):
                            try Self.encode(work, into: writer)
                            encodedFrames.withLock { $0 += 1 }
                        case .append(let segment):
                            try writer.append(segment)
                        case .handOver:
                            break
                        }
                    }
                } catch { encodeError.value = error }
            }
            if encodeError.value == nil {
                do { try clock.measure { try writer.finish() } } catch { encodeError.value = error }
            }
            // Closed and deleted here, before `stop()` returns: a replay drawn again at the same path
            // must never lose its file to this writer's late clean-up.
            if encodeError.value != nil { writer.abandon() }
        }
    }

    private static func encode(_ work: Work, into sink: some VideoFrameSink) throws {
        switch work.picture {
        case .decoded(let picture): try sink.write(picture)
        case .image(let image): try sink.write(image)
        }
        try sink.hold(count: work.hold)
    }

    /// The encoding thread's kernel id, once it has started (tests read its priority).
    var encoderThreadID: Int32? { encoder?.threadID }

    /// Moves the encoding from a `.background` thread to one of normal priority, in order, once the
    /// work it stood aside for is over (the pose stage has ended: what is left of the replay is now
    /// the critical path). A thread cannot lower its own nice value without privileges, so a new
    /// thread takes over after the old one has encoded what it had been given. `queueing`: how many
    /// drawn frames the new thread's queue holds before the drawing waits (a tail about to be split
    /// with `beginSegment()` is drawn without waiting for the encoding thread). What follows is the
    /// tail: from here `tailSegmentDue` measures how fast the encoding thread and the drawing go.
    func promote(queueing capacity: Int = 2) {
        guard !ended, encoderPriority != .normal || capacity > 2 else { return }
        toEncode.push(.handOver)
        encoder?.join()
        encoderPriority = .normal
        toEncode = BoundedQueue(capacity: max(2, capacity))
        startEncoder()
        tail = (DispatchTime.now().uptimeNanoseconds, encodedFrames.value, renderClock)
    }

    /// Whether the calling thread, about to draw the last `remaining` frames of the tail, should
    /// begin the second encoder now (`beginSegment()`) so that both threads end together: the
    /// encoding thread still has the frames queued for it, the calling thread would draw the
    /// `remaining` frames, encode them and the card. Decided frame by frame from what the tail
    /// itself measures — the encoding thread's frames per second of wall time since `promote`,
    /// the drawing's CPU per frame since then — once each has four frames (before that, from the
    /// replay's costs so far). A fixed split point computed at the start of the tail from the costs
    /// measured during inference left the encoding thread idle for 20–23 ms (medians, up to 86 ms)
    /// at the end of the tail on this machine, on the critical path (docs/replay.md).
    func tailSegmentDue(remaining: Int, minimum: Int) -> Bool {
        // Once a second encoder has been tried (`beginSegment()`), begun or not, nothing is due.
        guard !ended, !segmentTried, let tail else { return false }
        let encoded = encodedFrames.value
        let backlog = queuedFrames - encoded
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - tail.start) / 1e9
        let encodedInTail = encoded - tail.encoded
        let encode = encodedInTail >= 4 ? elapsed / Double(encodedInTail) : encodeClock.value.cpuSecondsPerCall
        let drawnInTail = renderClock.count - tail.render.count
        let draw = drawnInTail >= 4 ? (renderClock.cpuSeconds - tail.render.cpuSeconds) / Double(drawnInTail)
            : renderClock.cpuSecondsPerCall
        return Self.tailSegmentDue(backlog: backlog, remaining: remaining, minimum: minimum, draw: draw, encode: encode)
    }

    /// `tailSegmentDue(remaining:minimum:)` for given seconds per frame: due when the encoding
    /// thread's `backlog` takes at least as long as the calling thread's `remaining` frames drawn
    /// and encoded plus the card, drawn over a whole RGB picture (about five frames' drawing,
    /// measured) and encoded; never for fewer than `minimum` frames (a second encoder's key frame
    /// is not worth it then) or with a cost unknown.
    static func tailSegmentDue(backlog: Int, remaining: Int, minimum: Int, draw: Double, encode: Double) -> Bool {
        guard remaining >= max(1, minimum), backlog > 0, draw >= 0, encode > 0, draw.isFinite, encode.isFinite else { return false }
        let card = 5 * draw + encode
        return Double(backlog) * encode >= Double(remaining) * (draw + encode) + card
    }

    /// From now on the calling thread encodes what it draws (and the card), with a second encoder
    /// of the same settings (`VideoWriter.makeSegment()`): the encoding thread finishes the frames
    /// already queued, then puts these after them. If no second encoder can be made, nothing
    /// changes. Returns whether it started.
    @discardableResult
    func beginSegment() -> Bool {
        guard !ended, segment == nil else { return false }
        segmentTried = true
        let ready = spare.withLock { s in defer { s = nil }; return s }
        guard let made = ready ?? (try? writer.makeSegment()) else { return false }
        segment = made
        return true
    }

    /// Draws `overlay` on `frame` and queues it, followed by the held bottom frame with its caption
    /// when the overlay says this is the frame to freeze. Takes the pictures out of `frame`. With the
    /// frame's decoded picture (`VideoFrame.source`) the overlay is drawn on that picture's planes
    /// (`SourcePicture.draw`, no RGB); the frame's RGB image is not
    /// needed then (it may be empty). Without one, it is drawn on the RGB image.
    func draw(_ frame: inout VideoFrame, _ overlay: FrameOverlay, with renderer: ReplayRenderer) {
        let image = frame.image
        let source = frame.source
        frame.image = RGBImage(width: 0, height: 0)
        frame.source = nil
        if let source {
            draw(on: source, overlay, with: renderer)
        } else {
            draw(on: image, overlay, with: renderer)
        }
    }

    private func draw(on picture: SourcePicture, _ overlay: FrameOverlay, with renderer: ReplayRenderer) {
        do {
            try renderClock.measure { try picture.draw { renderer.draw(overlay, on: &$0) } }
            converted.frames += 1
            if picture.copied { converted.copied += 1 }
            emit(.decoded(picture))
            if overlay.freezeCaption != nil && renderer.freezeFrameCount > 0 {
                let held = try renderClock.measure { () throws -> SourcePicture in
                    let held = try picture.copy()
                    try held.draw { renderer.drawFreezeCaption(overlay, on: &$0) }
                    return held
                }
                emit(.decoded(held), hold: renderer.freezeFrameCount - 1)
            }
            last = .decoded(picture)
        } catch {
            // Out of memory copying a picture: the replay fails (`finish` throws it), nothing crashes.
            encodeError.withLock { if $0 == nil { $0 = error } }
        }
    }

    private func draw(on picture: RGBImage, _ overlay: FrameOverlay, with renderer: ReplayRenderer) {
        var image = picture
        renderClock.measure { renderer.draw(overlay, on: &image) }
        converted.rgb += 1
        converted.frames += 1
        emit(.image(image))
        if overlay.freezeCaption != nil && renderer.freezeFrameCount > 0 {
            var held = image
            renderClock.measure { renderer.drawFreezeCaption(overlay, on: &held) }
            emit(.image(held), hold: renderer.freezeFrameCount - 1)
        }
        last = .image(image)
    }

    /// Queues a finished picture, shown for `1 + hold` frame periods, or encodes it here in the
    /// segment once one has begun.
    private func emit(_ picture: Picture, hold: Int = 0) {
        let work = Work(picture: picture, hold: max(0, hold))
        written += 1 + max(0, hold)
        guard let segment else {
            queuedFrames += 1
            toEncode.push(.frame(work))
            return
        }
        guard encodeError.value == nil else { return }
        do {
            try segmentClock.measure { try Self.encode(work, into: segment) }
        } catch {
            encodeError.withLock { if $0 == nil { $0 = error } }
        }
    }

    /// Appends the verdict card over the last frame and completes the file; throws (the encoding
    /// thread has removed the file) when decoding or encoding failed.
    func finish(card renderer: ReplayRenderer) throws -> Result {
        if let last {
            let card = renderClock.measure { () -> RGBImage in
                switch last {
                case .decoded(let picture): renderer.verdictCard(over: picture.rgbImage())
                case .image(let image): renderer.verdictCard(over: image)
                }
            }
            emit(.image(card), hold: renderer.cardFrameCount - 1)
        }
        if let segment {
            toEncode.push(.append(segment))
            self.segment = nil
        }
        stop()
        if let e = encodeError.value { throw e }
        return Result(frames: written, renderSeconds: renderClock.seconds,
                      encodeSeconds: encodeClock.value.seconds + segmentClock.seconds,
                      convertedShare: converted.frames > 0 ? Double(converted.rgb) / Double(converted.frames) : 0,
                      copiedPictures: converted.copied, segmentFrames: segmentClock.count)
    }

    /// Stops both threads; the encoding thread removes the unfinished file before `stop()` returns.
    func abandon() {
        encodeError.withLock { if $0 == nil { $0 = CancellationError() } }
        stop()
    }

    private func stop() {
        guard !ended else { return }
        ended = true
        segment = nil
        spare.value = nil
        toEncode.close()
        encoder?.join()
    }

    deinit { if !ended { abandon() } }
}
