import Fleet
import Foundation
import Logging
import ReplayLinks
import ServiceLifecycle
import ServiceSupport
import Synchronization
import AWSSigner

/// Stable links to the replay service carrying an HMAC token (job id, expiry, key id): they outlive the
/// role credentials that S3 presigned URLs die with (docs/notifications.md).
public struct SignedReplayLinks: ReplayLinkProvider {
    public let signer: LinkSigner
    public let baseURL: String

    public init(signer: LinkSigner, baseURL: String) throws {
        // Fail at start-up, not on the first decision, when the base URL is unusable.
        _ = try signer.url(base: baseURL, jobId: "check")
        self.signer = signer
        self.baseURL = baseURL
    }

    /// The link's validity counts from the decision (`decidedAt`), so the notifier, `run`'s printout and
    /// a retry all make the same link; a decision notified so late that less than a day would be left
    /// gets a link counted from now.
    public func link(for record: DecisionRecord, now: Date) async throws -> ReplayLink? {
        guard record.hasReplayPage else { return nil }
        var base = record.decidedAt ?? now
        if base.addingTimeInterval(signer.validity) < now.addingTimeInterval(86400) { base = now }
        let url = try signer.url(base: baseURL, jobId: record.jobId, now: base)
        return ReplayLink(url: url, expires: Date(timeIntervalSince1970: (base.timeIntervalSince1970 + signer.validity).rounded(.down)))
    }
}

/// How the notifier behaves (docs/configuration.md).
public struct NotifierConfiguration: Sendable {
    /// Long-poll wait on the results queue (0...20 s).
    public var receiveWaitSeconds = 20
    /// A failed publish is tried again after `retryBaseSeconds · 2^(receives−1)`, at most `retryMaxSeconds`;
    /// the results queue's redrive policy moves the result to its DLQ after its `maxReceiveCount`.
    public var retryBaseSeconds = 10
    public var retryMaxSeconds = 300
    /// How long the coach list is cached (it decides whether a decision goes to coaches or staff).
    public var coachCacheSeconds: TimeInterval = 60
    /// A `sending` claim younger than this belongs to a notifier that is still publishing: a duplicate
    /// result waits for it instead of judging the claim abandoned (longer than any publish with retries).
    public var claimStaleSeconds: TimeInterval = 300

    public init() {}
}

/// What the notifier did with one result message.
public enum NotifyOutcome: Sendable, Equatable {
    /// Published (or written to the outbox) to `audience`.
    case sent(audience: String)
    /// The job was already notified: nothing sent, message deleted.
    case duplicate
    /// Unreadable or unknown: moved to the results DLQ with this reason.
    case deadLettered(String)
    /// Left on the queue to try again (the queue's redrive ends it in the DLQ).
    case retryLater(String)
    /// The publish may or may not have happened; not repeated (a second e-mail is worse than none).
    case deliveryUnknown(String)
}

/// Results → e-mails. For each result message: claims the decision (`judged`/`failed` → `notified`) with
/// a conditional write, then publishes, then confirms. At most one e-mail per job: a duplicate result, a
/// second notifier or a restart finds the claim and sends nothing (docs/notifications.md).
public final class Notifier: Service, Sendable {
    public let configuration: NotifierConfiguration
    let results: any JobQueue
    let resultsDeadLetter: any JobQueue
    let decisions: any DecisionStore
    let sink: any NotificationSink
    let coaches: any CoachDirectory
    let links: (any ReplayLinkProvider)?
    let heartbeat: Heartbeat?
    let logger: Logger
    let clock: @Sendable () -> Date
    let onOutcome: @Sendable (String, NotifyOutcome) -> Void
    private let coachCache = LockedCache()

    public init(configuration: NotifierConfiguration = NotifierConfiguration(), results: any JobQueue,
                resultsDeadLetter: any JobQueue, decisions: any DecisionStore, sink: any NotificationSink,
                coaches: any CoachDirectory, links: (any ReplayLinkProvider)?, heartbeat: Heartbeat? = nil,
                logger: Logger = Logger(label: "refvision.notifier"), clock: @escaping @Sendable () -> Date = { Date() },
                onOutcome: @escaping @Sendable (String, NotifyOutcome) -> Void = { _, _ in }) {
        self.configuration = configuration
        self.results = results
        self.resultsDeadLetter = resultsDeadLetter
        self.decisions = decisions
        self.sink = sink
        self.coaches = coaches
        self.links = links
        self.heartbeat = heartbeat
        self.logger = logger
        self.clock = clock
        self.onOutcome = onOutcome
    }

