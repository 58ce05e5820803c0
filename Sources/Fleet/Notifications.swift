import Foundation

// The notifier's ports: where e-mails go (SNS topic or an outbox folder) and who gets them (SNS
// subscriptions with filter policies, or a SQLite table). Pure types and protocols; the implementations
// live in FleetAWS and Embedded (docs/notifications.md).

/// Where a decision's notification stands, kept on the decision record.
///
/// The notifier claims a job (`judged`/`failed` → `notified`, status `sending`) with a conditional write
/// before it publishes, then confirms (`sent`). A second notifier, or a redelivered result, finds the claim
/// and publishes nothing: one job never sends two e-mails.
public struct NotificationStatus: Codable, Sendable, Equatable {
    public enum Delivery: String, Codable, Sendable {
        /// Claimed; the publish is under way (or its notifier died while publishing).
        case sending
        /// Published; `messageId` says where.
        case sent
        /// The publish may or may not have happened (timeout, crash mid-publish) and the sink cannot be
        /// asked again without risking a second e-mail. Ops see it in `refvision status`.
        case unknown
        /// The last publish failed and certainly sent nothing (state is `judged`/`failed` again); the
        /// result message comes back for another try, and ends in the results DLQ if they all fail.
        case failed
    }

    public var delivery: Delivery
    /// Which notifier attempt holds the claim.
    public var claim: String
    public var claimedAt: Date
    public var sentAt: Date?
    /// The SNS message id, or the outbox file names.
    public var messageId: String?
    /// Who it went to: `coaches` or `staff` (no coach's filter matched).
    public var audience: String?
    /// Publishes that failed with a definite error (nothing was sent) before this claim.
    public var failedAttempts: Int
    public var lastError: String?

    public init(delivery: Delivery, claim: String, claimedAt: Date, failedAttempts: Int = 0) {
        self.delivery = delivery
        self.claim = claim
        self.claimedAt = claimedAt
        self.failedAttempts = failedAttempts
    }
}

/// One e-mail about one decision, ready for any sink.
public struct OutgoingNotification: Sendable, Equatable {
    public var jobId: String
    /// The subject as people read it (may hold non-ASCII, e.g. an em dash).
    public var subject: String
    /// The plain-text body (LF line ends).
    public var body: String
    /// SNS message attributes, used by the subscriptions' filter policies: `meet`, `team`, `athlete`,
    /// `decision`, `lift`, `audience`. Values are never empty.
    public var attributes: [String: String]
    /// The signed replay link in the body, if any.
    public var link: String?

    public init(jobId: String, subject: String, body: String, attributes: [String: String], link: String?) {
        self.jobId = jobId
        self.subject = subject
        self.body = body
        self.attributes = attributes
        self.link = link
    }

    /// The subject as SNS takes it: no control characters or line breaks, at most 99 characters
    /// (SNS: "UTF-8 text … less than 100 characters long"); cut at a word with an ellipsis if longer.
    public var snsSubject: String {
        let clean = String(String.UnicodeScalarView(subject.unicodeScalars.map {
            $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0 == "\u{2028}" || $0 == "\u{2029}" ? " " : $0
        })).trimmingCharacters(in: .whitespaces)
        guard !clean.isEmpty else { return "refvision decision" }
        guard clean.count > 99 else { return clean }
        var cut = String(clean.prefix(98))
        if let space = cut.lastIndex(of: " "), cut.distance(from: cut.startIndex, to: space) > 60 { cut = String(cut[..<space]) }
        return cut + "…"
    }
}

/// A link to a decision's replay, and when it stops working.
public struct ReplayLink: Sendable, Equatable {
    public var url: String
    public var expires: Date

    public init(url: String, expires: Date) {
        self.url = url
        self.expires = expires
    }
}

/// Makes the link a notification carries: a signed link to the replay service (Notifier's
/// `SignedReplayLinks`) or a plain S3 presigned URL (FleetAWS's `PresignedReplayLinks`).
public protocol ReplayLinkProvider: Sendable {
    /// The link for a decision, or nil when it has nothing to show.
    func link(for record: DecisionRecord, now: Date) async throws -> ReplayLink?
}

/// What a sink reports after delivering.
public struct DeliveryReceipt: Sendable, Equatable {
    /// SNS message id, or the outbox file names joined by commas.
    public var messageId: String
    /// `coaches` or `staff`.
    public var audience: String
    /// The addresses written to (embedded); empty on SNS, where the topic's subscriptions decide.
    public var recipients: [String]

