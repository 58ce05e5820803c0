import Foundation
import Imaging
import Media
import Pose
import PoseData

/// How long each stage of a run was busy, and what it did. Stages overlap, so the busy times add up
/// to more than the wall time when the pipeline is doing its job.
public struct PipelineStats: Sendable, Codable, Equatable {
    public var frames = 0
    public var wallSeconds = 0.0
    public var decodeSeconds = 0.0
    public var poseSeconds = 0.0
    public var renderSeconds = 0.0
    public var encodeSeconds = 0.0
    public var detectorRuns = 0
    public var landmarkRuns = 0

    public init() {}

    public var framesPerSecond: Double { wallSeconds > 0 ? Double(frames) / wallSeconds : 0 }
    public var poseMillisecondsPerFrame: Double { frames > 0 ? 1000 * poseSeconds / Double(frames) : 0 }
}

public struct PosePipelineOptions: Sendable {
    public var reader = ReaderOptions()
    public var writer = WriterOptions()
    /// Where to write the overlay video (skeletons drawn on the frames); nil for none.
    public var overlayPath: String?
    public var tracker = PoseTracker.Options()
    /// Frames buffered between stages (bounds memory: each is one RGB frame).
    public var queueDepth = 2

    public init() {}
}

/// One frame's result as it flows to the render/encode stage.
public struct PoseFrameResult: Sendable {
    public var frame: VideoFrame
    public var people: [PoseTracker.Person]
}

/// Draws on a frame before it is encoded (runs on the encoder's thread, in frame order).
public typealias FrameRenderer = @Sendable (inout RGBImage, PoseFrameResult) -> Void

/// decode → pose → draw → encode, each stage on its own thread with small bounded queues between,
/// so decoding and encoding overlap with inference. Frames are streamed: memory stays bounded
/// whatever the video's length.
public final class PosePipeline: @unchecked Sendable {
    public let model: BlazePose

    public init(model: BlazePose) { self.model = model }