    // MARK: Service

    public func run() async throws {
        logger.info("notifier started", metadata: ["results": "\(results.name)"])
        await pollUntilShutdown(what: "results", heartbeat: heartbeat, logger: logger) { _ = try await pollOnce() }
        logger.info("notifier stopped")
    }

    /// One long poll of the results queue and the handling of what arrived, one message at a time.
    @discardableResult
    public func pollOnce(waitSeconds: Int? = nil) async throws -> [NotifyOutcome] {
        let wait = waitSeconds ?? configuration.receiveWaitSeconds
        let messages = try await cancelWhenGracefulShutdown { [results] in
            try await results.receive(maxMessages: 10, waitSeconds: wait, visibilityTimeout: nil)
        }
        var outcomes: [NotifyOutcome] = []
        for message in messages {
            heartbeat?.beat()
            outcomes.append(await handle(message))
        }
        return outcomes
    }

    /// Handles one result message; never throws (every failure has an outcome).
    public func handle(_ message: QueueMessage) async -> NotifyOutcome {
        var metadata: Logger.Metadata = ["messageId": "\(message.messageId)"]
        let outcome: NotifyOutcome
        do {
            let result = try ResultMessage.parse(message.body)
            metadata["jobId"] = "\(result.jobId)"
            outcome = await process(result, message: message)
        } catch {
            outcome = await deadLetter(message, reason: "\(error)")
        }
        metadata["outcome"] = "\(outcome)"
        switch outcome {
        case .sent, .duplicate: logger.info("result handled", metadata: metadata)
        case .retryLater: logger.warning("result left for a retry", metadata: metadata)
        case .deadLettered, .deliveryUnknown: logger.error("result not delivered", metadata: metadata)
        }
        onOutcome(message.messageId, outcome)
        return outcome
    }

    func process(_ result: ResultMessage, message: QueueMessage) async -> NotifyOutcome {
        do {
            guard let record = try await decisions.get(jobId: result.jobId) else {
                return await deadLetter(message, reason: "no decision record for job \(result.jobId)")
            }
            switch record.state {
            case .queued, .processing:
                return await deadLetter(message, reason: "job \(result.jobId) is \(record.state.rawValue), not decided")
            case .notified:
                return await alreadyClaimed(record, message: message)
            case .judged, .failed:
                return try await notify(record, message: message)
            }
        } catch {
            return await retry(message, reason: "\(error)")
        }
    }

    /// `current` claimed for sending under `claim`: notified, delivery `sending`, with the failed
    /// attempts and last error of the `previous` status (as read before the claim) carried over.
    private static func claimed(_ current: DecisionRecord, claim: String, at now: Date,
                                after previous: NotificationStatus?) -> DecisionRecord {
        var next = current
        next.state = .notified
        next.updatedAt = now
        next.notification = NotificationStatus(delivery: .sending, claim: claim, claimedAt: now,
                                               failedAttempts: previous?.failedAttempts ?? 0)
        next.notification?.lastError = previous?.lastError
        return next
    }

    /// Claim, publish, confirm.
    func notify(_ record: DecisionRecord, message: QueueMessage) async throws -> NotifyOutcome {
        let now = clock()
        // Everything that can fail for ordinary reasons happens before the claim.
        let link = try await links?.link(for: record, now: now)
        let notification = try await compose(record, link: link)
        let claim = UUID().uuidString
        let previous = record.notification
        let claimed = try await decisions.modify(jobId: record.jobId) { current in
            guard current.state == .judged || current.state == .failed else { return nil }
            return Self.claimed(current, claim: claim, at: now, after: previous)
        }
        guard claimed != nil else {
            // Someone else claimed it between our read and our write.
            return try await delete(message, outcome: .duplicate)
        }
        return try await deliver(notification, jobId: record.jobId, claim: claim, message: message)
    }

    func compose(_ record: DecisionRecord, link: ReplayLink?) async throws -> OutgoingNotification {
        let attributes = NotificationComposer.attributes(record)
        let audience = CoachSubscription.audience(for: attributes, among: try await coachList())
        return NotificationComposer.compose(record, link: link?.url, linkExpires: link?.expires, audience: audience)
    }

