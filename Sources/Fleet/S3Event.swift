import AWSSigner
import Foundation

/// One record of an S3 event notification.
public struct S3EventRecord: Sendable, Equatable {
    /// e.g. `ObjectCreated:Put`, `ObjectCreated:CompleteMultipartUpload`, `ObjectRemoved:Delete`.
    public var eventName: String
    public var eventTime: Date?
    public var awsRegion: String?
    public var bucket: String
    /// The decoded object key (S3 sends it URL-encoded with `+` for spaces).
    public var key: String
    /// The key as the event carried it.
    public var rawKey: String
    public var size: Int64?
    public var eTag: String?
    public var sequencer: String?
    public var versionId: String?

    public var isObjectCreated: Bool { eventName.hasPrefix("ObjectCreated:") }
}

/// The body of an S3 notification delivered to SQS (directly, or wrapped in an SNS envelope).
public enum S3EventNotification: Sendable, Equatable {
    case records([S3EventRecord])
    /// The `s3:TestEvent` S3 sends when a notification configuration is saved.
    case testEvent(bucket: String?)
}

public struct S3EventParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public let reason: String
    public var description: String { "S3 event: \(reason)" }
}

extension S3EventNotification {
    /// Largest message body accepted (SQS's own limit is 256 KiB; S3 events are far smaller).
    public static let maximumSize = 1 << 20

    /// Parses an SQS message body. Liberal where real S3 and moto differ: `eventTime` with or without a
    /// zone (moto omits it; read as UTC), keys with `+` or `%20` for spaces and `%2F` or `/` for slashes.
    public static func parse(_ body: String) throws -> S3EventNotification {
        guard !body.isEmpty else { throw S3EventParseError(reason: "empty body") }
        guard body.utf8.count <= maximumSize else { throw S3EventParseError(reason: "body larger than \(maximumSize) bytes") }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(body.utf8))
        } catch {
            throw S3EventParseError(reason: "not JSON")
        }
        guard let document = object as? [String: Any] else { throw S3EventParseError(reason: "not a JSON object") }

        // S3 → SNS → SQS: the S3 document is the SNS envelope's Message string.
        if document["Type"] as? String == "Notification", let message = document["Message"] as? String {
            return try parse(message)
        }
        if let event = document["Event"] as? String, event == "s3:TestEvent" {
            return .testEvent(bucket: document["Bucket"] as? String)
        }
        guard let records = document["Records"] as? [Any] else {
            throw S3EventParseError(reason: "no Records array")
        }
        var parsed: [S3EventRecord] = []
        for (index, item) in records.enumerated() {
            guard let record = item as? [String: Any] else { throw S3EventParseError(reason: "record \(index) is not an object") }
            guard let eventName = record["eventName"] as? String, !eventName.isEmpty else {
                throw S3EventParseError(reason: "record \(index) has no eventName")
            }
            guard let s3 = record["s3"] as? [String: Any], let bucket = s3["bucket"] as? [String: Any],
                let bucketName = bucket["name"] as? String, let objectInfo = s3["object"] as? [String: Any],
                let rawKey = objectInfo["key"] as? String
            else { throw S3EventParseError(reason: "record \(index) lacks s3.bucket.name or s3.object.key") }
            guard let key = AWSURIEncoding.decode(rawKey, plusIsSpace: true) else {
                throw S3EventParseError(reason: "record \(index) key '\(rawKey)' is not valid URL encoding")
            }
            var eventTime: Date?
            if let text = record["eventTime"] as? String {
                guard let date = AWSDate.parseISO8601(text) else {
                    throw S3EventParseError(reason: "record \(index) eventTime '\(text)' is not a date")
                }
                eventTime = date
            }
            var size: Int64?
            if let number = objectInfo["size"] as? NSNumber {
                size = number.int64Value
            } else if let text = objectInfo["size"] as? String {
                size = Int64(text)
            }
            parsed.append(
                S3EventRecord(
                    eventName: eventName, eventTime: eventTime, awsRegion: record["awsRegion"] as? String,
                    bucket: bucketName, key: key, rawKey: rawKey, size: size,
                    eTag: (objectInfo["eTag"] as? String) ?? (objectInfo["etag"] as? String),
                    sequencer: objectInfo["sequencer"] as? String, versionId: objectInfo["versionId"] as? String))
        }
        return .records(parsed)
    }
}

