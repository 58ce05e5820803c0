// The object-key convention for the lift kind.

import Testing
@testable import Judging

@Suite("Lift kind from an object key")
struct LiftKindTests {
    @Test(arguments: [
        ("meet/athlete/squat-2.mp4", LiftKind.squat),
        ("2024/Bench/ATT1.MOV", .bench),
        ("DEADLIFT_final.mp4", .deadlift),
        ("squat-day/deadlift_3.mp4", .deadlift),   // the file name wins over the folder
        ("uploads/bench/clip.mp4", .bench),          // folder when the file name says nothing
        ("x/Squat/y/z.mp4", .squat),                 // nearest folder that names one
        ("lifts/bench-press-1.mp4", .bench),
        ("lifts/benchpress.mp4", .bench),
        ("a\\windows\\path\\squat.mov", .squat),
        ("squat_m10.mp4", .squat),
    ])
    func named(key: String, kind: LiftKind) {
        #expect(LiftKind.fromKey(key) == kind)
    }

    @Test(arguments: [
        "", "/", "video.mp4", "squats.mp4", "benchmark/run.mp4", "dl/attempt.mp4",
        "squat_vs_bench.mp4", "deadlifting.mp4", "💪/🏋️.mp4", String(repeating: "a/", count: 10_000),
    ])
    func notNamed(key: String) {
        #expect(LiftKind.fromKey(key) == nil)
    }

    @Test func ambiguousFileNameDoesNotFallBackToTheFolder() {
        // The nearest segment naming lifts is ambiguous: undecided, even though the folder names one.
        #expect(LiftKind.fromKey("squat/bench_or_deadlift.mp4") == nil)
    }

    @Test func rawValuesAreTheJSONValues() {
        #expect(LiftKind.allCases.map(\.rawValue) == ["squat", "bench", "deadlift"])
        #expect(Decision.allCases.map(\.rawValue) == ["good_lift", "no_lift", "needs_review"])
        #expect(RuleStatus.allCases.map(\.rawValue) == ["passed", "failed", "unknown"])
        #expect(RuleID.rules(for: .squat).count == 5)
        #expect(RuleID.rules(for: .bench).count == 4)
        #expect(RuleID.rules(for: .deadlift).count == 4)
    }
}