    func deliver(_ notification: OutgoingNotification, jobId: String, claim: String, message: QueueMessage) async throws -> NotifyOutcome {
        do {
            let receipt = try await sink.deliver(notification)
            let sentAt = clock()
            // Sent: recording it must not be lost to a passing store error (a retry would find the claim
            // unconfirmed and report the delivery as unknown).
            var attempt = 0
            while true {
                do {
                    try await settle(jobId: jobId, claim: claim) { status in
                        status.delivery = .sent
                        status.sentAt = sentAt
                        status.messageId = receipt.messageId
                        status.audience = receipt.audience
                    }
                    break
                } catch {
                    attempt += 1
                    if attempt >= 4 { throw error }
                    try await Task.sleep(for: .milliseconds(250 << attempt))
                }
            }
            return try await delete(message, outcome: .sent(audience: receipt.audience))
        } catch let error as DeliveryError {
            switch error {
            case .notSent(let why):
                try await release(jobId: jobId, claim: claim, error: why)
                return await retry(message, reason: why)
            case .outcomeUnknown(let why) where sink.isIdempotent:
                try await release(jobId: jobId, claim: claim, error: why)
                return await retry(message, reason: why)
            case .outcomeUnknown(let why):
                try await settle(jobId: jobId, claim: claim) { status in
                    status.delivery = .unknown
                    status.lastError = why
                }
                return try await delete(message, outcome: .deliveryUnknown(why))
            }
        }
    }

    /// Ops: sends a decision's e-mail again by hand (`refvision resend`). Allowed for a delivery recorded
    /// `unknown` or `failed`, and for a decision not mailed yet; a `sent` one, or one a notifier is still
    /// sending, only with `force`. The claim is taken anew with a conditional write, so this and a
    /// notifier handling the same job never both publish.
    public func resend(jobId: String, force: Bool = false) async throws -> DeliveryReceipt {
        guard let record = try await decisions.get(jobId: jobId) else { throw FleetError.decisionNotFound(jobId) }
        guard record.state.isTerminal else {
            throw FleetError.conditionFailed("job \(jobId) is \(record.state.rawValue): nothing to mail yet")
        }
        if !force, record.state == .notified, let status = record.notification, status.delivery == .sent || status.delivery == .sending {
            throw FleetError.conditionFailed("job \(jobId) was \(status.delivery == .sent ? "mailed" : "being mailed") already; --force sends it again")
        }
        let now = clock()
        let notification = try await compose(record, link: try await links?.link(for: record, now: now))
        let claim = UUID().uuidString
        let previous = record.notification
        let claimed = try await decisions.modify(jobId: jobId) { current in
            // Only the state we decided on: anything else means someone else acted meanwhile.
            guard current.revision == record.revision else { return nil }
            return Self.claimed(current, claim: claim, at: now, after: previous)
        }
        guard claimed != nil else { throw FleetError.conditionFailed("job \(jobId) changed while resending; try again") }
        do {
            let receipt = try await sink.deliver(notification)
            let sentAt = clock()
            try await settle(jobId: jobId, claim: claim) { status in
                status.delivery = .sent
                status.sentAt = sentAt
                status.messageId = receipt.messageId
                status.audience = receipt.audience
            }
            logger.notice("decision mailed again by hand", metadata: ["jobId": "\(jobId)", "audience": "\(receipt.audience)"])
            return receipt
        } catch let error as DeliveryError {
            switch error {
            case .notSent(let why) where record.state != .notified:
                try await release(jobId: jobId, claim: claim, error: why)
            case .notSent:
                // Nothing went out: the record says what it said before, plus why this try failed.
                try await settle(jobId: jobId, claim: claim) { status in
                    if let previous { status = previous }
                    status.lastError = error.description
                }
            case .outcomeUnknown:
                try await settle(jobId: jobId, claim: claim) { status in
                    status.delivery = .unknown
                    status.lastError = error.description
                }
            }
            throw error
        }
    }

