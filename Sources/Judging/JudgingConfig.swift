// Every threshold the judge uses, in one place. docs/judging.md explains each rule with these numbers.
//
// Units: "thigh" = the lifter's thigh length (hip–knee distance measured while standing, median);
// "torso" = the lifter's torso length (mid-shoulder to mid-hip, 90th percentile over the clip). Both
// are measured in pixels on the clip itself, so every spatial threshold scales with the body.

/// The thresholds and tuning of the judge. All fields have defaults (`JudgingConfig.default`); a JSON
/// config may give any subset of the snake_case keys and the rest keep their defaults.
///
/// Graded rules have two thresholds: a pass threshold and a fail threshold. A measurement between
/// them is inside the rule's uncertainty band and makes the rule `unknown` (→ `needs_review`).
public struct JudgingConfig: Codable, Sendable, Equatable {

    // MARK: Landmarks and signal cleaning

    /// A landmark whose visibility is below this is treated as missing. Default 0.5.
    public var minVisibility: Double = 0.5
    /// Dropouts up to this long (seconds) are filled by interpolation; longer gaps stay missing and,
    /// inside the lift, mean the lifter is lost. Default 0.25 s (7 frames at 30 fps).
    public var maxGapSeconds: Double = 0.25
    /// Width (seconds) of the rolling window of the Hampel outlier filter. Default 0.25 s.
    public var outlierWindowSeconds: Double = 0.25
    /// A sample further than this many robust standard deviations (1.4826 × MAD) from the rolling
    /// median is an outlier and dropped. Default 3.5.
    public var outlierThreshold: Double = 3.5
    /// Deviations smaller than this (torso) are never outliers, so a still, clean signal (MAD ≈ 0)
    /// keeps its samples. Default 0.06 torso.
    public var outlierMinDeviation: Double = 0.06
    /// Window (seconds) of the visibility-weighted Savitzky–Golay smoother (local quadratic least
    /// squares). A quadratic fit reproduces a rounded bottom exactly, so the depth is not shaved the way
    /// a moving average would shave it. Default 0.3 s (9 frames at 30 fps).
    public var smoothingWindowSeconds: Double = 0.3

    // MARK: People and lifter selection

    /// At most this many people per frame are considered (highest score first). Default 16.
    public var maxPeoplePerFrame: Int = 16
    /// Largest mean landmark distance (torso lengths) between a person's pose and the next frame's that
    /// still counts as the same person, before movement: allows for pose-model noise. Default 0.15.
    public var trackGate: Double = 0.15
    /// ... plus this much per second since the person was last seen (torso lengths per second: fast
    /// enough for a quick pull, too slow to jump to someone walking past). Default 3.
    public var trackMaxSpeed: Double = 3
    /// A track not seen for longer than this (seconds) is closed. Default 1.0 s.
    public var trackMaxGapSeconds: Double = 1.0
    /// The lifter must be tracked for at least this long (seconds). Default 1.0 s.
    public var minLifterSeconds: Double = 1.0
    /// When the runner-up track scores at least this fraction of the best, the lifter is ambiguous
    /// and the verdict is `needs_review`. Default 0.75 (spotters and loaders score at most about 0.67
    /// of the lifter in the synthetic tests; two people squatting side by side about 0.86).
    public var lifterAmbiguityRatio: Double = 0.75

    // MARK: Camera view and sides

    /// (shoulder width + hip width) / (2 × torso) at or above this is a front (or back) view, where
    /// knee and hip angles are not visible and extension ratios are used instead. Default 0.30 (about
    /// 55° or less from straight on).
    public var frontViewWidthRatio: Double = 0.30
    /// Below this width ratio the view is a side view (informational; side and oblique views are
    /// judged alike). Default 0.15.
    public var sideViewWidthRatio: Double = 0.15
    /// When one side's mean leg (or arm) visibility is below this fraction of the other side's, only the
    /// camera-side limb (the more visible one) is used; otherwise both, weighted by visibility.
    /// Default 0.8.
    public var sideDominanceRatio: Double = 0.8

