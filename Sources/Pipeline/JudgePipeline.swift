import Foundation
import Imaging
import Judging
import Media
import Pose
import PoseData
import Replay

public struct JudgeStats: Sendable, Codable, Equatable {
    /// Pass 1: decode + pose (overlapped).
    public var pose = PipelineStats()
    public var judgeSeconds = 0.0
    /// Pass 2: decode + render + encode of the replay (overlapped); 0 without a replay.
    public var replaySeconds = 0.0
    public var replayFrames = 0
    /// Busy time of the replay pass's stages (they overlap).
    public var replayDecodeSeconds = 0.0
    public var replayRenderSeconds = 0.0
    public var replayEncodeSeconds = 0.0
    public var wallSeconds = 0.0
    public init() {}
}

public struct JudgeOutcome: Sendable {
    public var track: PoseTrack
    public var analysis: Analysis
    public var stats: JudgeStats
    public var verdict: Verdict { analysis.verdict }
}

/// Pose → judge → replay. The replay needs the whole lift judged (the lifter, the bottom frame, the
/// verdict), so it is a second pass: the video is decoded again (cheap next to inference) while the
/// replay is drawn and encoded on other threads.
public final class JudgePipeline: @unchecked Sendable {
    public let pose: PosePipeline
    public init(model: BlazePose) { pose = PosePipeline(model: model) }

    public func run(path: String, lift: LiftKind?, config: JudgingConfig = .default,
                    options: PosePipelineOptions = PosePipelineOptions(),
                    replayPath: String? = nil, replayWriter: WriterOptions = WriterOptions(preset: "ultrafast"),
                    progress: (Int, Int?) -> Void = { _, _ in }) throws -> JudgeOutcome {
        let clock = ContinuousClock()
        let started = clock.now
        var poseOptions = options
        poseOptions.overlayPath = nil
        let (track, poseStats) = try pose.run(path: path, options: poseOptions, progress: progress)
        var stats = JudgeStats()
        stats.pose = poseStats
        var analysis: Analysis?
        stats.judgeSeconds = clock.measure { analysis = Judge(config: config).analyze(track, lift: lift) }.seconds
        if let replayPath {
            let renderer = ReplayRenderer(analysis: analysis!, track: track)
            let t = clock.now
            let r = try Self.writeReplay(source: path, to: replayPath, renderer: renderer,
                                         reader: options.reader, writer: replayWriter)
            stats.replayFrames = r.frames
            stats.replayDecodeSeconds = r.decode
            stats.replayRenderSeconds = r.render
            stats.replayEncodeSeconds = r.encode
            stats.replaySeconds = (clock.now - t).seconds
        }
        stats.wallSeconds = (clock.now - started).seconds
        return JudgeOutcome(track: track, analysis: analysis!, stats: stats)
    }

    /// Decodes `source` again, draws the replay and encodes it; returns the frames written and the
    /// busy seconds of each stage.
    public static func writeReplay(source: String, to output: String, renderer: ReplayRenderer,
                                   reader readerOptions: ReaderOptions, writer writerOptions: WriterOptions) throws
        -> (frames: Int, decode: Double, render: Double, encode: Double) {
        let reader = try VideoReader(path: source, options: readerOptions)
        let writer = try VideoWriter(path: output, width: reader.info.width, height: reader.info.height,
                                     frameRate: reader.info.frameRate, options: writerOptions)
        let decoded = BoundedQueue<Result<VideoFrame, any Error>>(capacity: 2)
        enum Work: Sendable { case frame(RGBImage), repeatLast(Int) }
        let toEncode = BoundedQueue<Work>(capacity: 2)
        let decodeClock = LockedBox(StageClock()), encodeClock = LockedBox(StageClock())
        let decoder = Worker(name: "replay-decode") {
            var clock = StageClock()
            defer { decodeClock.value = clock }
            do {
                while let f = try clock.measure({ try reader.next() }) { if !decoded.push(.success(f)) { break } }
            } catch { decoded.push(.failure(error)) }
            decoded.close()
        }
        let encodeError = LockedBox<(any Error)?>(nil)
        let encoder = Worker(name: "replay-encode") {
            var clock = StageClock()
            defer { encodeClock.value = clock }
            while let work = toEncode.pop() {
                guard encodeError.value == nil else { continue }
                do {
                    try clock.measure {
                        switch work {
                        case .frame(let image): try writer.write(image)
                        case .repeatLast(let n): try writer.repeatLast(count: n)
                        }
                    }
                } catch { encodeError.value = error }
            }
            if encodeError.value == nil {
                do { try clock.measure { try writer.finish() } } catch { encodeError.value = error }
            }
        }
        var renderClock = StageClock()
        var failure: (any Error)?
        var last: RGBImage?
        var written = 0
        while let item = decoded.pop() {
            switch item {
            case .failure(let e): failure = e
            case .success(var f):
                renderClock.measure { renderer.render(frame: f.index, time: f.time, on: &f.image) }
                toEncode.push(.frame(f.image))
                written += 1
                if renderer.isBottom(f.index) && renderer.freezeFrameCount > 0 {
                    var held = f.image
                    renderer.freezeCaption(on: &held)
                    toEncode.push(.frame(held))
                    toEncode.push(.repeatLast(renderer.freezeFrameCount - 1))
                    written += renderer.freezeFrameCount
                }
                last = f.image
            }
            if failure != nil { break }
        }
        decoded.close()
        if failure == nil, let last {
            let card = renderClock.measure { renderer.verdictCard(over: last) }
            toEncode.push(.frame(card))
            toEncode.push(.repeatLast(renderer.cardFrameCount - 1))
            written += renderer.cardFrameCount
        }
        toEncode.close()
        decoder.join()
        encoder.join()
        if let e = failure ?? encodeError.value {
            try? FileManager.default.removeItem(atPath: output)
            throw e
        }
        return (written, decodeClock.value.seconds, renderClock.seconds, encodeClock.value.seconds)
    }
}
