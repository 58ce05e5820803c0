// What the judge says about a lift: the compact `Verdict` (the product) and the per-frame `Analysis`
// the replay renderer draws from. All JSON keys and enum values are snake_case.

/// The call on a lift.
public enum Decision: String, Codable, Sendable, CaseIterable {
    /// Every rule passed clearly.
    case goodLift = "good_lift"
    /// At least one rule failed clearly (outside its uncertainty band).
    case noLift = "no_lift"
    /// The video does not support a clear call: a deciding measurement lies inside its uncertainty
    /// band, the lifter was lost, key landmarks were not visible, or the input was unusable. The
    /// verdict's `reasons` say which, with the numbers.
    case needsReview = "needs_review"
}

/// The outcome of one rule.
public enum RuleStatus: String, Codable, Sendable, CaseIterable {
    case passed
    /// Clearly broken: the measurement lies outside the rule's uncertainty band on the failing side.
    case failed
    /// Not decidable: the measurement lies inside the uncertainty band, or could not be made.
    case unknown
}

/// The rules the judge checks. Raw values are the ids in the JSON.
public enum RuleID: String, Codable, Sendable, CaseIterable {
    case squatKneesLockedStart = "squat_knees_locked_start"
    case squatDepth = "squat_depth"
    case squatSingleBottom = "squat_single_bottom"
    case squatNoDownwardAscent = "squat_no_downward_ascent"
    case squatKneesLockedFinish = "squat_knees_locked_finish"
    case benchPauseOnChest = "bench_pause_on_chest"
    case benchNoDownwardPress = "bench_no_downward_press"
    case benchElbowsLockedFinish = "bench_elbows_locked_finish"
    case benchButtocksOnBench = "bench_buttocks_on_bench"
    case deadliftNoDownwardBar = "deadlift_no_downward_bar"
    case deadliftKneesLockedFinish = "deadlift_knees_locked_finish"
    case deadliftHipsLockedFinish = "deadlift_hips_locked_finish"
    case deadliftShouldersBackFinish = "deadlift_shoulders_back_finish"

    /// The lift the rule belongs to.
    public var lift: LiftKind {
        switch self {
        case .squatKneesLockedStart, .squatDepth, .squatSingleBottom, .squatNoDownwardAscent,
             .squatKneesLockedFinish: .squat
        case .benchPauseOnChest, .benchNoDownwardPress, .benchElbowsLockedFinish, .benchButtocksOnBench: .bench
        case .deadliftNoDownwardBar, .deadliftKneesLockedFinish, .deadliftHipsLockedFinish,
             .deadliftShouldersBackFinish: .deadlift
        }
    }

    /// The rule's id without its lift, in words: `squat_depth` → `depth`, `squat_knees_locked_start` →
    /// `knees locked start`.
    public var shortName: String {
        let prefix = lift.rawValue + "_"
        let name = rawValue.hasPrefix(prefix) ? String(rawValue.dropFirst(prefix.count)) : rawValue
        return String(name.map { $0 == "_" ? " " : $0 })
    }

    /// What the rule asks, for people: `Depth: hip crease below the top of the knee`.
    public var title: String {
        switch self {
        case .squatKneesLockedStart: "Knees locked at the start"
        case .squatDepth: "Depth: hip crease below the top of the knee"
        case .squatSingleBottom: "One descent (no double bounce)"
        case .squatNoDownwardAscent: "No downward movement during the ascent"
        case .squatKneesLockedFinish: "Knees locked at the finish"
        case .benchPauseOnChest: "Bar motionless on the chest"
        case .benchNoDownwardPress: "No downward movement during the press"
        case .benchElbowsLockedFinish: "Elbows locked at the finish"
        case .benchButtocksOnBench: "Buttocks stay on the bench"
        case .deadliftNoDownwardBar: "No downward movement of the bar"
        case .deadliftKneesLockedFinish: "Knees locked at the finish"
        case .deadliftHipsLockedFinish: "Hips locked at the finish"
        case .deadliftShouldersBackFinish: "Shoulders back at the finish"
        }
    }

