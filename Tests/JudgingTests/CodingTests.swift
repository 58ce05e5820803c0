// The JSON of verdicts, analyses and configs.

import Foundation
import PoseData
import Testing
@testable import Judging

@Suite("JSON")
struct CodingTests {
    static func verdict() -> Analysis {
        var s = SquatSpec(depth: 0.3, yaw: 85)
        s.noise.jitterPx = 1
        return analyze(s.clip(seed: 40).track)
    }

    static func object(_ data: Data) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func verdictShape() throws {
        let v = Self.verdict().verdict
        let json = try Self.object(JSONEncoder().encode(v))
        #expect(Set(json.keys) == ["decision", "lift", "lift_source", "rules", "key_frames", "lifter_track_id",
                                   "view", "scale", "reasons", "config"])
        #expect(json["decision"] as? String == "good_lift")
        #expect(json["lift"] as? String == "squat")
        #expect(json["lift_source"] as? String == "key")
        #expect(json["view"] as? String == "side")
        let rules = try #require(json["rules"] as? [[String: Any]])
        #expect(rules.count == 5)
        for r in rules {
            #expect(Set(r.keys) == ["id", "status", "value", "threshold", "review_low", "review_high", "unit",
                                    "frame", "time", "note"])
        }
        #expect(rules.map { $0["id"] as? String } == RuleID.rules(for: .squat).map(\.rawValue))
        let depth = try #require(rules.first { $0["id"] as? String == "squat_depth" })
        #expect(depth["unit"] as? String == "thigh")
        #expect(depth["status"] as? String == "passed")
        let keys = try #require(json["key_frames"] as? [String: Any])
        #expect(Set(keys.keys) == ["start", "bottom", "lockout"])
        let bottom = try #require(keys["bottom"] as? [String: Any])
        #expect(bottom["frame"] is Int && bottom["time"] is Double)
        let config = try #require(json["config"] as? [String: Any])
        #expect(config.count == JudgingConfig.CodingKeys.allCases.count)
        #expect(config["depth_band"] as? Double == 0.06)
        let scale = try #require(json["scale"] as? [String: Any])
        #expect(scale["thigh_px"] is Double && scale["torso_px"] is Double)
        // Round trip.
        let back = try JSONDecoder().decode(Verdict.self, from: JSONEncoder().encode(v))
        #expect(back == v)
    }

    @Test func missingValuesAreNull() throws {
        let v = judge(PoseTrack(source: "x.mp4", width: 10, height: 10, fps: 30, frames: []))
        let text = try #require(String(data: JSONEncoder().encode(v), encoding: .utf8))
        #expect(text.contains("\"lift\":null"))
        #expect(text.contains("\"lifter_track_id\":null"))
        #expect(text.contains("\"key_frames\":{\"bottom\":null") || text.contains("\"start\":null"))
        #expect(try JSONDecoder().decode(Verdict.self, from: Data(text.utf8)) == v)
    }

    @Test func analysisShape() throws {
        let a = Self.verdict()
        let json = try Self.object(JSONEncoder().encode(a))
        #expect(Set(json.keys) == ["verdict", "frames", "rule_timings", "tracks"])
        let frames = try #require(json["frames"] as? [[String: Any]])
        #expect(frames.count == a.frames.count)
        #expect(Set(frames[0].keys) == ["frame", "time", "phase", "lifter_person", "depth_margin_px",
                                        "depth_margin_thigh", "tracked_y"])
        let timing = try #require((json["rule_timings"] as? [[String: Any]])?.first)
        #expect(Set(timing.keys) == ["id", "status", "decided_frame", "decided_time"])
        #expect(try JSONDecoder().decode(Analysis.self, from: JSONEncoder().encode(a)) == a)
    }

    @Test func configDecodesPartially() throws {
        #expect(try JSONDecoder().decode(JudgingConfig.self, from: Data("{}".utf8)) == .default)
        let c = try JSONDecoder().decode(JudgingConfig.self,
                                         from: Data(#"{"depth_band": 0.08, "max_people_per_frame": 4, "unknown": 1, "bent_angle": null}"#.utf8))
        var expected = JudgingConfig.default
        expected.depthBand = 0.08
        expected.maxPeoplePerFrame = 4
        #expect(c == expected)
        let roundTrip = try JSONDecoder().decode(JudgingConfig.self, from: JSONEncoder().encode(c))
        #expect(roundTrip == c)
    }

    @Test("corrupt, truncated, hostile configs", arguments: [
        #"{"depth_band": "wide"}"#, #"{"depth_band": 0.06"#, "", "[]", "null", #"{"max_people_per_frame": 1.5}"#,
        #"{"locked_angle": 1e999}"#, String(repeating: "[", count: 10_000),
    ])
    func corruptConfig(text: String) {
        #expect(throws: (any Error).self) { try JSONDecoder().decode(JudgingConfig.self, from: Data(text.utf8)) }
    }

    @Test func outOfRangeConfigValuesAreRejectedByValidate() throws {
        let c = try JSONDecoder().decode(JudgingConfig.self,
                                         from: Data(#"{"min_visibility": 3, "phase_tolerance": 0, "max_people_per_frame": 0}"#.utf8))
        #expect(throws: JudgingConfigError.self) { try c.validate() }
        #expect(throws: Never.self) { try JudgingConfig.default.validate() }
    }
}
