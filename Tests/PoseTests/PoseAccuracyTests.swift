import Foundation
import Imaging
import Media
import Pose
import PoseData
import Testing

/// Paths of test data: the repo root (found from this file), media fetched by scripts/bootstrap
/// into .deps/media, and the shared fixtures beside the repo.
enum TestData {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static func media(_ name: String) -> String { repo.appendingPathComponent(".deps/media/\(name)").path }
    static let fixtures = repo.appendingPathComponent("Tests/Fixtures")
    static let hasModels = FileManager.default.fileExists(
        atPath: repo.appendingPathComponent(".deps/models/pose_landmark_full.tflite").path)
    static let hasBus = FileManager.default.fileExists(atPath: media("bus.jpg"))

    /// One compiled model for the whole test process (compiling costs ≈0.7 s).
    static let model: Result<BlazePose, any Error> = Result {
        try BlazePose(modelsDirectory: repo.appendingPathComponent(".deps/models").path)
    }
}

struct ReferencePoints: Decodable {
    struct Image: Decodable {
        let width: Int
        let height: Int
        let landmarks: [[Double]]
    }
    let bus: Image
    enum CodingKeys: String, CodingKey { case bus = "bus.jpg" }
}

@Suite("BlazePose accuracy against the official MediaPipe 0.10.21 output")
struct PoseAccuracyTests {
    @Test("bus.jpg: body landmarks within 1 % of image height on average, hips and knees within 2 %",
          .enabled(if: TestData.hasModels && TestData.hasBus, "needs .deps from scripts/bootstrap"))
    func busAccuracy() throws {
        let reference = try JSONDecoder().decode(
            ReferencePoints.self, from: Data(contentsOf: TestData.fixtures.appendingPathComponent("mediapipe_reference_bus.json"))).bus
        let reader = try VideoReader(path: TestData.media("bus.jpg"))
        #expect(reader.info.isStillImage)
        let frame = try #require(try reader.next())
        #expect(frame.image.width == reference.width && frame.image.height == reference.height)

        let tracker = PoseTracker(model: try TestData.model.get())
        let people = try tracker.processStill(frame.image)
        #expect(!people.isEmpty, "no person found in bus.jpg")
        // The reference is the person MediaPipe reports: pick ours closest to it.
        func meanError(_ p: PersonPose) -> Double {
            (11...32).map { i in
                hypot(p.landmarks[i].x - reference.landmarks[i][0], p.landmarks[i].y - reference.landmarks[i][1])
            }.reduce(0, +) / 22
        }
        let person = try #require(people.map(\.pose).min { meanError($0) < meanError($1) })
        let h = Double(reference.height)
        let mean = meanError(person)
        print("bus.jpg: mean body-landmark error \(String(format: "%.2f", mean)) px (\(String(format: "%.2f", 100 * mean / h)) % of height)")
        #expect(mean <= 0.01 * h)
        for i in [23, 24, 25, 26] {
            let e = hypot(person.landmarks[i].x - reference.landmarks[i][0], person.landmarks[i].y - reference.landmarks[i][1])
            print("  landmark \(i): \(String(format: "%.2f", e)) px")
            #expect(e <= 0.02 * h, "landmark \(i) is \(e) px off")
        }
        // Visibility follows the reference: the confidently visible joints are visible for us too.
        for i in 11...32 where reference.landmarks[i][2] > 0.9 {
            #expect(person.landmarks[i].visibility > 0.5, "landmark \(i) visibility \(person.landmarks[i].visibility)")
        }
    }
}