    /// The rules of a lift, in the order they are decided during the lift.
    public static func rules(for lift: LiftKind) -> [RuleID] {
        allCases.filter { $0.lift == lift }
    }
}

/// Units of rule measurements (JSON values).
public enum MeasureUnit: String, Codable, Sendable {
    /// Fraction of the lifter's standing thigh length (hip–knee).
    case thigh
    /// Fraction of the lifter's torso length (mid-shoulder to mid-hip).
    case torso
    case degrees
    case seconds
    case count
    /// A ratio of two lengths of the same limb.
    case ratio
}

/// The result of one rule: what was measured, against which threshold, where.
public struct RuleResult: Codable, Sendable, Equatable {
    public var id: RuleID
    public var status: RuleStatus
    /// The deciding measurement, or `nil` when it could not be made.
    public var value: Double?
    /// The rule's boundary (for banded rules the middle of the uncertainty band).
    public var threshold: Double
    /// Measurements inside `[reviewLow, reviewHigh]` make the rule `unknown`; `nil` for exact rules
    /// (counts).
    public var reviewLow: Double?
    public var reviewHigh: Double?
    public var unit: MeasureUnit
    /// The frame index (as in the pose track) and time (s) the value was measured at.
    public var frame: Int?
    public var time: Double?
    /// Plain words: what was measured and why the status.
    public var note: String

    public init(id: RuleID, status: RuleStatus, value: Double?, threshold: Double, reviewLow: Double?,
                reviewHigh: Double?, unit: MeasureUnit, frame: Int?, time: Double?, note: String) {
        self.id = id
        self.status = status
        self.value = value
        self.threshold = threshold
        self.reviewLow = reviewLow
        self.reviewHigh = reviewHigh
        self.unit = unit
        self.frame = frame
        self.time = time
        self.note = note
    }

    enum CodingKeys: String, CodingKey {
        case id, status, value, threshold
        case reviewLow = "review_low"
        case reviewHigh = "review_high"
        case unit, frame, time, note
    }

    /// Missing values are written as `null`, so every rule has the same keys.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(status, forKey: .status)
        try c.encode(value, forKey: .value)
        try c.encode(threshold, forKey: .threshold)
        try c.encode(reviewLow, forKey: .reviewLow)
        try c.encode(reviewHigh, forKey: .reviewHigh)
        try c.encode(unit, forKey: .unit)
        try c.encode(frame, forKey: .frame)
        try c.encode(time, forKey: .time)
        try c.encode(note, forKey: .note)
    }
}

/// A key moment of the lift.
public struct KeyFrame: Codable, Sendable, Equatable {
    /// The frame index as in the pose track.
    public var frame: Int
    /// Seconds from the start of the video.
    public var time: Double

    public init(frame: Int, time: Double) {
        self.frame = frame
        self.time = time
    }
}

/// The key moments: start (set-up, just before the descent or pull), bottom (deepest point of a squat,
/// the bar on the chest in a bench press; none for a deadlift) and lockout.
public struct KeyFrames: Codable, Sendable, Equatable {
    public var start: KeyFrame?
    public var bottom: KeyFrame?
    public var lockout: KeyFrame?

    enum CodingKeys: String, CodingKey { case start, bottom, lockout }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(start, forKey: .start)
        try c.encode(bottom, forKey: .bottom)
        try c.encode(lockout, forKey: .lockout)
    }

    public init(start: KeyFrame? = nil, bottom: KeyFrame? = nil, lockout: KeyFrame? = nil) {
        self.start = start
        self.bottom = bottom
        self.lockout = lockout
    }
}

/// How the camera saw the lifter.
public enum CameraView: String, Codable, Sendable {
    /// From the front or back: both legs visible, knee/hip angles not measurable.
    case front
    case oblique
    case side
}

