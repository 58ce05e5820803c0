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
    /// The replay's time after the pose stage ended (the part that did not overlap with it); 0
    /// without a replay.
    public var replaySeconds = 0.0
    /// Frame periods of replay video written (held frames count for their whole length).
    public var replayFrames = 0
    /// Busy time of the replay's stages (they overlap).
    public var replayDecodeSeconds = 0.0
    public var replayRenderSeconds = 0.0
    public var replayEncodeSeconds = 0.0
    /// Mean share of a replay frame's pixels that went through RGB: 0 when the overlay was drawn on
    /// the decoded pictures' planes, 1 when frames were drawn on RGB images.
    public var replayConvertedShare = 0.0
    /// Replay frames drawn on a copy of their decoded picture, because the decoder still held it.
    public var replayCopiedPictures = 0
    /// Frames (the card included) of the replay's end that a second encoder wrote on the calling
    /// thread while the encoding thread finished the frames before them (0: one encoder).
    public var replaySegmentFrames = 0
    /// Frames drawn while the pose stage ran and then confirmed by the final judgment (0 when the
    /// speculation was off or a drawn frame differed and the replay was drawn again).
    public var replaySpeculatedFrames = 0
    /// Whether the speculative replay was thrown away and drawn again after the pose stage.
    public var replayRedrawn = false
    /// Why (`pending-budget`, `provisional-differed` or `final-differed`); nil when it was not.
    public var replayRedrawReason: ReplayRedrawReason?
    /// How long the pose stage waited for the replay drawn during inference to catch up (the
    /// decoded pictures waiting for it had filled their budget), and the most bytes they held.
    public var replayWaitSeconds = 0.0
    public var replayPeakPendingBytes = 0
    public var wallSeconds = 0.0
    public init() {}
}

public struct JudgeOutcome: Sendable {
    public var track: PoseTrack
    public var analysis: Analysis
    public var stats: JudgeStats
    public var verdict: Verdict { analysis.verdict }
}

/// Pose → judge → replay. The replay of a frame depends on the whole lift's judgment, yet it is drawn
/// and encoded while inference runs: `SpeculativeReplay` draws from a provisional judgment of the
/// frames seen so far and checks every drawn frame against the final one. When one differs, the
/// replay is drawn again in a second pass from the final judgment (`writeReplay`).
public final class JudgePipeline: @unchecked Sendable {
    public let pose: PosePipeline
    public init(model: BlazePose) { pose = PosePipeline(model: model) }

    public func run(path: String, lift: LiftKind?, config: JudgingConfig = .default,
                    options: PosePipelineOptions = PosePipelineOptions(),
                    replayPath: String? = nil, replayWriter: WriterOptions = JudgePipeline.replayWriter,
                    redrawWriter: WriterOptions? = nil, speculate: Bool = true,
                    progress: (Int, Int?) -> Void = { _, _ in }) throws -> JudgeOutcome {
        let clock = ContinuousClock()
        let started = clock.now
        var poseOptions = options
        poseOptions.overlayPath = nil
        // The replay drawn during inference encodes from the decoder's pictures (only what the
        // overlay draws is converted back to YUV).
        if replayPath != nil && speculate { poseOptions.reader.keepSource = true }
        let judge = Judge(config: config)
        // The speculation starts once the video is open (it needs the frame size and rate).
        var speculation: SpeculativeReplay?
        let startSpeculation: ((VideoInfo) throws -> Void)? = replayPath.flatMap { output in
            speculate ? { info in
                speculation = try SpeculativeReplay(source: path, output: output, info: info, judge: judge, lift: lift,
                                                    writer: replayWriter)
            } : nil
        }
        let track: PoseTrack, poseStats: PipelineStats
        do {
            (track, poseStats) = try pose.run(path: path, options: poseOptions, opened: startSpeculation,
                                              observer: startSpeculation.map { _ in { speculation?.append($0, $1) } },
                                              progress: progress)
        } catch {
            speculation?.abandon()
            throw error
        }
        var stats = JudgeStats()
        stats.pose = poseStats
        var analysis: Analysis?
        stats.judgeSeconds = clock.measure { analysis = judge.analyze(track, lift: lift) }.seconds
        if let replayPath {
            let renderer = ReplayRenderer(analysis: analysis!, track: track)
            let t = clock.now
            var result: ReplayStream.Result
            if let outcome = try speculation?.complete(with: renderer) {
                result = outcome.result
                stats.replaySpeculatedFrames = outcome.speculated
                stats.replayWaitSeconds = outcome.waitedSeconds
                stats.replayPeakPendingBytes = outcome.peakPendingBytes
            } else {
                stats.replayRedrawn = speculation != nil
                stats.replayRedrawReason = speculation?.stopReason
                result = try Self.writeReplay(source: path, to: replayPath, renderer: renderer, reader: options.reader,
                                              writer: redrawWriter ?? Self.redrawWriter(replayWriter))
            }
            stats.replayFrames = result.frames
            stats.replayDecodeSeconds = result.decodeSeconds
            stats.replayRenderSeconds = result.renderSeconds
            stats.replayEncodeSeconds = result.encodeSeconds
            stats.replayConvertedShare = result.convertedShare
            stats.replayCopiedPictures = result.copiedPictures
            stats.replaySegmentFrames = result.segmentFrames
            stats.replaySeconds = (clock.now - t).seconds
        }
        stats.wallSeconds = (clock.now - started).seconds
        return JudgeOutcome(track: track, analysis: analysis!, stats: stats)
    }

    /// The replay's encoder settings: ultrafast, a constant quantiser of 20 (CRF would have x264
    /// measure every frame's complexity first; QP 20 is a little below CRF 23's quality at half to two
    /// thirds of its size, docs/replay.md), and one x264 thread. The replay's encoding runs on its own
    /// thread beside inference on a small machine, where x264's frame threads cost about a quarter
    /// more CPU for the same frames.
    public static let replayWriter = WriterOptions(preset: "ultrafast", rateControl: .qp(20), threads: 1)

    /// The encoder settings of a replay drawn after inference: `replay` with x264 frame threads on
    /// `cores` (the cores this job may use — a fleet worker running several jobs passes its share),
    /// up to 4. Nothing else of the job runs then, and on a 2-core machine frame threads take about a
    /// quarter off the second pass of a single lift. The picture settings (preset, CRF) are the replay's.
    public static func redrawWriter(_ replay: WriterOptions,
                                    cores: Int = ProcessInfo.processInfo.activeProcessorCount) -> WriterOptions {
        var w = replay
        w.threads = max(replay.threads, min(4, cores))
        return w
    }

    /// Decodes `source` again, draws the replay from `renderer` and encodes it.
    static func writeReplay(source: String, to output: String, renderer: ReplayRenderer,
                            reader: ReaderOptions, writer: WriterOptions) throws -> ReplayStream.Result {
        var reader = reader
        // Drawn on the decoded pictures (`ReplayStream.draw`): no RGB conversion of the frames that keep one.
        reader.keepSource = true
        reader.rgbBesideSource = false
        let frames = try SourceFrames(path: source, options: reader)
        let stream = try ReplayStream(output: output, info: frames.info, writer: writer)
        do {
            while var f = try frames.next() {
                stream.draw(&f, renderer.overlay(frame: f.index, time: f.time, height: f.height), with: renderer)
            }
            var result = try stream.finish(card: renderer)
            result.decodeSeconds = frames.stop()
            return result
        } catch {
            frames.stop()
            stream.abandon()
            throw error
        }
    }
}