    // MARK: Movement and phases

    /// The hip (squat) or bar (bench, deadlift) must travel at least this far (torso) for a lift to be
    /// found. Default 0.2 torso.
    public var minTravel: Double = 0.2
    /// Within this fraction of the travel from the standing (top) level counts as "at the start" or
    /// "locked out" in height. Default 0.08.
    public var phaseTolerance: Double = 0.08
    /// Lockout measurements look at this long (seconds) after reaching lockout height; start
    /// measurements at this long before the descent. Default 0.5 s.
    public var lockWindowSeconds: Double = 0.5

    // MARK: Squat depth

    /// Where the IPF depth boundary lies in joint-centre terms (thigh): the hip joint centre sits deeper
    /// inside the thigh than the knee centre inside the knee, so the top of the thigh at the hip reaches
    /// the top of the knee when the hip centre is this much below the knee centre. Default 0.05 thigh.
    public var depthOffset: Double = 0.05
    /// Half-width (thigh) of the uncertainty band around `depthOffset`: good depth at ≥ offset + band,
    /// no lift at ≤ offset − band, `needs_review` between. Covers the spread of the offset between
    /// bodies (±0.03) and pose-model noise on the smoothed bottom (±0.03). Default 0.06 thigh.
    public var depthBand: Double = 0.06
    /// Width (seconds) of the window around the deepest frame in which a quadratic is fitted to the
    /// depth signal; its vertex is the measured depth (unbiased by noise, unlike the plain maximum).
    /// Default 0.4 s.
    public var depthFitSeconds: Double = 0.4
    /// The band widens to this many per-frame noise standard deviations of the measured depth signal
    /// when the track is noisier than usual. Default 2.0.
    public var depthNoiseFactor: Double = 2.0

    // MARK: Downward movement and bounces

    /// A rise-then-fall of the hip (squat, thigh) or bar (bench, deadlift, torso) after the lift has
    /// started up of at most this passes. Default 0.04.
    public var downwardPass: Double = 0.04
    /// ... and of at least this fails (between: `needs_review`). Default 0.10.
    public var downwardFail: Double = 0.10
    /// A low point counts as a "bottom" of a squat (double bounce rule) when it is within this fraction
    /// of the descent from the deepest point. Default 0.25.
    public var bottomZone: Double = 0.25

    // MARK: Locked joints

    /// A knee, hip or elbow angle (degrees, 180 = straight) at or above this is locked. Default 162°.
    public var lockedAngle: Double = 162
    /// ... and at or below this is clearly bent (between: `needs_review`). Default 150°.
    public var bentAngle: Double = 150
    /// Where angles are not visible (front views) or as a second check, a limb's end-to-end length
    /// (hip–ankle, shoulder–wrist) relative to its reference at or above this counts as extended.
    /// Default 0.975.
    public var extendedRatio: Double = 0.975
    /// ... and at or below this counts as clearly flexed. Default 0.93.
    public var flexedRatio: Double = 0.93

    // MARK: Bench press

    /// The bar must stay motionless on the chest for at least this long (seconds) to pass. Default 0.40 s.
    public var pausePassSeconds: Double = 0.40
    /// A pause of at most this long (seconds) fails (touch and go). Default 0.15 s.
    public var pauseFailSeconds: Double = 0.15
    /// "Motionless": the bar moves slower than this (torso lengths per second) during the pause.
    /// Default 0.25 (about 4 cm/s).
    public var pauseSpeedTolerance: Double = 0.25
    /// ... and stays within this distance (torso) of its lowest point. Default 0.06.
    public var pauseMotionTolerance: Double = 0.06
    /// The hips may rise at most this much (torso) above their height at the start and pass. Default 0.05.
    public var buttocksPass: Double = 0.05
    /// A hip rise of at least this (torso) fails: the buttocks left the bench. Default 0.12.
    public var buttocksFail: Double = 0.12

