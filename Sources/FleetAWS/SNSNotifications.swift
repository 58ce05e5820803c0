import AWS
import Fleet
import Foundation

/// Notifications on AWS: one SNS Publish per decision to the coaches topic, with message attributes
/// (meet, team, athlete, decision, lift, audience) that each subscription's filter policy selects on.
/// E-mail subscribers get the plain-text body and the subject (at most 99 characters, SNS's rule).
public struct SNSNotificationSink: NotificationSink {
    public let sns: SNSClient
    public let topicArn: String

    public init(sns: SNSClient, topicArn: String) {
        self.sns = sns
        self.topicArn = topicArn
    }

    /// SNS Publish has no idempotency key on standard topics: a repeated publish is a second e-mail.
    public var isIdempotent: Bool { false }

    public func deliver(_ notification: OutgoingNotification) async throws -> DeliveryReceipt {
        var attributes: [String: SQSMessageAttributeValue] = [:]
        for (name, value) in notification.attributes where !value.isEmpty {
            attributes[name] = .string(String(value.prefix(256)))
        }
        do {
            let messageId = try await sns.publish(topicArn: topicArn, message: notification.body,
                                                  subject: notification.snsSubject, attributes: attributes)
            return DeliveryReceipt(messageId: messageId, audience: notification.attributes["audience"] ?? "staff")
        } catch {
            throw Self.classify(error)
        }
    }

    /// Whether a failed Publish may have published anyway. SNS answering with a 4xx error (bad topic,
    /// throttled, denied) or a connection that was never made sent nothing; a 5xx, a timeout or a
    /// connection lost mid-request may have.
    public static func classify(_ error: any Error) -> DeliveryError {
        switch error {
        case let error as AWSError:
            return error.statusCode < 500 || error.isThrottling ? .notSent("\(error)") : .outcomeUnknown("\(error)")
        case let error as AWSClientError:
            switch error {
            case .connectionFailed, .invalidArgument, .noCredentials, .credentialProvider, .invalidConfiguration:
                return .notSent("\(error)")
            default:
                return .outcomeUnknown("\(error)")
            }
        default:
            return .outcomeUnknown("\(error)")
        }
    }
}

/// Coaches as e-mail subscriptions of the coaches topic. SNS allows one subscription per address and
/// topic, so an address's entries (several teams, single athletes, staff) are folded into that
/// subscription's one filter policy, and read back from it.
public struct SNSCoachDirectory: CoachDirectory {
    public let sns: SNSClient
    public let topicArn: String

    public init(sns: SNSClient, topicArn: String) {
        self.sns = sns
        self.topicArn = topicArn
    }

    public func add(_ subscription: CoachSubscription) async throws -> CoachSubscription {
        let email = try EmailAddress.validate(subscription.email)
        var entry = subscription
        entry.email = email
        entry.id = nil
        entry.pending = false
        let existing = try await subscriptions(of: email)
        if let arn = existing.arn, CoachFilterPolicy.isPending(arn) {
            // SNS shows neither the ARN nor the filter policy of an unconfirmed subscription: its entries
            // cannot be merged with the new one without losing them.
            throw FleetError.configuration("\(email) has not confirmed its subscription yet; add more entries once it has")
        }
        // Entries refvision did not write (no team, not staff) are not carried into the policy.
        var entries = existing.entries.filter { $0.staff || $0.team != nil }.map { var e = $0; e.id = nil; e.pending = false; return e }
        if !entries.contains(entry) { entries.append(entry) }
        let policy = CoachFilterPolicy.policy(for: entries)
        var arn: String
        if let current = existing.arn, !CoachFilterPolicy.isPending(current) {
            try await sns.setSubscriptionAttributes(subscriptionArn: current, name: "FilterPolicy", value: policy)
            arn = current
        } else {
            arn = try await sns.subscribe(topicArn: topicArn, protocol: "email", endpoint: email, filterPolicy: policy)
        }
        entry.id = arn
        entry.pending = CoachFilterPolicy.isPending(arn)
        return entry
    }

    public func list() async throws -> [CoachSubscription] {
        var all: [CoachSubscription] = []
        for subscription in try await sns.listSubscriptionsByTopic(topicArn: topicArn) where subscription.protocolName == "email" {
            all += try await entries(of: subscription)
        }
        return all.sorted { ($0.email, $0.team ?? "") < ($1.email, $1.team ?? "") }
    }

    public func remove(email: String, team: String?) async throws -> Int {
        let existing = try await subscriptions(of: email.trimmingCharacters(in: .whitespaces))
        guard let arn = existing.arn else { return 0 }
        if CoachFilterPolicy.isPending(arn) {
            throw FleetError.configuration("\(email) has not confirmed its subscription; an unconfirmed subscription lapses by itself after 3 days")
        }
        let kept = team.map { team in existing.entries.filter { $0.staff || $0.team != team } } ?? []
        let removed = existing.entries.count - kept.count
        guard removed > 0 else { return 0 }
        if kept.isEmpty {
            try await sns.unsubscribe(subscriptionArn: arn)
        } else {
            try await sns.setSubscriptionAttributes(subscriptionArn: arn, name: "FilterPolicy",
                                                    value: CoachFilterPolicy.policy(for: kept))
        }
        return removed
    }

    func subscriptions(of email: String) async throws -> (arn: String?, entries: [CoachSubscription]) {
        for subscription in try await sns.listSubscriptionsByTopic(topicArn: topicArn)
        where subscription.protocolName == "email" && subscription.endpoint.lowercased() == email.lowercased() {
            return (subscription.subscriptionArn, try await entries(of: subscription))
        }
        return (nil, [])
    }

    func entries(of subscription: SNSSubscription) async throws -> [CoachSubscription] {
        let pending = CoachFilterPolicy.isPending(subscription.subscriptionArn)
        var policy: String?
        if !pending {
            policy = try await sns.getSubscriptionAttributes(subscriptionArn: subscription.subscriptionArn)["FilterPolicy"]
        }
        let entries = CoachFilterPolicy.entries(email: subscription.endpoint, policy: policy, id: subscription.subscriptionArn,
                                                pending: pending)
        // Not one of ours (no policy, or one refvision did not write): listed so that ops see it.
        return entries ?? [CoachSubscription(email: subscription.endpoint, team: nil, id: subscription.subscriptionArn, pending: pending)]
    }
}

/// Plain S3 presigned URLs as the links in e-mails (`REFVISION_LINK_MODE=presigned`; no replay service
/// needed). The signer clamps the validity to 7 days and to the expiry of the credentials that sign: a
/// task role's session lasts hours, so these links die early, and the e-mail says until when.
public struct PresignedReplayLinks: ReplayLinkProvider {
    public let s3: S3Client
    public let seconds: Int

    public init(s3: S3Client, seconds: Int) {
        self.s3 = s3
        self.seconds = seconds
    }

    public func link(for record: DecisionRecord, now: Date) async throws -> ReplayLink? {
        guard let bucket = record.replayBucket, let key = record.replayKey else { return nil }
        let presigned = try await s3.presignGetObject(bucket: bucket, key: key, expires: seconds, date: now)
        return ReplayLink(url: presigned.url, expires: presigned.expiresAt)
    }
}
