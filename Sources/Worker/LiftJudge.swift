import Fleet
import Foundation
import Judging
import Media
import Pipeline
import Pose
import Replay

/// A judged lift, as the worker records it.
public struct JudgedLift: Sendable, Equatable {
    /// `good_lift`, `no_lift`, `needs_review`.
    public var decision: String
    /// The main reasons in plain words.
    public var reason: String
    /// The verdict as JSON (`refvision judge --json`).
    public var verdictJSON: String
    public var lift: String?
    public var frames: Int
    public var poseSeconds: Double
    public var replaySeconds: Double
    /// The lift's main signal over time, for the replay page.
    public var chart: DecisionChart? = nil
}

/// A failure that retrying cannot fix (the video itself is the problem). The worker records it as a
/// decision (`failed`) instead of burning retries.
public struct PermanentJobFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// `undecodable`, `over_limits`, `no_lifter`, `not_found`, `invalid_job`.
    public var kind: String
    public var message: String

    public init(kind: String, message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(kind): \(message)" }
}

/// Judges a video and writes its annotated replay. Synchronous and CPU-heavy: the worker runs it on its
/// own thread. Throws `PermanentJobFailure` for bad videos; anything else is treated as transient.
public protocol LiftJudge: Sendable {
    func judge(video: String, lift: String?, replayPath: String, progress: @escaping @Sendable (Double) -> Void) throws -> JudgedLift
}

/// The real judge: BlazePose on OpenVINO, the IPF rules, the replay renderer (`refvision judge`).
/// The model is loaded on first use and reused for every job (one instance per worker slot).
public final class PipelineLiftJudge: LiftJudge, @unchecked Sendable {
    public let modelsDirectory: String
    public let threads: Int
    public let limits: MediaLimits
    private let lock = NSLock()
    private var pipeline: JudgePipeline?

    public init(modelsDirectory: String = ModelLocator.defaultDirectory(), threads: Int = 2, limits: MediaLimits = MediaLimits()) {
        self.modelsDirectory = modelsDirectory
        self.threads = threads
        self.limits = limits
    }

    /// Loads the model now (a worker does it before taking its first job).
    public func warmUp() throws {
        lock.lock()
        defer { lock.unlock() }
        _ = try loadedPipeline()
    }

    private func loadedPipeline() throws -> JudgePipeline {
        if let pipeline { return pipeline }
        let model = try BlazePose(modelsDirectory: modelsDirectory, options: BlazePose.Options(threads: threads))
        let made = JudgePipeline(model: model)
        pipeline = made
        return made
    }

    public func judge(video: String, lift: String?, replayPath: String, progress: @escaping @Sendable (Double) -> Void) throws -> JudgedLift {
        lock.lock()
        defer { lock.unlock() }
        let pipeline = try loadedPipeline()
        var options = PosePipelineOptions()
        options.reader.limits = limits
        let outcome: JudgeOutcome
        do {
            outcome = try pipeline.run(
                path: video, lift: lift.flatMap(LiftKind.init(rawValue:)), options: options, replayPath: replayPath,
                // A replay drawn after inference encodes on this job's share of the cores.
                redrawWriter: JudgePipeline.redrawWriter(JudgePipeline.replayWriter, cores: threads),
                progress: { done, total in
                    if let total, total > 0 { progress(min(1, Double(done) / Double(total))) }
                })
        } catch let error as MediaError {
            throw Self.classify(error)
        }
        let verdict = outcome.verdict
        guard verdict.lifterTrackId != nil else {
            throw PermanentJobFailure(kind: "no_lifter", message: verdict.reasons.first ?? "no lifter found in the video")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return JudgedLift(
            decision: verdict.decision.rawValue, reason: verdict.reasons.prefix(3).joined(separator: "; "),
            verdictJSON: String(decoding: try encoder.encode(verdict), as: UTF8.self), lift: verdict.lift?.rawValue,
            frames: outcome.stats.pose.frames, poseSeconds: outcome.stats.pose.wallSeconds,
            replaySeconds: outcome.stats.replaySeconds, chart: DecisionChart.from(outcome.analysis))
    }

    /// Media errors caused by the input are permanent; failing to write the replay (disk) is not.
    static func classify(_ error: MediaError) -> any Error {
        switch error {
        case .fileTooLarge, .frameTooLarge, .tooLong:
            return PermanentJobFailure(kind: "over_limits", message: error.description)
        case .emptyFile, .unrecognizedFormat, .noVideoStream, .unsupportedCodec, .noFrames, .decodeFailed:
            return PermanentJobFailure(kind: "undecodable", message: error.description)
        case .fileNotFound, .notAFile, .encodeFailed, .pictureCopyFailed, .invalidArgument:
            return error
        }
    }
}
