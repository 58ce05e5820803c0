// The three powerlifting lifts and how the judge learns which one a video shows.

/// The lift a video shows.
public enum LiftKind: String, Codable, CaseIterable, Sendable {
    /// The lift's name for people: `Squat`, `Bench press`, `Deadlift`.
    public var title: String {
        switch self {
        case .squat: "Squat"
        case .bench: "Bench press"
        case .deadlift: "Deadlift"
        }
    }

    case squat
    case bench
    case deadlift

    /// The lift's rules, in the order its verdict lists them.
    public var rules: [RuleID] {
        switch self {
        case .squat: [.squatKneesLockedStart, .squatDepth, .squatSingleBottom, .squatNoDownwardAscent, .squatKneesLockedFinish]
        case .bench: [.benchPauseOnChest, .benchNoDownwardPress, .benchElbowsLockedFinish, .benchButtocksOnBench]
        case .deadlift: [.deadliftNoDownwardBar, .deadliftKneesLockedFinish, .deadliftHipsLockedFinish,
                         .deadliftShouldersBackFinish]
        }
    }

    /// The lift named by an object key or file name, or `nil` when the key names none or more than one.
    ///
    /// Convention: the key is split into path segments at `/` (and `\`), and each segment into tokens at
    /// every character that is not a letter or digit. A token equal to `squat`, `bench` or `deadlift`
    /// (case-insensitive; `benchpress` and `bench_press` count as bench, `dl` does not) names the lift.
    /// The file name (the last segment) is looked at first, then the folders from the nearest upward;
    /// the first segment that names exactly one lift decides. A segment naming two different lifts is
    /// ambiguous and makes the whole key undecided (`nil`). Tokens only match whole: `squats` or
    /// `benchmark` name nothing.
    ///
    /// Examples: `meet/athlete/squat-2.mp4` → squat, `2024/Bench/ATT1.MOV` → bench,
    /// `squat-day/deadlift_3.mp4` → deadlift (the file name wins), `squat_vs_bench.mp4` → nil.
    public static func fromKey(_ objectKey: String) -> LiftKind? {
        let segments = objectKey.split(whereSeparator: { $0 == "/" || $0 == "\\" })
        for segment in segments.reversed() {
            var found: Set<LiftKind> = []
            let tokens = segment.split(whereSeparator: { !($0.isLetter || $0.isNumber) })
            var previous: String?
            for raw in tokens {
                let token = raw.lowercased()
                if let kind = LiftKind(rawValue: token) {
                    found.insert(kind)
                } else if token == "benchpress" || (token == "press" && previous == "bench") {
                    found.insert(.bench)
                }
                previous = token
            }
            if found.count == 1, let kind = found.first { return kind }
            if found.count > 1 { return nil }
        }
        return nil
    }
}

/// Where the lift kind of a verdict came from.
public enum LiftKindSource: String, Codable, Sendable {
    /// Passed in by the caller (e.g. `--lift`).
    case given
    /// Read from the track's source name with `LiftKind.fromKey`.
    case key
    /// Inferred from the lifter's pose (lying = bench; wrists at the shoulders = squat, at the hips or
    /// lower = deadlift).
    case inferred
    /// Not known: the verdict is `needs_review`.
    case unknown
}