/// The lifter's body scale measured on the clip, in pixels.
public struct BodyScale: Codable, Sendable, Equatable {
    /// Hip–knee distance while standing (median); `nil` when not measurable (e.g. bench press).
    public var thighPx: Double?
    /// Mid-shoulder to mid-hip distance (90th percentile).
    public var torsoPx: Double

    public init(thighPx: Double?, torsoPx: Double) {
        self.thighPx = thighPx
        self.torsoPx = torsoPx
    }

    enum CodingKeys: String, CodingKey {
        case thighPx = "thigh_px"
        case torsoPx = "torso_px"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(thighPx, forKey: .thighPx)
        try c.encode(torsoPx, forKey: .torsoPx)
    }
}

/// The judge's verdict on one lift. Compact: per-frame series are in `Analysis`.
public struct Verdict: Codable, Sendable, Equatable {
    public var decision: Decision
    /// The lift judged; `nil` when it could not be determined.
    public var lift: LiftKind?
    public var liftSource: LiftKindSource
    public var rules: [RuleResult]
    public var keyFrames: KeyFrames
    /// The id of the track judged as the lifter (ids number the people tracks of the clip from 0 in
    /// order of first appearance; see `Analysis.tracks`).
    public var lifterTrackId: Int?
    public var view: CameraView?
    public var scale: BodyScale?
    /// Plain-words reasons for the decision, with the measured numbers. The first reason is the main one.
    public var reasons: [String]
    /// The thresholds used.
    public var config: JudgingConfig

    public init(decision: Decision, lift: LiftKind?, liftSource: LiftKindSource, rules: [RuleResult],
                keyFrames: KeyFrames, lifterTrackId: Int?, view: CameraView?, scale: BodyScale?,
                reasons: [String], config: JudgingConfig) {
        self.decision = decision
        self.lift = lift
        self.liftSource = liftSource
        self.rules = rules
        self.keyFrames = keyFrames
        self.lifterTrackId = lifterTrackId
        self.view = view
        self.scale = scale
        self.reasons = reasons
        self.config = config
    }

    /// The result of one rule, if it was judged.
    public func rule(_ id: RuleID) -> RuleResult? { rules.first { $0.id == id } }

    enum CodingKeys: String, CodingKey {
        case decision, lift
        case liftSource = "lift_source"
        case rules
        case keyFrames = "key_frames"
        case lifterTrackId = "lifter_track_id"
        case view, scale, reasons, config
    }

    /// Missing values are written as `null`, so every verdict has the same keys.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(decision, forKey: .decision)
        try c.encode(lift, forKey: .lift)
        try c.encode(liftSource, forKey: .liftSource)
        try c.encode(rules, forKey: .rules)
        try c.encode(keyFrames, forKey: .keyFrames)
        try c.encode(lifterTrackId, forKey: .lifterTrackId)
        try c.encode(view, forKey: .view)
        try c.encode(scale, forKey: .scale)
        try c.encode(reasons, forKey: .reasons)
        try c.encode(config, forKey: .config)
    }
}

/// The phase of the lift in one frame.
public enum LiftPhase: String, Codable, Sendable {
    /// Before the descent (squat, bench) or before the bar leaves the floor (deadlift).
    case setup
    case descent
    /// Around the deepest point (squat) or the bar on the chest (bench).
    case bottom
    /// Standing up, pressing, pulling.
    case ascent
    /// From reaching lockout height to the end of the clip.
    case lockout
    /// The lifter is not tracked in this frame, or no lift was found.
    case unknown
}

/// Per-frame measurements for the replay (depth gauge, bar path, phase banner).
public struct FrameAnalysis: Codable, Sendable, Equatable {
    /// The frame index as in the pose track.
    public var frame: Int
    public var time: Double
    public var phase: LiftPhase
    /// Index into `PoseFrame.people` of the lifter in this frame, if present.
    public var lifterPerson: Int?
    /// Squat: hip centre minus knee centre height (px, image y down: positive = hip below knee),
    /// smoothed; `nil` when not measured.
    public var depthMarginPx: Double?
    /// The same divided by the standing thigh length.
    public var depthMarginThigh: Double?
    /// The bar height proxy (mean wrist y, px, smoothed) for bench and deadlift; hip y for squats.
    public var trackedY: Double?