    public init(messageId: String, audience: String, recipients: [String] = []) {
        self.messageId = messageId
        self.audience = audience
        self.recipients = recipients
    }
}

/// Why a delivery failed, in the two kinds the notifier must tell apart.
public enum DeliveryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The sink answered that nothing was sent (an error response, a refused connection, a bad address):
    /// the notifier may try again without risking a second e-mail.
    case notSent(String)
    /// The outcome is unknown (a timeout or a dropped connection after the request went out).
    case outcomeUnknown(String)

    public var description: String {
        switch self {
        case .notSent(let why): "not sent: \(why)"
        case .outcomeUnknown(let why): "outcome unknown: \(why)"
        }
    }
}

/// Where notifications go: an SNS topic (the subscriptions' filter policies pick the coaches) or the
/// embedded outbox (one RFC 5322 file per recipient).
public protocol NotificationSink: Sendable {
    /// Delivering the same notification twice has the effect of delivering it once (the outbox rewrites
    /// the same files). The notifier then retries even a delivery whose outcome is unknown.
    var isIdempotent: Bool { get }
    /// Delivers to the coaches whose subscription matches `notification.attributes`, or to the meet
    /// staff when none does. Throws `DeliveryError`.
    func deliver(_ notification: OutgoingNotification) async throws -> DeliveryReceipt
}

// MARK: - Coaches

/// A coach's (or the meet staff's) subscription to decisions.
public struct CoachSubscription: Codable, Sendable, Equatable, Hashable {
    public var email: String
    /// The team whose lifters the coach hears about; nil for staff.
    public var team: String?
    /// Only this athlete of the team (nil: every athlete of the team).
    public var athlete: String?
    /// Staff get every decision no coach's subscription matches.
    public var staff: Bool
    /// The SNS subscription ARN (`PendingConfirmation` until the address confirms), or the embedded row id.
    public var id: String?
    /// SNS: the address has not confirmed the subscription yet.
    public var pending: Bool

    public init(email: String, team: String?, athlete: String? = nil, staff: Bool = false, id: String? = nil, pending: Bool = false) {
        self.email = email
        self.team = team
        self.athlete = athlete
        self.staff = staff
        self.id = id
        self.pending = pending
    }

    /// A coach subscription for `team` (and optionally one athlete), validated.
    public static func coach(email: String, team: String, athlete: String?) throws -> CoachSubscription {
        let email = try EmailAddress.validate(email)
        let team = try SubscriptionValue.validate(team, what: "team")
        let athlete = try athlete.map { try SubscriptionValue.validate($0, what: "athlete") }
        return CoachSubscription(email: email, team: team, athlete: athlete)
    }

    /// A staff subscription, validated.
    public static func staffMember(email: String) throws -> CoachSubscription {
        CoachSubscription(email: try EmailAddress.validate(email), team: nil, staff: true)
    }

    /// The filter policy of this one entry: `{"audience":["staff"]}` or `{"team":[T]}` (+ `"athlete":[A]`).
    public var filterPolicyObject: [String: [String]] {
        if staff { return ["audience": ["staff"]] }
        var policy = ["team": [team ?? ""]]
        if let athlete { policy["athlete"] = [athlete] }
        return policy
    }

    /// Whether a coach subscription wants a notification with these attributes (staff: see `audience`).
    public func matches(_ attributes: [String: String]) -> Bool {
        if staff { return attributes["audience"] == "staff" }
        guard let team, attributes["team"] == team else { return false }
        if let athlete { return attributes["athlete"] == athlete }
        return true
    }

    /// The audience of a notification: `coaches` when a coach's subscription matches, else `staff`.
    public static func audience(for attributes: [String: String], among subscriptions: [CoachSubscription]) -> String {
        subscriptions.contains { !$0.staff && $0.matches(attributes) } ? "coaches" : "staff"
    }
}

/// Who gets notified: SNS subscriptions on the coaches topic, or the embedded `coaches` table.
public protocol CoachDirectory: Sendable {
    /// Adds (or, for the same address, team and athlete, keeps) a subscription; returns it as stored.
    func add(_ subscription: CoachSubscription) async throws -> CoachSubscription
    /// Every subscription, sorted by e-mail then team.
    func list() async throws -> [CoachSubscription]
    /// Removes the subscriptions of `email` (only those for `team`, when given); returns how many.
    func remove(email: String, team: String?) async throws -> Int
}

