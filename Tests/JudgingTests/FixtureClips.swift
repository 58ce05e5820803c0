// Access to the rendered squat clips' truth (internal test data in <repo>/../shared/fixtures/lifts,
// read in place, never copied into the project).

import Foundation
import PoseData
import Scaling

enum FixtureClips {
    /// The fixture folder: $REFVISION_LIFT_FIXTURES, or `shared/fixtures/lifts` beside an ancestor of
    /// this source file (i.e. `<repo>/../shared/fixtures/lifts`).
    static let directory: URL? = {
        let fm = FileManager.default
        if let env = ProcessInfo.processInfo.environment["REFVISION_LIFT_FIXTURES"], !env.isEmpty {
            let url = URL(fileURLWithPath: env)
            return fm.fileExists(atPath: url.appendingPathComponent("expected.json").path) ? url : nil
        }
        var dir = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<8 {
            let candidate = dir.appendingPathComponent("shared/fixtures/lifts")
            if fm.fileExists(atPath: candidate.appendingPathComponent("expected.json").path) { return candidate }
            let parent = dir.deletingLastPathComponent()
            if parent.path == dir.path { break }
            dir = parent
        }
        return nil
    }()

    static var available: Bool { directory != nil }

    struct Expectation: Decodable, Sendable {
        var clip: String
        var expect: String
        var margin_px: Double
        var thigh_px: Double
        var margin_thigh: Double
        var bounce: Bool
        var stop_frac: Double

        var name: String { clip.hasSuffix(".mp4") ? String(clip.dropLast(4)) : clip }
    }

    struct Truth: Decodable, Sendable {
        struct Frame: Decodable, Sendable {
            var i: Int
            var t: Double
            var margin_px: Double
            var landmarks33: [[Double]]
        }
        var width: Int
        var height: Int
        var fps: Double
        var bottom_frame: Int
        var bottom_margin_px: Double
        var frames: [Frame]
    }

    static func expectations() throws -> [Expectation] {
        guard let dir = directory else { return [] }
        let data = try Data(contentsOf: dir.appendingPathComponent("expected.json"))
        return try JSONDecoder().decode([Expectation].self, from: data)
    }

    static func truth(_ name: String) throws -> Truth {
        guard let dir = directory else { throw CocoaError(.fileNoSuchFile) }
        let data = try Data(contentsOf: dir.appendingPathComponent(name + ".json"))
        return try JSONDecoder().decode(Truth.self, from: data)
    }

    /// Noise like BlazePose's on these clips: per-axis white noise plus a slowly drifting component,
    /// and the hip point biased downward (measured: +1.7 px mean, 95 % within 6.4 px).
    struct Noise: Sendable {
        var whitePx: Double = 2.6
        var driftPx: Double = 1.5
        var hipBiasPx: Double = 1.7
        var visibility: Double = 0.95

        static let none = Noise(whitePx: 0, driftPx: 0, hipBiasPx: 0)
    }

    /// The truth landmarks as a pose track, with noise.
    static func track(_ truth: Truth, name: String, noise: Noise, seed: UInt64) -> PoseTrack {
        var rng = SeededRandom(seed: seed)
        var drift = [Double](repeating: 0, count: 33 * 2)
        let rho = 0.9
        let innovation = (1 - rho * rho).squareRoot()
        var frames: [PoseFrame] = []
        for f in truth.frames {
            var landmarks: [Landmark] = []
            for (k, p) in f.landmarks33.enumerated() where p.count >= 2 {
                drift[2 * k] = rho * drift[2 * k] + innovation * noise.driftPx * rng.normal()
                drift[2 * k + 1] = rho * drift[2 * k + 1] + innovation * noise.driftPx * rng.normal()
                var x = p[0] + drift[2 * k] + noise.whitePx * rng.normal()
                var y = p[1] + drift[2 * k + 1] + noise.whitePx * rng.normal()
                if k == 23 || k == 24 { y += noise.hipBiasPx }
                x = (x * 100).rounded() / 100
                y = (y * 100).rounded() / 100
                landmarks.append(Landmark(x: x, y: y, visibility: noise.visibility))
            }
            frames.append(PoseFrame(index: f.i, time: f.t, people: [PersonPose(score: 0.99, landmarks: landmarks)]))
        }
        return PoseTrack(source: name + ".mp4", width: truth.width, height: truth.height, fps: truth.fps, frames: frames)
    }
}