    /// A result for a job whose notification was claimed already.
    func alreadyClaimed(_ record: DecisionRecord, message: QueueMessage) async -> NotifyOutcome {
        do {
            guard let status = record.notification, status.delivery == .sending else {
                // `sent`, or `unknown` (reported once already).
                return try await delete(message, outcome: .duplicate)
            }
            if clock().timeIntervalSince(status.claimedAt) < configuration.claimStaleSeconds {
                return await retry(message, reason: "another notifier is publishing this decision")
            }
            // A notifier claimed the job and stopped before confirming (killed mid-publish).
            if sink.isIdempotent {
                let notification = try await compose(record, link: try await links?.link(for: record, now: clock()))
                return try await deliver(notification, jobId: record.jobId, claim: status.claim, message: message)
            }
            let why = "a notifier claimed the job at \(AWSDate.formatISO8601(status.claimedAt)) and never confirmed the publish"
            try await settle(jobId: record.jobId, claim: status.claim) { status in
                status.delivery = .unknown
                status.lastError = why
            }
            return try await delete(message, outcome: .deliveryUnknown(why))
        } catch {
            return await retry(message, reason: "\(error)")
        }
    }

    /// Updates the notification status under our claim (no-op when the claim is no longer ours).
    func settle(jobId: String, claim: String, _ change: @escaping @Sendable (inout NotificationStatus) -> Void) async throws {
        let now = clock()
        try await decisions.modify(jobId: jobId) { current in
            guard current.state == .notified, var status = current.notification, status.claim == claim else { return nil }
            change(&status)
            var next = current
            next.notification = status
            next.updatedAt = now
            return next
        }
    }

    /// Gives the claim back after a publish that certainly sent nothing: the job is `judged`/`failed`
    /// again, with the error, for the retry.
    func release(jobId: String, claim: String, error: String) async throws {
        let now = clock()
        try await decisions.modify(jobId: jobId) { current in
            guard current.state == .notified, var status = current.notification, status.claim == claim else { return nil }
            var next = current
            next.state = current.decidedState
            status.failedAttempts += 1
            status.lastError = String(error.prefix(500))
            status.delivery = .failed
            next.notification = status
            next.updatedAt = now
            return next
        }
    }

    func delete(_ message: QueueMessage, outcome: NotifyOutcome) async throws -> NotifyOutcome {
        try await results.delete(receiptHandle: message.receiptHandle)
        return outcome
    }

    /// Leaves the message to come back after a backoff (SQS redrives it to the DLQ after maxReceiveCount).
    func retry(_ message: QueueMessage, reason: String) async -> NotifyOutcome {
        let exponent = min(max(message.receiveCount - 1, 0), 10)
        let delay = min(configuration.retryMaxSeconds, configuration.retryBaseSeconds << exponent)
        do {
            try await results.changeVisibility(receiptHandle: message.receiptHandle, seconds: delay)
        } catch {
            logger.warning("could not delay the retry", metadata: ["error": "\(error)"])
        }
        return .retryLater(reason)
    }

    /// Moves an unreadable or unknown result to the results DLQ with the reason; the notifier goes on.
    func deadLetter(_ message: QueueMessage, reason: String) async -> NotifyOutcome {
        let body = message.body.utf8.count <= maximumMessageBytes ? message.body : String(message.body.prefix(maximumMessageBytes / 4))
        do {
            let failures = try await resultsDeadLetter.send([
                OutgoingMessage(id: "dl", body: body.isEmpty ? "(empty)" : body,
                                attributes: ["reason": String(reason.prefix(1000)), "sourceMessageId": message.messageId]),
            ])
            if let failure = failures.first { return .retryLater("results DLQ refused the message: \(failure)") }
            try await results.delete(receiptHandle: message.receiptHandle)
            return .deadLettered(reason)
        } catch {
            return .retryLater("results DLQ send failed: \(error)")
        }
    }

    /// The coach list, cached for `coachCacheSeconds`.
    func coachList() async throws -> [CoachSubscription] {
        let now = clock()
        if let cached = coachCache.get(now: now, maxAge: configuration.coachCacheSeconds) { return cached }
        let fresh = try await coaches.list()
        coachCache.set(fresh, at: now)
        return fresh
    }
}

/// The coach list and when it was read.
final class LockedCache: Sendable {
    private let state = Mutex<(value: [CoachSubscription], at: Date)?>(nil)

    func get(now: Date, maxAge: TimeInterval) -> [CoachSubscription]? {
        state.withLock { entry in
            guard let entry, now >= entry.at, now.timeIntervalSince(entry.at) < maxAge else { return nil }
            return entry.value
        }
    }

    func set(_ value: [CoachSubscription], at date: Date) {
        state.withLock { $0 = (value, date) }
    }
}