    // MARK: Deadlift

    /// At lockout the torso may lean forward of vertical by at most this (degrees) and pass
    /// ("shoulders back"). Default 10°.
    public var shouldersPassDegrees: Double = 10
    /// A forward lean of at least this (degrees) at lockout fails. Default 20°.
    public var shouldersFailDegrees: Double = 20

    // MARK: Lift kind inference

    /// A person whose torso is more than this (degrees) from vertical for most of the clip is lying:
    /// bench press. Default 60°.
    public var lyingTorsoDegrees: Double = 60
    /// At the start, wrists less than this far (torso) below the shoulders: squat (bar on the back or
    /// front rack). Default 0.65.
    public var squatWristDrop: Double = 0.65
    /// At the start, wrists more than this far (torso) below the shoulders: deadlift (bar at the hips
    /// or on the floor). Between the two the kind is unknown. Default 0.85.
    public var deadliftWristDrop: Double = 0.85

    public init() {}

    /// The defaults documented on each field.
    public static let `default` = JudgingConfig()

    // MARK: Validation

    /// Checks that every value is finite and in range. `judge` refuses (with `needs_review`) to use an
    /// invalid config; callers that load a config from a file should call this and report the error.
    public func validate() throws(JudgingConfigError) {
        var problems: [String] = []
        func unit(_ name: String, _ v: Double, open: Bool = false) {
            if !v.isFinite || v < 0 || v > 1 || (open && v == 0) {
                problems.append("\(name) must be in \(open ? "(0, 1]" : "[0, 1]") (got \(v))")
            }
        }
        func positive(_ name: String, _ v: Double) {
            if !v.isFinite || v <= 0 { problems.append("\(name) must be a positive number (got \(v))") }
        }
        func nonNegative(_ name: String, _ v: Double) {
            if !v.isFinite || v < 0 { problems.append("\(name) must be a non-negative number (got \(v))") }
        }
        func ordered(_ pass: String, _ p: Double, _ fail: String, _ f: Double, higherIsBetter: Bool) {
            guard p.isFinite, f.isFinite else { return }
            if higherIsBetter ? p < f : p > f {
                problems.append("\(pass) (\(p)) must be \(higherIsBetter ? "≥" : "≤") \(fail) (\(f))")
            }
        }
        unit("min_visibility", minVisibility)
        nonNegative("max_gap_seconds", maxGapSeconds)
        positive("outlier_window_seconds", outlierWindowSeconds)
        positive("outlier_threshold", outlierThreshold)
        nonNegative("outlier_min_deviation", outlierMinDeviation)
        positive("smoothing_window_seconds", smoothingWindowSeconds)
        if maxPeoplePerFrame < 1 || maxPeoplePerFrame > 1000 {
            problems.append("max_people_per_frame must be in 1...1000 (got \(maxPeoplePerFrame))")
        }
        positive("track_gate", trackGate)
        nonNegative("track_max_speed", trackMaxSpeed)
        nonNegative("track_max_gap_seconds", trackMaxGapSeconds)
        nonNegative("min_lifter_seconds", minLifterSeconds)
        unit("lifter_ambiguity_ratio", lifterAmbiguityRatio, open: true)
        positive("front_view_width_ratio", frontViewWidthRatio)
        nonNegative("side_view_width_ratio", sideViewWidthRatio)
        unit("side_dominance_ratio", sideDominanceRatio)
        positive("min_travel", minTravel)
        unit("phase_tolerance", phaseTolerance, open: true)
        nonNegative("lock_window_seconds", lockWindowSeconds)
        if !depthOffset.isFinite || abs(depthOffset) > 1 {
            problems.append("depth_offset must be in [-1, 1] (got \(depthOffset))")
        }
        nonNegative("depth_band", depthBand)
        positive("depth_fit_seconds", depthFitSeconds)
        nonNegative("depth_noise_factor", depthNoiseFactor)
        nonNegative("downward_pass", downwardPass)
        positive("downward_fail", downwardFail)
        ordered("downward_pass", downwardPass, "downward_fail", downwardFail, higherIsBetter: false)
        unit("bottom_zone", bottomZone, open: true)
        for (name, v) in [("locked_angle", lockedAngle), ("bent_angle", bentAngle)] where !v.isFinite || v < 0 || v > 180 {
            problems.append("\(name) must be in [0, 180] degrees (got \(v))")
        }
        ordered("locked_angle", lockedAngle, "bent_angle", bentAngle, higherIsBetter: true)
        unit("extended_ratio", extendedRatio, open: true)
        unit("flexed_ratio", flexedRatio, open: true)
        ordered("extended_ratio", extendedRatio, "flexed_ratio", flexedRatio, higherIsBetter: true)
        nonNegative("pause_pass_seconds", pausePassSeconds)
        nonNegative("pause_fail_seconds", pauseFailSeconds)
        ordered("pause_pass_seconds", pausePassSeconds, "pause_fail_seconds", pauseFailSeconds, higherIsBetter: true)
        positive("pause_speed_tolerance", pauseSpeedTolerance)
        positive("pause_motion_tolerance", pauseMotionTolerance)
        nonNegative("buttocks_pass", buttocksPass)
        positive("buttocks_fail", buttocksFail)
        ordered("buttocks_pass", buttocksPass, "buttocks_fail", buttocksFail, higherIsBetter: false)
        nonNegative("shoulders_pass_degrees", shouldersPassDegrees)
        positive("shoulders_fail_degrees", shouldersFailDegrees)
        ordered("shoulders_pass_degrees", shouldersPassDegrees, "shoulders_fail_degrees", shouldersFailDegrees,
                higherIsBetter: false)
        if !lyingTorsoDegrees.isFinite || lyingTorsoDegrees <= 0 || lyingTorsoDegrees >= 90 {
            problems.append("lying_torso_degrees must be in (0, 90) (got \(lyingTorsoDegrees))")
        }
        positive("squat_wrist_drop", squatWristDrop)
        positive("deadlift_wrist_drop", deadliftWristDrop)
        ordered("deadlift_wrist_drop", deadliftWristDrop, "squat_wrist_drop", squatWristDrop, higherIsBetter: true)
        if !problems.isEmpty { throw JudgingConfigError(problems: problems) }
    }