    /// Runs the pipeline on `path`. `opened` gets the video's description once it is open, before any
    /// frame is decoded (an error it throws ends the run); `observer` gets each frame's poses (with the
    /// decoded frame) as soon as they are known, and `progress(done, total)` is called after it, both
    /// on the calling thread.
    public func run(path: String, options: PosePipelineOptions = PosePipelineOptions(),
                    renderer: FrameRenderer? = nil,
                    opened: ((VideoInfo) throws -> Void)? = nil,
                    observer: ((PoseFrame, VideoFrame) -> Void)? = nil,
                    progress: (Int, Int?) -> Void = { _, _ in }) throws -> (PoseTrack, PipelineStats) {
        let started = DispatchTime.now().uptimeNanoseconds
        let reader = try VideoReader(path: path, options: options.reader)
        let info = reader.info
        try opened?(info)
        var stats = PipelineStats()

        // Stage 1: decode.
        let decoded = BoundedQueue<Result<VideoFrame, any Error>>(capacity: options.queueDepth)
        let decodeClock = LockedBox(StageClock())
        let decoder = Worker(name: "decode") {
            var clock = StageClock()
            defer { decodeClock.value = clock }
            do {
                while let f = try clock.measure({ try reader.next() }) {
                    if !decoded.push(.success(f)) { break }
                }
            } catch {
                decoded.push(.failure(error))
            }
            decoded.close()
        }

        // Stage 3: render + encode (optional).
        var writer: VideoWriter?
        let toEncode = BoundedQueue<PoseFrameResult>(capacity: options.queueDepth)
        let encodeResult = LockedBox<(render: StageClock, encode: StageClock, error: (any Error)?)>((StageClock(), StageClock(), nil))
        var encoder: Worker?
        if let overlayPath = options.overlayPath {
            do {
                writer = try VideoWriter(path: overlayPath, width: info.width, height: info.height,
                                         frameRate: info.frameRate, options: options.writer)
            } catch {
                decoded.close()
                decoder.join()
                throw error
            }
            let w = writer!
            let draw: FrameRenderer = renderer ?? Self.defaultRenderer
            encoder = Worker(name: "encode") {
                var render = StageClock(), encode = StageClock()
                var failure: (any Error)?
                while let item = toEncode.pop() {
                    guard failure == nil else { continue } // keep draining so the pose stage never blocks
                    var image = item.frame.image
                    render.measure { draw(&image, item) }
                    do { try encode.measure { try w.write(image) } } catch { failure = error }
                }
                if failure == nil {
                    do { try encode.measure { try w.finish() } } catch { failure = error }
                }
                if failure != nil { w.abandon() }
                encodeResult.value = (render, encode, failure)
            }
        }

        // Stage 2: pose, on this thread.
        let tracker = PoseTracker(model: model, options: options.tracker)
        var poseClock = StageClock()
        var frames: [PoseFrame] = []
        var failure: (any Error)?
        let total = info.frameCount
        // Frames whose landmark runs are still going (the tracker hands results back in order).
        var inFlight: [VideoFrame] = []
        func emit(_ frame: VideoFrame, _ people: [PoseTracker.Person]) {
            let poseFrame = PoseFrame(index: frame.index, time: frame.time, people: people.map(\.pose))
            frames.append(poseFrame)
            observer?(poseFrame, frame)
            if encoder != nil { toEncode.push(PoseFrameResult(frame: frame, people: people)) }
            progress(frames.count, total)
        }
        while let item = decoded.pop() {
            switch item {
            case .failure(let e): failure = e
            case .success(let frame):
                do {
                    if info.isStillImage {
                        emit(frame, try poseClock.measure { try tracker.processStill(frame.image) })
                    } else {
                        inFlight.append(frame)
                        for people in try poseClock.measure({ try tracker.submit(frame.image) }) {
                            emit(inFlight.removeFirst(), people)
                        }
                    }
                    continue
                } catch { failure = error }
            }
            break
        }
        if failure == nil {
            do {
                for people in try poseClock.measure({ try tracker.finish() }) { emit(inFlight.removeFirst(), people) }
            } catch { failure = error }
        }
        tracker.reset()
        decoded.close()
        toEncode.close()
        decoder.join()
        encoder?.join()
        if failure == nil, let e = encodeResult.value.error { failure = e }
        if let failure {
            if let p = options.overlayPath { try? FileManager.default.removeItem(atPath: p) }
            throw failure
        }
        if frames.isEmpty { throw MediaError.noFrames(path: path) }

        stats.frames = frames.count
        stats.decodeSeconds = decodeClock.value.seconds
        stats.poseSeconds = poseClock.seconds
        stats.renderSeconds = encodeResult.value.render.seconds
        stats.encodeSeconds = encodeResult.value.encode.seconds
        stats.detectorRuns = tracker.detectorRuns
        stats.landmarkRuns = tracker.landmarkRuns
        stats.wallSeconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let track = PoseTrack(source: path, width: info.width, height: info.height, fps: info.fps, frames: frames)
        return (track, stats)
    }

    /// Skeletons of everyone tracked plus a caption with the frame number and time.
    public static let defaultRenderer: FrameRenderer = { image, result in
        for p in result.people {
            SkeletonOverlay.draw(p.pose, on: &image, color: SkeletonOverlay.color(forTrack: p.trackID))
        }
        SkeletonOverlay.caption(
            String(format: "FRAME %d  %.2fS  PEOPLE %d", result.frame.index, result.frame.time, result.people.count),
            on: &image)
    }
}

/// A value shared between threads under a lock.
public final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var _value: Value
    public init(_ value: Value) { _value = value }
    public var value: Value {
        get { lock.lock(); defer { lock.unlock() }; return _value }
        set { lock.lock(); _value = newValue; lock.unlock() }
    }

    /// Reads and changes the value in one step (e.g. increment and read).
    public func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&_value)
    }
}
