import ArgumentParser
import Foundation
import Media
import Pipeline
import Pose
import PoseData

struct PoseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pose",
        abstract: "Finds the people in a video (or photo) and their 33 BlazePose landmarks per frame.",
        discussion: """
        Runs BlazePose full on OpenVINO (f32) in video mode: the detector runs when nobody is tracked and \
        every --redetect frames; other frames run only the landmark model. Coordinates are pixels of the \
        upright frame (rotation metadata applied).
        """)

    @Argument(help: "A video (mp4, mov, mkv, avi, webm…) or image (jpg, png, tif).")
    var file: String

    @Option(help: ArgumentHelp("Write the pose track as JSON to PATH, or '-' for stdout.", valueName: "PATH"))
    var json: String?

    @Option(help: ArgumentHelp("Write a video with the skeletons drawn on it (H.264 MP4).", valueName: "OUT.mp4"))
    var overlay: String?

    @Option(help: "OpenVINO inference threads.")
    var threads: Int = 2

    // One lane by default here, unlike `judge`: a second lane holds one more frame and OpenVINO's
    // second stream (≈22 MB more at 1080p with --overlay, whose frames are RGB all the way through;
    // docs/pose.md).
    @Option(help: "Landmark runs kept going side by side (each on threads/lanes threads); 1 tracks each frame from the one before, as MediaPipe does; 2 is faster and holds ≈22 MB more at 1080p.")
    var lanes: Int = 1

    @Option(help: "Decoder threads.")
    var decodeThreads: Int = 2

    @Option(help: "Most people tracked at once.")
    var maxPeople: Int = 3

    @Option(help: "Run the person detector at least every N frames to find newcomers.")
    var redetect: Int = 30

    @Option(help: "libx264 preset for --overlay.")
    var preset: String = "ultrafast"

    @Option(help: "Extra libx264 options for --overlay (key=value:…).")
    var x264Params: String = "sliced-threads=1"

    @Option(help: ArgumentHelp("Write stage timings as JSON to PATH (used by make bench).", valueName: "PATH"))
    var statsJson: String?

    @Option(help: "Models directory (default: REFVISION_MODELS_DIR or .deps/models).")
    var models: String?

    func validate() throws {
        guard (0...64).contains(threads) else { throw ValidationError("--threads must be 0…64") }
        guard (1...4).contains(lanes) else { throw ValidationError("--lanes must be 1…4") }
        guard (0...64).contains(decodeThreads) else { throw ValidationError("--decode-threads must be 0…64") }
        guard (1...16).contains(maxPeople) else { throw ValidationError("--max-people must be 1…16") }
        guard redetect >= 1 else { throw ValidationError("--redetect must be at least 1") }
    }

    func run() throws {
        do {
            try runPose()
        } catch {
            failAndExit(error)
        }
    }

    private func runPose() throws {
        let model = try BlazePose(modelsDirectory: models ?? ModelLocator.defaultDirectory(),
                                  options: BlazePose.Options(threads: threads, lanes: lanes))
        var options = PosePipelineOptions()
        options.reader.threads = decodeThreads
        options.writer.preset = preset
        options.writer.x264Params = x264Params
        options.writer.threads = 2
        options.overlayPath = overlay
        options.tracker.maxPeople = maxPeople
        options.tracker.redetectInterval = redetect

        var bar = ProgressBar(label: (file as NSString).lastPathComponent)
        let (track, stats) = try PosePipeline(model: model).run(path: file, options: options, progress: { done, total in
            bar.update(done, total)
        })
        bar.finish()

        if let json {
            try writeOutput(Data(track.jsonData()), to: json)
        }
        if let statsJson {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try writeOutput(try encoder.encode(stats), to: statsJson)
        }
        // The summary goes to stderr when stdout carries the JSON.
        let summary = Self.summary(track: track, stats: stats, overlay: overlay)
        if json == "-" || statsJson == "-" {
            FileHandle.standardError.write(Data((summary + "\n").utf8))
        } else {
            print(summary)
        }
    }

    static func summary(track: PoseTrack, stats: PipelineStats, overlay: String?) -> String {
        let withPeople = track.frames.filter { !$0.people.isEmpty }.count
        let most = track.frames.map(\.people.count).max() ?? 0
        var lines = [
            "\(track.source): \(track.width)×\(track.height), \(String(format: "%.2f", track.fps)) fps, \(stats.frames) frames",
            "  people found in \(withPeople) of \(stats.frames) frames (up to \(most) at once)",
            String(format: "  %.1f fps overall (%.2f s); pose %.1f ms/frame; detector ran %d times, landmark model %d times",
                   stats.framesPerSecond, stats.wallSeconds, stats.poseMillisecondsPerFrame,
                   stats.detectorRuns, stats.landmarkRuns),
        ]
        if let overlay { lines.append("  overlay written to \(overlay)") }
        return lines.joined(separator: "\n")
    }
}
