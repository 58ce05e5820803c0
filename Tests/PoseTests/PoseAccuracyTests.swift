import Foundation
import Imaging
import Media
import Pose
import PoseData
import Testing
import TestSupport

enum TestData {
    static var hasBus: Bool { TestPaths.exists(TestPaths.media("bus.jpg")) }

    /// One compiled model for the whole test process (compiling costs ≈0.7 s).
    static let model: Result<BlazePose, any Error> = Result {
        try BlazePose(modelsDirectory: TestPaths.models)
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
          .enabled(if: TestPaths.hasModels && TestData.hasBus, "needs .deps from scripts/bootstrap"))
    func busAccuracy() throws {
        let reference = try JSONDecoder().decode(
            ReferencePoints.self, from: Data(contentsOf: TestPaths.fixtures.appendingPathComponent("mediapipe_reference_bus.json"))).bus
        let reader = try VideoReader(path: TestPaths.media("bus.jpg"))
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

    @Test("the pruned landmark model gives the same landmarks as the original .tflite",
          .enabled(if: TestPaths.hasModels && TestData.hasBus
                   && TestPaths.exists(TestPaths.models + "/" + ModelLocator.prunedLandmarkFile), "needs .deps from scripts/bootstrap"))
    func prunedModelIsEquivalent() throws {
        let image = try #require(try VideoReader(path: TestPaths.media("bus.jpg")).next()).image
        let pruned = try TestData.model.get()
        #expect(pruned.landmarkModelPath.hasSuffix(ModelLocator.prunedLandmarkFile))
        let original = try BlazePose(modelsDirectory: TestPaths.models,
                                     options: BlazePose.Options(usePrunedLandmarkModel: false))
        #expect(original.landmarkModelPath.hasSuffix(ModelLocator.landmarkFile))
        let roi = try #require(try pruned.detect(image).first).roi
        let a = try pruned.landmarks(image, roi: roi), b = try original.landmarks(image, roi: roi)
        #expect(abs(a.presence - b.presence) < 1e-4)
        for (p, q) in zip(a.landmarks, b.landmarks) {
            #expect(abs(p.x - q.x) < 0.05 && abs(p.y - q.y) < 0.05 && abs(p.visibility - q.visibility) < 1e-3)
        }
    }
}