    // MARK: Codable (snake_case keys; missing keys keep their defaults)

    enum CodingKeys: String, CodingKey, CaseIterable {
        case minVisibility = "min_visibility"
        case maxGapSeconds = "max_gap_seconds"
        case outlierWindowSeconds = "outlier_window_seconds"
        case outlierThreshold = "outlier_threshold"
        case outlierMinDeviation = "outlier_min_deviation"
        case smoothingWindowSeconds = "smoothing_window_seconds"
        case maxPeoplePerFrame = "max_people_per_frame"
        case trackGate = "track_gate"
        case trackMaxSpeed = "track_max_speed"
        case trackMaxGapSeconds = "track_max_gap_seconds"
        case minLifterSeconds = "min_lifter_seconds"
        case lifterAmbiguityRatio = "lifter_ambiguity_ratio"
        case frontViewWidthRatio = "front_view_width_ratio"
        case sideViewWidthRatio = "side_view_width_ratio"
        case sideDominanceRatio = "side_dominance_ratio"
        case minTravel = "min_travel"
        case phaseTolerance = "phase_tolerance"
        case lockWindowSeconds = "lock_window_seconds"
        case depthOffset = "depth_offset"
        case depthBand = "depth_band"
        case depthFitSeconds = "depth_fit_seconds"
        case depthNoiseFactor = "depth_noise_factor"
        case downwardPass = "downward_pass"
        case downwardFail = "downward_fail"
        case bottomZone = "bottom_zone"
        case lockedAngle = "locked_angle"
        case bentAngle = "bent_angle"
        case extendedRatio = "extended_ratio"
        case flexedRatio = "flexed_ratio"
        case pausePassSeconds = "pause_pass_seconds"
        case pauseFailSeconds = "pause_fail_seconds"
        case pauseSpeedTolerance = "pause_speed_tolerance"
        case pauseMotionTolerance = "pause_motion_tolerance"
        case buttocksPass = "buttocks_pass"
        case buttocksFail = "buttocks_fail"
        case shouldersPassDegrees = "shoulders_pass_degrees"
        case shouldersFailDegrees = "shoulders_fail_degrees"
        case lyingTorsoDegrees = "lying_torso_degrees"
        case squatWristDrop = "squat_wrist_drop"
        case deadliftWristDrop = "deadlift_wrist_drop"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func d(_ key: CodingKeys, _ v: inout Double) throws {
            if let x = try c.decodeIfPresent(Double.self, forKey: key) { v = x }
        }
        try d(.minVisibility, &minVisibility)
        try d(.maxGapSeconds, &maxGapSeconds)
        try d(.outlierWindowSeconds, &outlierWindowSeconds)
        try d(.outlierThreshold, &outlierThreshold)
        try d(.outlierMinDeviation, &outlierMinDeviation)
        try d(.smoothingWindowSeconds, &smoothingWindowSeconds)
        if let x = try c.decodeIfPresent(Int.self, forKey: .maxPeoplePerFrame) { maxPeoplePerFrame = x }
        try d(.trackGate, &trackGate)
        try d(.trackMaxSpeed, &trackMaxSpeed)
        try d(.trackMaxGapSeconds, &trackMaxGapSeconds)
        try d(.minLifterSeconds, &minLifterSeconds)
        try d(.lifterAmbiguityRatio, &lifterAmbiguityRatio)
        try d(.frontViewWidthRatio, &frontViewWidthRatio)
        try d(.sideViewWidthRatio, &sideViewWidthRatio)
        try d(.sideDominanceRatio, &sideDominanceRatio)
        try d(.minTravel, &minTravel)
        try d(.phaseTolerance, &phaseTolerance)
        try d(.lockWindowSeconds, &lockWindowSeconds)
        try d(.depthOffset, &depthOffset)
        try d(.depthBand, &depthBand)
        try d(.depthFitSeconds, &depthFitSeconds)
        try d(.depthNoiseFactor, &depthNoiseFactor)
        try d(.downwardPass, &downwardPass)
        try d(.downwardFail, &downwardFail)
        try d(.bottomZone, &bottomZone)
        try d(.lockedAngle, &lockedAngle)
        try d(.bentAngle, &bentAngle)
        try d(.extendedRatio, &extendedRatio)
        try d(.flexedRatio, &flexedRatio)
        try d(.pausePassSeconds, &pausePassSeconds)
        try d(.pauseFailSeconds, &pauseFailSeconds)
        try d(.pauseSpeedTolerance, &pauseSpeedTolerance)
        try d(.pauseMotionTolerance, &pauseMotionTolerance)
        try d(.buttocksPass, &buttocksPass)
        try d(.buttocksFail, &buttocksFail)
        try d(.shouldersPassDegrees, &shouldersPassDegrees)
        try d(.shouldersFailDegrees, &shouldersFailDegrees)
        try d(.lyingTorsoDegrees, &lyingTorsoDegrees)
        try d(.squatWristDrop, &squatWristDrop)
        try d(.deadliftWristDrop, &deadliftWristDrop)
    }
}

/// A config value out of range. `problems` lists every offending field in plain words.
public struct JudgingConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public var problems: [String]
    public var description: String { "invalid judging config: " + problems.joined(separator: "; ") }
}
