import AWSSigner
import Foundation

// The messages between the services, as JSON with a schema name and version (docs/messages.md).
// Readers reject a schema they don't know, or a newer major version, with a reason; unknown fields are
// ignored (a newer minor version may add some).

/// Decodes and encodes fleet messages with the wire conventions (ISO-8601 dates, sorted keys).
public enum FleetJSON {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(AWSDate.formatISO8601(date))
        }
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = AWSDate.parseISO8601(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not an ISO-8601 date")
            }
            return date
        }
        return decoder
    }

    public static func string<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encoder().encode(value), as: UTF8.self)
    }
}

/// A judging job: one object version to judge. Sent by the dispatcher to the jobs queue.
public struct JobMessage: Codable, Sendable, Equatable {
    public static let schemaName = "refvision.job"
    public static let schemaVersion = 1

    public var schema: String = JobMessage.schemaName
    public var version_: Int = JobMessage.schemaVersion
    public var jobId: String
    public var bucket: String
    public var key: String
    /// S3 version id, else the ETag: the job is for exactly this content.
    public var version: String
    public var size: Int64?
    public var lift: String?
    public var meet: String?
    public var athlete: String?
    public var attempt: Int?
    /// The athlete's team (upload metadata `team`), for the coaches' subscriptions.
    public var team: String?
    /// What created the job: `s3`, `eventbridge`, `sweep`, `submit`.
    public var source: String
    public var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case schema, version_ = "schemaVersion", jobId, bucket, key, version, size, lift, meet, athlete, attempt, team, source, createdAt
    }

    public init(bucket: String, key: String, version: String, size: Int64?, lift: String?, meet: String?,
                athlete: String?, attempt: Int?, source: String, createdAt: Date) {
        jobId = jobIdentifier(bucket: bucket, key: key, version: version)
        self.bucket = bucket
        self.key = key
        self.version = version
        self.size = size
        self.lift = lift
        self.meet = meet
        self.athlete = athlete
        self.attempt = attempt
        self.source = source
        self.createdAt = createdAt
    }

    /// Parses a job message body; throws `FleetError.invalidMessage` with the reason.
    public static func parse(_ body: String) throws -> JobMessage {
        let job: JobMessage = try decodeMessage(body, schema: schemaName, maxVersion: schemaVersion)
        guard job.jobId == jobIdentifier(bucket: job.bucket, key: job.key, version: job.version) else {
            throw FleetError.invalidMessage("jobId does not match bucket, key and version")
        }
        return job
    }
}

/// What a worker reports for a finished job. Sent to the results queue (the notifier consumes it).
public struct ResultMessage: Codable, Sendable, Equatable {
    public static let schemaName = "refvision.result"
    public static let schemaVersion = 1

    public var schema: String = ResultMessage.schemaName
    public var version_: Int = ResultMessage.schemaVersion
    public var jobId: String
    public var bucket: String
    public var key: String
    /// `judged` or `failed`.
    public var state: JobState
    /// `good_lift`, `no_lift`, `needs_review` (judged only).
    public var decision: String?
    public var reason: String?
    /// The permanent failure's kind (failed only).
    public var failure: String?
    public var lift: String?
    public var meet: String?
    public var athlete: String?
    public var attempt: Int?
    public var team: String?
    public var replayBucket: String?
    public var replayKey: String?
    public var decidedAt: Date

    enum CodingKeys: String, CodingKey {
        case schema, version_ = "schemaVersion", jobId, bucket, key, state, decision, reason, failure, lift, meet,
             athlete, attempt, team, replayBucket, replayKey, decidedAt
    }

    public init(record: DecisionRecord, decidedAt: Date) {
        jobId = record.jobId
        bucket = record.bucket
        key = record.key
        state = record.state
        decision = record.decision
        reason = record.reason
        failure = record.failure
        lift = record.lift
        meet = record.meet
        athlete = record.athlete
        attempt = record.attempt
        team = record.team
        replayBucket = record.replayBucket
        replayKey = record.replayKey
        self.decidedAt = decidedAt
    }

    public static func parse(_ body: String) throws -> ResultMessage {
        try decodeMessage(body, schema: schemaName, maxVersion: schemaVersion)
    }
}

/// Largest message body any reader accepts (SQS's limit is 256 KiB).
public let maximumMessageBytes = 256 * 1024

private struct SchemaHeader: Decodable {
    var schema: String?
    var schemaVersion: Int?
}

func decodeMessage<T: Decodable>(_ body: String, schema: String, maxVersion: Int) throws -> T {
    guard !body.isEmpty else { throw FleetError.invalidMessage("empty body") }
    guard body.utf8.count <= maximumMessageBytes else {
        throw FleetError.invalidMessage("body of \(body.utf8.count) bytes exceeds \(maximumMessageBytes)")
    }
    let data = Data(body.utf8)
    let header: SchemaHeader
    do {
        header = try JSONDecoder().decode(SchemaHeader.self, from: data)
    } catch {
        throw FleetError.invalidMessage("not a JSON object")
    }
    guard header.schema == schema else {
        throw FleetError.invalidMessage("schema is \(header.schema.map { "'\($0)'" } ?? "missing"), expected '\(schema)'")
    }
    guard let version = header.schemaVersion, version >= 1, version <= maxVersion else {
        throw FleetError.invalidMessage("\(schema) schemaVersion \(header.schemaVersion.map(String.init) ?? "missing") is not supported (1...\(maxVersion))")
    }
    do {
        return try FleetJSON.decoder().decode(T.self, from: data)
    } catch let DecodingError.keyNotFound(key, _) {
        throw FleetError.invalidMessage("\(schema): missing field '\(key.stringValue)'")
    } catch let DecodingError.typeMismatch(_, context) {
        throw FleetError.invalidMessage("\(schema): wrong type at '\(context.codingPath.map(\.stringValue).joined(separator: "."))'")
    } catch let DecodingError.valueNotFound(_, context) {
        throw FleetError.invalidMessage("\(schema): null at '\(context.codingPath.map(\.stringValue).joined(separator: "."))'")
    } catch {
        throw FleetError.invalidMessage("\(schema): \(error)")
    }
}