    public init(frame: Int, time: Double, phase: LiftPhase, lifterPerson: Int?, depthMarginPx: Double?,
                depthMarginThigh: Double?, trackedY: Double?) {
        self.frame = frame
        self.time = time
        self.phase = phase
        self.lifterPerson = lifterPerson
        self.depthMarginPx = depthMarginPx
        self.depthMarginThigh = depthMarginThigh
        self.trackedY = trackedY
    }

    enum CodingKeys: String, CodingKey {
        case frame, time, phase
        case lifterPerson = "lifter_person"
        case depthMarginPx = "depth_margin_px"
        case depthMarginThigh = "depth_margin_thigh"
        case trackedY = "tracked_y"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(frame, forKey: .frame)
        try c.encode(time, forKey: .time)
        try c.encode(phase, forKey: .phase)
        try c.encode(lifterPerson, forKey: .lifterPerson)
        try c.encode(depthMarginPx, forKey: .depthMarginPx)
        try c.encode(depthMarginThigh, forKey: .depthMarginThigh)
        try c.encode(trackedY, forKey: .trackedY)
    }
}

/// When a rule's outcome becomes known during the replay (for a live checklist).
public struct RuleTiming: Codable, Sendable, Equatable {
    public var id: RuleID
    public var status: RuleStatus
    /// The frame from which the checklist may show the outcome; `nil` = only at the end.
    public var decidedFrame: Int?
    public var decidedTime: Double?

    public init(id: RuleID, status: RuleStatus, decidedFrame: Int?, decidedTime: Double?) {
        self.id = id
        self.status = status
        self.decidedFrame = decidedFrame
        self.decidedTime = decidedTime
    }

    enum CodingKeys: String, CodingKey {
        case id, status
        case decidedFrame = "decided_frame"
        case decidedTime = "decided_time"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(status, forKey: .status)
        try c.encode(decidedFrame, forKey: .decidedFrame)
        try c.encode(decidedTime, forKey: .decidedTime)
    }
}

/// One people track found in the clip.
public struct TrackSummary: Codable, Sendable, Equatable {
    public var id: Int
    public var firstFrame: Int
    public var lastFrame: Int
    /// Frames in which the person was seen.
    public var frames: Int
    /// The lifter-selection score (higher = more likely the lifter).
    public var score: Double
    /// True for the lifter.
    public var lifter: Bool

    public init(id: Int, firstFrame: Int, lastFrame: Int, frames: Int, score: Double, lifter: Bool) {
        self.id = id
        self.firstFrame = firstFrame
        self.lastFrame = lastFrame
        self.frames = frames
        self.score = score
        self.lifter = lifter
    }

    enum CodingKeys: String, CodingKey {
        case id
        case firstFrame = "first_frame"
        case lastFrame = "last_frame"
        case frames, score, lifter
    }
}

/// The verdict plus everything the replay renderer draws from.
public struct Analysis: Codable, Sendable, Equatable {
    public var verdict: Verdict
    /// One entry per pose-track frame, in order.
    public var frames: [FrameAnalysis]
    public var ruleTimings: [RuleTiming]
    public var tracks: [TrackSummary]
    /// Only in a partial analysis (`Judge.analyze(_:lift:partial:)`) of a clip whose lifter has not
    /// moved yet: the lift's rules, in the order the verdict will list them, none judged yet. Not
    /// encoded.
    public var pendingRules: [RuleID] = []

    public init(verdict: Verdict, frames: [FrameAnalysis], ruleTimings: [RuleTiming], tracks: [TrackSummary],
                pendingRules: [RuleID] = []) {
        self.verdict = verdict
        self.frames = frames
        self.ruleTimings = ruleTimings
        self.tracks = tracks
        self.pendingRules = pendingRules
    }

    enum CodingKeys: String, CodingKey {
        case verdict, frames
        case ruleTimings = "rule_timings"
        case tracks
    }
}
