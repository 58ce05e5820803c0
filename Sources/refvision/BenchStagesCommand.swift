import ArgumentParser
import Foundation
import Imaging
import Media
import Pose

/// Stage-by-stage speed on one video, each stage timed alone (used by `make bench`).
struct BenchStagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-stages", abstract: "Times decode, pose and encode separately on one video (JSON).",
        shouldDisplay: false)

    @Argument var file: String
    @Option var threads: Int = 2
    @Option var lanes: Int = 2
    @Option var frames: Int = 300
    @Option var preset: String = "ultrafast"
    @Option var x264Params: String = "sliced-threads=1"

    func run() throws {
        do { try measure() } catch { failAndExit(error) }
    }

    private func measure() throws {
        let clock = ContinuousClock()
        // Decode alone.
        var images: [RGBImage] = []
        var decodeFrames = 0
        var info: VideoInfo?
        let decode = try clock.measure {
            let reader = try VideoReader(path: file)
            info = reader.info
            while let f = try reader.next() {
                decodeFrames += 1
                if images.count < min(frames, 60) { images.append(f.image) }
            }
        }
        guard let info, !images.isEmpty else { throw MediaError.noFrames(path: file) }

        // Pose alone (video mode), on the decoded frames held in memory, looped to `frames`.
        var model: BlazePose?
        let load = try clock.measure { model = try BlazePose(options: BlazePose.Options(threads: threads, lanes: lanes)) }
        let tracker = PoseTracker(model: model!)
        _ = try tracker.process(images[0]) // first inference initialises OpenVINO's kernels
        var rois: [(Int, RotatedRect)] = []
        let pose = try clock.measure {
            // Frames come back in order, a frame or two after they went in (side-by-side lanes).
            var done = 0
            func record(_ finished: [[PoseTracker.Person]]) {
                for people in finished {
                    if done % 10 == 0, let p = people.first { rois.append((done % images.count, p.roi)) }
                    done += 1
                }
            }
            for i in 0..<frames { record(try tracker.submit(images[i % images.count])) }
            record(try tracker.finish())
        }
        // The landmark step's parts, timed apart from the loop above.
        var warp = 0.0, infer = 0.0
        for (i, roi) in rois {
            let t = try model!.profileLandmarkStep(images[i], roi: roi)
            warp += t.warp
            infer += t.infer
        }
        let roiCount = rois.count

        // Encode alone.
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("refvision-bench-\(getpid()).mp4").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let encode = try clock.measure {
            let w = try VideoWriter(path: out, width: info.width, height: info.height, frameRate: info.frameRate,
                                    options: WriterOptions(preset: preset, x264Params: x264Params))
            for i in 0..<frames { try w.write(images[i % images.count]) }
            try w.finish()
        }
        let poseFrames = Double(frames)
        let result: [String: Double] = [
            "decode_fps": Double(decodeFrames) / decode.seconds,
            "pose_ms_per_frame": 1000 * pose.seconds / poseFrames,
            "pose_fps": poseFrames / pose.seconds,
            "landmark_warp_ms": roiCount > 0 ? 1000 * warp / Double(roiCount) : 0,
            "landmark_infer_ms": roiCount > 0 ? 1000 * infer / Double(roiCount) : 0,
            "encode_fps": poseFrames / encode.seconds,
            "model_load_s": load.seconds,
            "detector_runs": Double(tracker.detectorRuns),
            "landmark_runs": Double(tracker.landmarkRuns),
        ]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        print(String(decoding: try encoder.encode(result), as: UTF8.self))
    }
}