/// E-mail addresses as refvision accepts them: `local@domain`, printable ASCII, no spaces, quotes,
/// angle brackets, commas or line breaks (nothing that could inject a header), at most 254 characters.
public enum EmailAddress {
    public static func validate(_ text: String) throws -> String {
        let address = text.trimmingCharacters(in: .whitespaces)
        guard !address.isEmpty else { throw FleetError.invalidMessage("e-mail address is empty") }
        guard address.utf8.count <= 254 else { throw FleetError.invalidMessage("e-mail address is longer than 254 characters") }
        let forbidden = Set("<>()[]\\,;:\"' ")
        guard address.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7F }),
              !address.contains(where: { forbidden.contains($0) }) else {
            throw FleetError.invalidMessage("e-mail address '\(printable(address))' has characters outside printable ASCII or one of <>()[]\\,;:\"' and spaces")
        }
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].count <= 64, !parts[1].isEmpty,
              !parts[1].hasPrefix("."), !parts[1].hasSuffix("."), !parts[1].contains("..") else {
            throw FleetError.invalidMessage("'\(printable(address))' is not an e-mail address (local@domain)")
        }
        return address
    }

    static func printable(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.prefix(80).map { $0.value < 0x20 || $0.value == 0x7F ? "?" : $0 }))
    }
}

/// Team and athlete names in subscriptions: trimmed, 1–128 characters, no control characters.
public enum SubscriptionValue {
    public static func validate(_ text: String, what: String) throws -> String {
        let value = text.trimmingCharacters(in: .whitespaces)
        guard !value.isEmpty else { throw FleetError.invalidMessage("\(what) is empty") }
        guard value.count <= 128 else { throw FleetError.invalidMessage("\(what) is longer than 128 characters") }
        guard !value.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) }) else {
            throw FleetError.invalidMessage("\(what) contains control characters")
        }
        return value
    }
}

/// SNS filter policies for coach subscriptions. SNS allows one subscription per address and topic, so
/// all of an address's entries share one policy: a single entry's policy as is, several team-wide
/// entries as `{"team":[T1,T2]}`, anything else as `{"$or":[entry, entry, …]}`. `entries` reads back
/// what `policy` wrote; other policies are not refvision's (nil).
public enum CoachFilterPolicy {
    public static func policy(for entries: [CoachSubscription]) -> String {
        let unique = Array(Set(entries)).sorted { ($0.staff ? 1 : 0, $0.team ?? "", $0.athlete ?? "") < ($1.staff ? 1 : 0, $1.team ?? "", $1.athlete ?? "") }
        let object: Any
        if unique.count == 1 {
            object = unique[0].filterPolicyObject
        } else if !unique.isEmpty, unique.allSatisfy({ !$0.staff && $0.athlete == nil }) {
            object = ["team": unique.compactMap(\.team)]
        } else {
            object = ["$or": unique.map(\.filterPolicyObject)]
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    public static func entries(email: String, policy: String?, id: String?, pending: Bool) -> [CoachSubscription]? {
        guard let policy, let object = try? JSONSerialization.jsonObject(with: Data(policy.utf8)) as? [String: Any] else { return nil }
        if object.keys.count == 1, let alternatives = object["$or"] as? [[String: Any]], !alternatives.isEmpty {
            var all: [CoachSubscription] = []
            for alternative in alternatives {
                guard let found = entries(email: email, object: alternative, id: id, pending: pending) else { return nil }
                all += found
            }
            return all
        }
        return entries(email: email, object: object, id: id, pending: pending)
    }

    static func entries(email: String, object: [String: Any], id: String?, pending: Bool) -> [CoachSubscription]? {
        func strings(_ name: String) -> [String]? {
            guard let list = object[name] as? [String], !list.isEmpty else { return nil }
            return list
        }
        if Set(object.keys) == ["audience"], strings("audience") == ["staff"] {
            return [CoachSubscription(email: email, team: nil, staff: true, id: id, pending: pending)]
        }
        guard let teams = strings("team") else { return nil }
        if Set(object.keys) == ["team"] {
            return teams.map { CoachSubscription(email: email, team: $0, id: id, pending: pending) }
        }
        guard Set(object.keys) == ["team", "athlete"], teams.count == 1, let athletes = strings("athlete"), athletes.count == 1 else { return nil }
        return [CoachSubscription(email: email, team: teams[0], athlete: athletes[0], id: id, pending: pending)]
    }

    /// SNS lists an e-mail subscription the address has not confirmed as `PendingConfirmation`.
    public static func isPending(_ arn: String) -> Bool {
        arn.lowercased() == "pendingconfirmation" || arn.lowercased() == "pending confirmation"
    }
}
