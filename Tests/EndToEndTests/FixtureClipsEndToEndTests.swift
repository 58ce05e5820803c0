import Foundation
import Judging
import Pipeline
import Pose
import Testing
import TestSupport

/// `../shared/fixtures/lifts/expected.json`: the verdict each rendered clip must get.
struct ExpectedClip: Decodable, Sendable, CustomTestStringConvertible {
    let clip: String
    let expect: String
    let margin_thigh: Double
    var testDescription: String { "\(clip) (expect \(expect), margin \(margin_thigh) thigh)" }
}

enum EndToEnd {
    static let clips: [ExpectedClip] = {
        guard let data = try? Data(contentsOf: TestPaths.sharedLifts.appendingPathComponent("expected.json")) else { return [] }
        return (try? JSONDecoder().decode([ExpectedClip].self, from: data)) ?? []
    }()
    static let model: Result<BlazePose, any Error> = Result { try BlazePose(modelsDirectory: TestPaths.models) }
}

@Suite("The whole pipeline on the rendered squat clips: video → BlazePose → verdict",
       .enabled(if: TestPaths.hasModels && TestPaths.hasSharedLifts,
                "needs .deps and ../shared/fixtures/lifts (internal clips, absent here)"))
struct FixtureClipsEndToEndTests {
    @Test("each clip gets its expected verdict, never the opposite", arguments: EndToEnd.clips)
    func clip(_ c: ExpectedClip) throws {
        let path = TestPaths.sharedLifts.appendingPathComponent(c.clip).path
        let outcome = try JudgePipeline(model: try EndToEnd.model.get()).run(path: path, lift: nil)
        let v = outcome.verdict
        print("\(c.clip): \(v.decision.rawValue); depth \(v.rules.first { $0.id == .squatDepth }?.value.map { String(format: "%.3f", $0) } ?? "–") thigh")
        #expect(v.lift == .squat && v.liftSource == .key)
        switch c.expect {
        case "good_lift": #expect(v.decision == .goodLift, "\(v.reasons)")
        case "no_lift": #expect(v.decision == .noLift, "\(v.reasons)")
        case "either": #expect(v.decision != .noLift, "a boundary clip was called confidently wrong: \(v.reasons)")
        default: Issue.record("unknown expectation \(c.expect)")
        }
    }
}
