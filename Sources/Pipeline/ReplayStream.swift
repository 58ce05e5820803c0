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
        /// Mean share of each drawn frame's pixels that went through RGB (the spans the overlay drew,
        /// `SourcePicture.paint`; 1 for a frame without its decoded picture).
        var convertedShare = 0.0
        /// Frames drawn on a copy of their decoded picture (the decoder still referenced it).
        var copiedPictures = 0
    }

    /// What the encoding thread takes: a finished frame, or the sign to hand the encoding over to a
    /// thread of normal priority (`promote()`).
    private enum Item: Sendable {
        case frame(Work)
        case handOver
    }

    private let toEncode = BoundedQueue<Item>(capacity: 2)
    private let writer: VideoWriter
    private let encodeClock = LockedBox(StageClock())
    private let encodeError = LockedBox<(any Error)?>(nil)
    private var encoder: Worker?
    private var encoderPriority: Worker.Priority
    private var renderClock = StageClock()
    private var converted = (share: 0.0, frames: 0, copied: 0)
    /// Scratch RGB for drawing on decoded pictures, reused from frame to frame.
    private var canvas: RGBImage?
    private var written = 0
    private var ended = false
    /// The newest drawn frame (the verdict card is drawn over it).
    private var last: Picture?

    /// `priority` is the encoding thread's (`.background` beside inference; `promote()` ends it).
    init(output: String, info: VideoInfo, writer writerOptions: WriterOptions, priority: Worker.Priority = .normal) throws {
        writer = try VideoWriter(path: output, width: info.width, height: info.height,
                                 frameRate: info.frameRate, options: writerOptions)
        encoderPriority = priority
        startEncoder()
    }

    private func startEncoder() {
        let (toEncode, writer, encodeClock, encodeError) = (self.toEncode, self.writer, self.encodeClock, self.encodeError)
        encoder = Worker(name: "replay-encode", priority: encoderPriority) {
            var clock = encodeClock.value
            defer { encodeClock.value = clock }
            while let item = toEncode.pop() {
                guard case .frame(let work) = item else { return } // handed over: the writer stays open
                guard encodeError.value == nil else { continue } // keep draining so the drawing never blocks
                do {
                    try clock.measure {
                        switch work.picture {
                        case .decoded(let picture): try writer.write(picture)
                        case .image(let image): try writer.write(image)
                        }
                        try writer.hold(count: work.hold)
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

    /// The encoding thread's kernel id, once it has started (tests read its priority).
    var encoderThreadID: Int32? { encoder?.threadID }

    /// Moves the encoding from a `.background` thread to one of normal priority, in order, once the
    /// work it stood aside for is over (the pose stage has ended: what is left of the replay is now
    /// the critical path). A thread cannot lower its own nice value without privileges, so a new
    /// thread takes over the queue after the old one has encoded what it had been given.
    func promote() {
        guard !ended, encoderPriority != .normal else { return }
        toEncode.push(.handOver)
        encoder?.join()
        encoderPriority = .normal
        startEncoder()
    }

    /// Draws `overlay` on `frame` and queues it, followed by the held bottom frame with its caption
    /// when the overlay says this is the frame to freeze. Takes the pictures out of `frame`. With the
    /// frame's decoded picture (`VideoFrame.source`) the overlay is drawn on that picture itself, and
    /// only what it draws goes through RGB (`SourcePicture.paint`); the frame's RGB image is not
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
        var canvas = self.canvas.flatMap { $0.width == picture.width && $0.height == picture.height ? $0 : nil }
            ?? RGBImage(width: picture.width, height: picture.height)
        self.canvas = nil // uniquely referenced while drawn on: no copy
        defer { self.canvas = canvas }
        do {
            let damage = try renderClock.measure { try picture.paint(using: &canvas) { renderer.draw(overlay, on: &$0) } }
            converted.share += damage.coverage
            converted.frames += 1
            if picture.copied { converted.copied += 1 }
            emit(.decoded(picture))
            if overlay.freezeCaption != nil && renderer.freezeFrameCount > 0 {
                let held = try renderClock.measure { () throws -> SourcePicture in
                    let held = try picture.copy()
                    _ = try held.paint(using: &canvas) { renderer.drawFreezeCaption(overlay, on: &$0) }
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
        converted.share += 1
        converted.frames += 1
        emit(.image(image))
        if overlay.freezeCaption != nil && renderer.freezeFrameCount > 0 {
            var held = image
            renderClock.measure { renderer.drawFreezeCaption(overlay, on: &held) }
            emit(.image(held), hold: renderer.freezeFrameCount - 1)
        }
        last = .image(image)
    }

    /// Queues a finished picture, shown for `1 + hold` frame periods.
    private func emit(_ picture: Picture, hold: Int = 0) {
        toEncode.push(.frame(Work(picture: picture, hold: max(0, hold))))
        written += 1 + max(0, hold)
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
        stop()
        if let e = encodeError.value { throw e }
        return Result(frames: written, renderSeconds: renderClock.seconds, encodeSeconds: encodeClock.value.seconds,
                      convertedShare: converted.frames > 0 ? converted.share / Double(converted.frames) : 0,
                      copiedPictures: converted.copied)
    }

    /// Stops both threads; the encoding thread removes the unfinished file before `stop()` returns.
    func abandon() {
        encodeError.withLock { if $0 == nil { $0 = CancellationError() } }
        stop()
    }

    private func stop() {
        guard !ended else { return }
        ended = true
        toEncode.close()
        encoder?.join()
    }

    deinit { if !ended { abandon() } }
}
