import ArgumentParser
import Foundation
import Judging
import Media
import Pipeline
import Pose
import PoseData
import Replay

extension LiftKind: ExpressibleByArgument {}

struct JudgeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "judge",
        abstract: "Judges a lift video against the IPF rules: good lift, no lift, or needs review.",
        discussion: """
        The lift kind is --lift, else read from the file name (a word squat, bench or deadlift in it, \
        e.g. meet/athlete/squat-2.mp4), else inferred from the pose. Exit code 0 for any verdict; \
        non-zero only for errors. --from-pose re-judges a saved `refvision pose --json` track without \
        running the pose model (e.g. after a threshold change).
        """)

    @Argument(help: "A lift video (or, with --from-pose, nothing).")
    var file: String?

    @Option(help: "squat, bench or deadlift (default: from the file name, else inferred).")
    var lift: LiftKind?

    @Option(help: ArgumentHelp("Write the annotated replay (H.264 MP4, faststart).", valueName: "OUT.mp4"))
    var replay: String?

    @Option(help: ArgumentHelp("Write the Verdict as JSON to PATH, or '-' for stdout.", valueName: "PATH"))
    var json: String?

    @Option(help: ArgumentHelp("Judge a saved pose track instead of a video.", valueName: "POSE.json"))
    var fromPose: String?

    @Option(help: ArgumentHelp("Also save the pose track (re-judge it later with --from-pose).", valueName: "POSE.json"))
    var poseJson: String?

    @Option(help: ArgumentHelp("Judging thresholds as JSON (any subset of the config; see docs/judging.md).",
                               valueName: "CONFIG.json"))
    var config: String?

    @Option(help: "OpenVINO inference threads.")
    var threads: Int = 2

    @Option(help: "Landmark runs kept going side by side (each on threads/lanes threads); 1 tracks each frame from the one before, as MediaPipe does.")
    var lanes: Int = 2

    @Option(help: "libx264 preset for --replay.")
    var preset: String = "ultrafast"

    @Option(help: ArgumentHelp("Write timings as JSON to PATH (used by make bench).", valueName: "PATH"))
    var statsJson: String?

    func validate() throws {
        if fromPose == nil && file == nil { throw ValidationError("give a video FILE or --from-pose POSE.json") }
        if fromPose != nil && file != nil { throw ValidationError("give either a video FILE or --from-pose, not both") }
        if fromPose != nil && replay != nil { throw ValidationError("--replay needs the video: give FILE, not --from-pose") }
        guard (0...64).contains(threads) else { throw ValidationError("--threads must be 0…64") }
        guard (1...4).contains(lanes) else { throw ValidationError("--lanes must be 1…4") }
    }

    func run() throws {
        do { try judge() } catch { failAndExit(error) }
    }

    private func loadConfig() throws -> JudgingConfig {
        guard let config else { return .default }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: config)) } catch {
            throw CLIError(description: "cannot read \(config): \(error.localizedDescription)", code: Exit.badInput)
        }
        do {
            let c = try JSONDecoder().decode(JudgingConfig.self, from: data)
            try c.validate()
            return c
        } catch let e as DecodingError {
            throw CLIError(description: "\(config): not a valid judging config: \(describe(e))", code: Exit.badInput)
        } catch {
            throw CLIError(description: "\(config): \(error)", code: Exit.badInput)
        }
    }

    private func judge() throws {
        let cfg = try loadConfig()
        let analysis: Analysis
        var stats: JudgeStats?
        if let fromPose {
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: fromPose)) } catch {
                throw CLIError(description: "cannot read \(fromPose): \(error.localizedDescription)", code: Exit.badInput)
            }
            let track = try JSONDecoder().decode(PoseTrack.self, from: data)
            analysis = Judge(config: cfg).analyze(track, lift: lift)
        } else if let file {
            let model = try BlazePose(options: BlazePose.Options(threads: threads, lanes: lanes))
            var bar = ProgressBar(label: (file as NSString).lastPathComponent)
            let outcome = try JudgePipeline(model: model).run(
                path: file, lift: lift, config: cfg, replayPath: replay,
                replayWriter: { var w = JudgePipeline.replayWriter; w.preset = preset; return w }(), progress: { bar.update($0, $1) })
            bar.finish()
            analysis = outcome.analysis
            stats = outcome.stats
            if let poseJson { try writeOutput(Data(outcome.track.jsonData()), to: poseJson) }
        } else {
            throw ValidationError("give a video FILE or --from-pose POSE.json")
        }
        if let json { try writeOutput(try VerdictJSON.encode(analysis.verdict), to: json) }
        if let statsJson, let stats {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try writeOutput(try encoder.encode(stats), to: statsJson)
        }
        let text = Self.plainWords(analysis.verdict, replay: replay, stats: stats)
        if json == "-" || statsJson == "-" {
            FileHandle.standardError.write(Data((text + "\n").utf8))
        } else {
            print(text)
        }
    }

    /// The verdict in plain words.
    static func plainWords(_ v: Verdict, replay: String?, stats: JudgeStats?) -> String {
        let decision: String = switch v.decision {
        case .goodLift: "GOOD LIFT"
        case .noLift: "NO LIFT"
        case .needsReview: "NEEDS REVIEW"
        }
        var lines = ["\((v.lift?.rawValue ?? "lift").capitalized): \(decision)"
                     + (v.lift != nil ? " (lift kind \(v.liftSource.rawValue))" : "")]
        for r in v.reasons { lines.append("  - \(r)") }
        for rule in v.rules {
            let mark = switch rule.status { case .passed: "✓"; case .failed: "✗"; case .unknown: "?" }
            var line = "  \(mark) \(ReplayRenderer.ruleName(rule.id).lowercased())"
            if let value = rule.value {
                line += String(format: ": %.3f %@ (threshold %.3f)", value, rule.unit.rawValue, rule.threshold)
            }
            if let t = rule.time { line += String(format: " at %.2f s", t) }
            if !rule.note.isEmpty { line += " — \(rule.note)" }
            lines.append(line)
        }
        if let replay { lines.append("  replay written to \(replay)") }
        if let s = stats {
            lines.append(String(format: "  %d frames: pose %.2f s, judge %.3f s, replay after pose %.2f s, total %.2f s",
                                s.pose.frames, s.pose.wallSeconds, s.judgeSeconds, s.replaySeconds, s.wallSeconds))
            if s.replayFrames > 0 {
                let drawing = s.replayRedrawn
                    ? "drawn again after the pose stage (\(s.replayRedrawReason?.explanation ?? "the speculation stopped"))"
                    : "\(s.replaySpeculatedFrames) drawn during the pose stage"
                lines.append(String(format: "  replay: %d frame periods, %@; busy decode %.2f s, render %.2f s, encode %.2f s (%.0f%% of each frame converted from RGB)",
                                    s.replayFrames, drawing, s.replayDecodeSeconds, s.replayRenderSeconds,
                                    s.replayEncodeSeconds, 100 * s.replayConvertedShare))
            }
        }
        return lines.joined(separator: "\n")
    }
}

/// The Verdict's JSON, keys sorted so the output is stable.
enum VerdictJSON {
    static func encode(_ v: Verdict) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(v)
    }
}
