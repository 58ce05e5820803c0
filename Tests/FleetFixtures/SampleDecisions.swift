import Fleet
import Foundation
import Judging

/// Decision records as a worker writes them, for the notifier and replay-service tests: a real
/// `Verdict` (encoded as the worker encodes it), a chart, the replay's location.
public enum SampleDecisions {
    public static let now = Date(timeIntervalSince1970: 1_795_000_000)

    /// A squat judged `decision` (no_lift: depth failed; needs_review: depth inside its band).
    public static func squat(_ decision: Decision = .noLift, meet: String = "nationals-2026", athlete: String = "jane-doe",
                             team: String? = "lions", attempt: Int = 2, key: String? = nil,
                             annotatedBucket: String = "annotated") -> DecisionRecord {
        let rawKey = key ?? "\(meet)/\(athlete)/squat-\(attempt).mp4"
        var job = JobMessage(bucket: "raw", key: rawKey, version: "etag-" + rawKey, size: 4096, lift: "squat",
                             meet: meet, athlete: athlete, attempt: attempt, source: "s3", createdAt: now)
        job.team = team
        var record = DecisionRecord(job: job, state: .judged, now: now)
        record.revision = 0
        record.decision = decision.rawValue
        let depthValue: Double = switch decision {
        case .goodLift: 0.12
        case .noLift: -0.09
        case .needsReview: 0.01
        }
        let depthStatus: RuleStatus = switch decision {
        case .goodLift: .passed
        case .noLift: .failed
        case .needsReview: .unknown
        }
        let rules = [
            RuleResult(id: .squatKneesLockedStart, status: .passed, value: 172.5, threshold: 160, reviewLow: 155, reviewHigh: 165,
                       unit: .degrees, frame: 3, time: 0.1, note: "knee angle at the start"),
            RuleResult(id: .squatDepth, status: depthStatus, value: depthValue, threshold: 0.0, reviewLow: -0.04, reviewHigh: 0.04,
                       unit: .thigh, frame: 96, time: 3.2, note: "hip crease vs top of the knee at the bottom"),
            RuleResult(id: .squatKneesLockedFinish, status: .passed, value: 174, threshold: 160, reviewLow: 155, reviewHigh: 165,
                       unit: .degrees, frame: 180, time: 6.0, note: "knee angle at the finish"),
        ]
        let reasons: [String] = switch decision {
        case .goodLift: ["every rule passed"]
        case .noLift: ["depth: hip crease 0.09 thigh above the top of the knee (needs at least 0.00)"]
        case .needsReview: ["depth: 0.01 thigh is inside the review band -0.04…0.04"]
        }
        let verdict = Verdict(decision: decision, lift: .squat, liftSource: .given, rules: rules,
                              keyFrames: KeyFrames(start: KeyFrame(frame: 3, time: 0.1), bottom: KeyFrame(frame: 96, time: 3.2),
                                                   lockout: KeyFrame(frame: 180, time: 6.0)),
                              lifterTrackId: 0, view: nil, scale: nil, reasons: reasons, config: JudgingConfig())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        record.verdict = String(decoding: try! encoder.encode(verdict), as: UTF8.self)
        record.reason = reasons.first
        record.replayBucket = annotatedBucket
        record.replayKey = OutputKeys.replay(rawKey: rawKey, jobId: record.jobId)
        let times = (0..<200).map { Double($0) * 0.033 }
        record.chart = DecisionChart(label: "Depth: hip below knee top", unit: "thigh", times: times,
                                     values: times.map { t in -0.6 + 0.6 * sin(min(t, 6) / 6 * .pi) + depthValue },
                                     bottomTime: 3.2, threshold: 0, bandLow: -0.04, bandHigh: 0.04)
        return record
    }

    /// A permanent failure (`undecodable` video).
    public static func failed(meet: String = "nationals-2026", athlete: String = "b-lee", team: String? = nil) -> DecisionRecord {
        let key = "\(meet)/\(athlete)/deadlift-1.mp4"
        var job = JobMessage(bucket: "raw", key: key, version: "etag-f", size: 2048, lift: "deadlift", meet: meet,
                             athlete: athlete, attempt: 1, source: "s3", createdAt: now)
        job.team = team
        var record = DecisionRecord(job: job, state: .failed, now: now)
        record.failure = "undecodable"
        record.reason = "the file is not a video FFmpeg can read"
        return record
    }
}
