import Crypto
import Foundation

/// Where a job is in its life. Transitions (each a conditional write):
/// `queued` (dispatcher claimed the object version) → `processing` (a worker holds the lease) →
/// `judged` | `failed` (permanent failure, also a decision) → `notified` (the notifier mailed it).
/// A worker whose lease expired (it died) is replaced: `processing` → `processing` with a new lease.
public enum JobState: String, Codable, Sendable, CaseIterable {
    case queued
    case processing
    case judged
    case failed
    case notified

    /// The job needs no more work from a worker.
    public var isTerminal: Bool { self == .judged || self == .failed || self == .notified }
}

/// One job's record in the decision store (DynamoDB item / SQLite row).
public struct DecisionRecord: Codable, Sendable, Equatable {
    public var jobId: String
    public var bucket: String
    public var key: String
    /// The object version the job is for (S3 version id, else ETag).
    public var version: String
    public var state: JobState
    /// Optimistic-concurrency counter; every successful update adds one.
    public var revision: Int
    public var lift: String?
    public var meet: String?
    public var athlete: String?
    public var attempt: Int?
    public var team: String?
    public var createdAt: Date
    public var updatedAt: Date
    /// When the worker recorded the decision (`judged`/`failed`); never changed afterwards. Replay links
    /// count their validity from it, so every link made for one decision is the same link.
    public var decidedAt: Date?
    /// How many times a worker started the job.
    public var attempts: Int
    /// The worker attempt that holds the job while `processing`, and until when (extended by heartbeats).
    public var lease: String?
    public var leaseUntil: Date?
    /// `good_lift`, `no_lift`, `needs_review` once judged.
    public var decision: String?
    /// Plain-words reason: the failing rules, the review reasons, or the permanent failure.
    public var reason: String?
    /// For `failed`: the kind of permanent failure (`undecodable`, `over_limits`, `no_lifter`, `not_found`).
    public var failure: String?
    public var replayBucket: String?
    public var replayKey: String?
    /// The verdict as JSON (the `refvision judge --json` document).
    public var verdict: String?
    /// When the result message went out (a worker re-running a finished job re-sends it only if nil).
    public var resultSentAt: Date?
    /// The last transient error, for `status` and ops.
    public var lastError: String?
    public var source: String?
    /// The notifier's claim and delivery (state `notified`); a failed publish leaves its error here.
    public var notification: NotificationStatus?
    /// The lift's main signal over time (squat depth, bar or hip height), for the replay page's chart.
    public var chart: DecisionChart?

    /// Whether the decision has a replay page to link to: a replay was made, or the job failed (the page
    /// says why it was not judged).
    public var hasReplayPage: Bool { replayKey != nil || decidedState == .failed }

    /// The state a `notified` record had before the notifier claimed it.
    public var decidedState: JobState {
        if state == .notified { return failure == nil ? .judged : .failed }
        return state
    }

    public init(job: JobMessage, state: JobState = .queued, now: Date) {
        jobId = job.jobId
        bucket = job.bucket
        key = job.key
        version = job.version
        self.state = state
        revision = 0
        lift = job.lift
        meet = job.meet
        athlete = job.athlete
        attempt = job.attempt
        team = job.team
        createdAt = now
        updatedAt = now
        attempts = 0
        source = job.source
    }
}

/// The deterministic id of the job for one object version: however many events name the same version,
/// they name the same job. Hex of the first 16 bytes of SHA-256 over `bucket \n key \n version`.
public func jobIdentifier(bucket: String, key: String, version: String) -> String {
    let digest = SHA256.hash(data: Data("\(bucket)\n\(key)\n\(version)".utf8))
    return digest.prefix(16).map { String(format: "%02x", $0) }.joined()
}

/// Output keys are deterministic (a retry overwrites instead of adding): the raw key without its
/// extension, then the job id's first 12 characters, in the annotated bucket.
public enum OutputKeys {
    public static func replay(rawKey: String, jobId: String) -> String { base(rawKey, jobId) + ".replay.mp4" }
    public static func verdict(rawKey: String, jobId: String) -> String { base(rawKey, jobId) + ".verdict.json" }

    static func base(_ rawKey: String, _ jobId: String) -> String {
        var stem = rawKey
        if let slash = stem.lastIndex(of: "/"), let dot = stem[slash...].lastIndex(of: ".") {
            stem = String(stem[..<dot])
        } else if !stem.contains("/"), let dot = stem.lastIndex(of: "."), dot != stem.startIndex {
            stem = String(stem[..<dot])
        }
        return stem + "." + String(jobId.prefix(12))
    }
}
