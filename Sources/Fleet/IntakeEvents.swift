import AWSSigner
import Foundation

/// An object named by an intake event.
public struct ObjectEvent: Sendable, Equatable {
    public var bucket: String
    /// The key, URL-decoded the S3 way (`+` is a space).
    public var key: String
    /// The key exactly as the event carried it (the dispatcher falls back to it when the decoded key does
    /// not exist, for senders that don't encode).
    public var rawKey: String
    public var size: Int64?
    public var eTag: String?
    public var versionId: String?

    public init(bucket: String, key: String, rawKey: String? = nil, size: Int64? = nil, eTag: String? = nil,
                versionId: String? = nil) {
        self.bucket = bucket
        self.key = key
        self.rawKey = rawKey ?? key
        self.size = size
        self.eTag = eTag
        self.versionId = versionId
    }
}

/// A `refvision submit` request: judge this object (again), with optional details.
public struct SubmitRequest: Codable, Sendable, Equatable {
    public var bucket: String
    public var key: String
    public var lift: String?
    public var meet: String?
    public var athlete: String?
    public var attempt: Int?
    public var team: String?

    public init(bucket: String, key: String, lift: String? = nil, meet: String? = nil, athlete: String? = nil, attempt: Int? = nil,
                team: String? = nil) {
        self.bucket = bucket
        self.key = key
        self.lift = lift
        self.meet = meet
        self.athlete = athlete
        self.attempt = attempt
        self.team = team
    }

    /// The intake message body for this request (an EventBridge-style envelope, source `refvision`).
    public func eventBody(now: Date = Date()) throws -> String {
        struct Envelope: Encodable {
            var version = "0"
            var source = "refvision"
            var detailType = "Submit"
            var time: String
            var detail: SubmitRequest
            enum CodingKeys: String, CodingKey { case version, source, detailType = "detail-type", time, detail }
        }
        return try FleetJSON.string(Envelope(time: AWSDate.formatISO8601(now), detail: self))
    }
}

/// What an intake message asks the dispatcher to do.
public enum IntakeEvent: Sendable, Equatable {
    /// New object(s) in a bucket: S3 notifications (direct or SNS-wrapped) and EventBridge `Object Created`.
    case objectCreated(ObjectEvent, source: String)
    /// S3's `s3:TestEvent` when a notification configuration is saved: skip.
    case test
    /// An EventBridge scheduled event: list the raw bucket and queue objects with no decision.
    case sweep
    case submit(SubmitRequest)
    /// A well-formed event the dispatcher has nothing to do for (e.g. `ObjectRemoved`), with why.
    case ignored(String)
}

extension IntakeEvent {
    /// Parses an intake queue message body into its events (an S3 notification may carry several
    /// records). Throws `FleetError.invalidMessage` with the reason for anything it can't read.
    public static func parse(_ body: String) throws -> [IntakeEvent] {
        guard !body.isEmpty else { throw FleetError.invalidMessage("empty body") }
        guard body.utf8.count <= maximumMessageBytes else {
            throw FleetError.invalidMessage("body of \(body.utf8.count) bytes exceeds \(maximumMessageBytes)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8), options: [.fragmentsAllowed]) else {
            throw FleetError.invalidMessage("not JSON")
        }
        guard let document = object as? [String: Any] else { throw FleetError.invalidMessage("not a JSON object") }

        // EventBridge envelope: source + detail-type + detail.
        if let source = document["source"] as? String, let detailType = document["detail-type"] as? String {
            return [try parseEventBridge(source: source, detailType: detailType, detail: document["detail"])]
        }
        // SNS-wrapped S3 notification, or a direct S3 notification (including s3:TestEvent).
        if document["Records"] != nil || document["Event"] != nil
            || (document["Type"] as? String == "Notification" && document["Message"] is String) {
            do {
                switch try S3EventNotification.parse(body) {
                case .testEvent:
                    return [.test]
                case .records(let records):
                    guard !records.isEmpty else { throw FleetError.invalidMessage("S3 notification with no records") }
                    return records.map { record in
                        guard record.isObjectCreated else { return .ignored("S3 event \(record.eventName)") }
                        return .objectCreated(
                            ObjectEvent(bucket: record.bucket, key: record.key, rawKey: record.rawKey, size: record.size,
                                        eTag: record.eTag.map(unquoteETag), versionId: record.versionId),
                            source: "s3")
                    }
                }
            } catch let error as S3EventParseError {
                throw FleetError.invalidMessage(error.reason)
            }
        }
        throw FleetError.invalidMessage("unknown event shape (keys: \(document.keys.sorted().prefix(8).joined(separator: ", ")))")
    }

    static func parseEventBridge(source: String, detailType: String, detail: Any?) throws -> IntakeEvent {
        switch (source, detailType) {
        case ("aws.events", "Scheduled Event"):
            return .sweep
        case ("aws.s3", "Object Created"):
            guard let detail = detail as? [String: Any], let bucket = (detail["bucket"] as? [String: Any])?["name"] as? String,
                let object = detail["object"] as? [String: Any], let rawKey = object["key"] as? String
            else { throw FleetError.invalidMessage("EventBridge Object Created without detail.bucket.name or detail.object.key") }
            guard !bucket.isEmpty, !rawKey.isEmpty else { throw FleetError.invalidMessage("empty bucket or key") }
            guard let key = AWSURIEncoding.decode(rawKey, plusIsSpace: true) else {
                throw FleetError.invalidMessage("key '\(rawKey.prefix(200))' is not valid URL encoding")
            }
            var size: Int64?
            if let number = object["size"] as? NSNumber { size = number.int64Value }
            return .objectCreated(
                ObjectEvent(bucket: bucket, key: key, rawKey: rawKey, size: size,
                            eTag: (object["etag"] as? String).map(unquoteETag), versionId: object["version-id"] as? String),
                source: "eventbridge")
        case ("aws.s3", _):
            return .ignored("EventBridge S3 \(detailType)")
        case ("refvision", "Submit"):
            guard let detail, JSONSerialization.isValidJSONObject(detail),
                let data = try? JSONSerialization.data(withJSONObject: detail),
                let request = try? JSONDecoder().decode(SubmitRequest.self, from: data)
            else { throw FleetError.invalidMessage("refvision Submit without a valid detail {bucket, key, …}") }
            guard !request.bucket.isEmpty, !request.key.isEmpty else { throw FleetError.invalidMessage("empty bucket or key") }
            return .submit(request)
        default:
            throw FleetError.invalidMessage("unknown EventBridge event \(source) / \(detailType)")
        }
    }
}

/// S3 ETags come quoted (`"abc"`); the fleet compares them without quotes.
public func unquoteETag(_ tag: String) -> String {
    tag.count >= 2 && tag.hasPrefix("\"") && tag.hasSuffix("\"") ? String(tag.dropFirst().dropLast()) : tag
}
