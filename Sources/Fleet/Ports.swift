import Foundation

// The three ports the fleet talks through. Each has two real implementations: AWS (SQS, S3, DynamoDB,
// in the FleetAWS target) and embedded (SQLite and directories, in the Embedded target). The services
// (Dispatcher, Worker) only see these protocols; one conformance suite runs against both.

// MARK: - Job queue (SQS semantics)

/// A message received from a queue. `receiptHandle` identifies this receive (not the message): delete
/// and visibility changes need it, and a later receive of the same message gets a new one.
public struct QueueMessage: Sendable, Equatable {
    public var messageId: String
    public var receiptHandle: String
    public var body: String
    /// Message attributes (String values only; that is all the fleet sends).
    public var attributes: [String: String]
    /// How many times the message has been received, this receive included (SQS ApproximateReceiveCount).
    public var receiveCount: Int
    /// When the message was first sent (SQS SentTimestamp).
    public var sentAt: Date

    public init(messageId: String, receiptHandle: String, body: String, attributes: [String: String] = [:],
                receiveCount: Int, sentAt: Date) {
        self.messageId = messageId
        self.receiptHandle = receiptHandle
        self.body = body
        self.attributes = attributes
        self.receiveCount = receiveCount
        self.sentAt = sentAt
    }
}

/// A message to send. `id` is the batch entry id (unique within one batch).
public struct OutgoingMessage: Sendable, Equatable {
    public var id: String
    public var body: String
    public var attributes: [String: String]
    public var delaySeconds: Int

    public init(id: String, body: String, attributes: [String: String] = [:], delaySeconds: Int = 0) {
        self.id = id
        self.body = body
        self.attributes = attributes
        self.delaySeconds = delaySeconds
    }
}

/// One entry of a batch call that failed while the others succeeded.
public struct BatchEntryFailure: Sendable, Equatable, CustomStringConvertible {
    public var id: String
    public var code: String
    public var message: String
    /// The fault is the sender's (bad entry): retrying the same entry will fail again.
    public var senderFault: Bool

    public init(id: String, code: String, message: String, senderFault: Bool) {
        self.id = id
        self.code = code
        self.message = message
        self.senderFault = senderFault
    }

    public var description: String { "\(id): \(code) \(message)" }
}

/// Approximate counts, as SQS reports them.
public struct QueueDepth: Sendable, Equatable, Codable {
    /// Ready to be received.
    public var visible: Int
    /// Received and not yet deleted (a worker has them, or had them and died).
    public var inFlight: Int
    /// Sent with a delay that has not passed yet.
    public var delayed: Int

    public init(visible: Int, inFlight: Int, delayed: Int = 0) {
        self.visible = visible
        self.inFlight = inFlight
        self.delayed = delayed
    }

    public var total: Int { visible + inFlight + delayed }
}

/// A queue with SQS semantics: at-least-once delivery, visibility timeout, receive count, long poll,
/// redrive to a dead-letter queue after `maxReceiveCount` receives.
public protocol JobQueue: Sendable {
    /// The queue's name, for logs and `status`.
    var name: String { get }
    /// Sends up to 10 messages; returns the entries that failed (empty when all were sent).
    func send(_ messages: [OutgoingMessage]) async throws -> [BatchEntryFailure]
    /// Receives up to `maxMessages` (1...10) messages, waiting up to `waitSeconds` (0...20) for the first.
    /// `visibilityTimeout` overrides the queue's default for these messages.
    func receive(maxMessages: Int, waitSeconds: Int, visibilityTimeout: Int?) async throws -> [QueueMessage]
    /// Deletes a received message. Deleting one that is already gone is not an error.
    func delete(receiptHandle: String) async throws
    /// Deletes up to 10 received messages; returns the entries that failed.
    func deleteBatch(_ receiptHandles: [(id: String, receiptHandle: String)]) async throws -> [BatchEntryFailure]
    /// Sets the message's remaining invisibility to `seconds` from now (0 makes it visible at once).
    func changeVisibility(receiptHandle: String, seconds: Int) async throws
    /// Approximate counts.
    func depth() async throws -> QueueDepth
}

extension JobQueue {
    /// Sends one message; throws when it was not accepted.
    public func send(body: String, attributes: [String: String] = [:], delaySeconds: Int = 0) async throws {
        let failures = try await send([OutgoingMessage(id: "0", body: body, attributes: attributes, delaySeconds: delaySeconds)])
        if let failure = failures.first { throw FleetError.queueRejected(queue: name, failure.description) }
    }
}

// MARK: - Object store (S3 semantics)

/// What the store knows about an object.
public struct StoredObject: Sendable, Equatable, Codable {
    public var bucket: String
    public var key: String
    public var size: Int64
    /// S3's ETag (quotes removed) or, embedded, a content hash. Changes when the content does.
    public var eTag: String?
    /// S3's version id when the bucket is versioned.
    public var versionId: String?
    public var contentType: String?
    /// User metadata (`x-amz-meta-*` without the prefix, lower-cased names).
    public var metadata: [String: String]
    public var lastModified: Date?

    public init(bucket: String, key: String, size: Int64, eTag: String? = nil, versionId: String? = nil,
                contentType: String? = nil, metadata: [String: String] = [:], lastModified: Date? = nil) {
        self.bucket = bucket
        self.key = key
        self.size = size
        self.eTag = eTag
        self.versionId = versionId
        self.contentType = contentType
        self.metadata = metadata
        self.lastModified = lastModified
    }
}

/// Buckets of objects (S3, or directories on one machine).
public protocol ObjectStore: Sendable {
    /// Metadata of an object; throws `FleetError.objectNotFound` when there is none.
    func head(bucket: String, key: String) async throws -> StoredObject
    /// Streams the object into the file at `path` (created or replaced); returns its metadata.
    func download(bucket: String, key: String, to path: String) async throws -> StoredObject
    /// Stores the file at `path` under `key` (replacing what was there). Readers never see a partial object.
    func upload(file path: String, bucket: String, key: String, contentType: String, metadata: [String: String]) async throws
    /// Every object whose key starts with `prefix`, in key order.
    func list(bucket: String, prefix: String) async throws -> [StoredObject]
    /// A human-readable location (`s3://bucket/key` or a file path) for logs and `status`.
    func location(bucket: String, key: String) -> String
}

// MARK: - Decision store (DynamoDB semantics: conditional writes)

/// Where every job's state and decision live. All state changes are conditional, so two workers (or a
/// worker and a redelivered copy of its job) can never both record a decision.
public protocol DecisionStore: Sendable {
    /// Creates the record if there is none for its job id; returns false (and changes nothing) if one exists.
    func create(_ record: DecisionRecord) async throws -> Bool
    /// The record of a job, or nil.
    func get(jobId: String) async throws -> DecisionRecord?
    /// Replaces the record if the stored one still has `expectedRevision`; the new record gets revision
    /// `expectedRevision + 1`. Throws `FleetError.conditionFailed` otherwise.
    func update(_ record: DecisionRecord, expectedRevision: Int) async throws
    /// Records, newest first, at most `limit`; `meet` restricts to one meet.
    func list(meet: String?, limit: Int) async throws -> [DecisionRecord]
}

extension DecisionStore {
    /// Reads the record, applies `change` and writes it back conditionally; retries when another writer
    /// got there first, until `change` returns nil (nothing to do) or the write succeeds.
    @discardableResult
    public func modify(jobId: String, attempts: Int = 5,
                       _ change: (DecisionRecord) throws -> DecisionRecord?) async throws -> DecisionRecord? {
        for _ in 0..<attempts {
            guard let current = try await get(jobId: jobId) else { throw FleetError.decisionNotFound(jobId) }
            guard var next = try change(current) else { return nil }
            next.revision = current.revision
            do {
                try await update(next, expectedRevision: current.revision)
                next.revision = current.revision + 1
                return next
            } catch FleetError.conditionFailed {
                continue
            }
        }
        throw FleetError.conditionFailed("job \(jobId): too many concurrent writers")
    }
}

// MARK: - Scaling metrics

/// Reads the worker fleet's size (ECS DescribeServices; embedded: the number of in-process workers).
public protocol FleetSizeSource: Sendable {
    func workerCounts() async throws -> (running: Int, desired: Int)
}

/// Publishes the scaling metrics the worker service tracks (CloudWatch PutMetricData; embedded: a log line).
public protocol ScalingMetricsSink: Sendable {
    func publish(backlogPerTask: Int, desiredTasks: Int, visible: Int) async throws
}

// MARK: - Errors

/// The fleet's own errors (the AWS and SQLite layers' errors pass through unchanged).
public enum FleetError: Error, Sendable, Equatable, CustomStringConvertible {
    case objectNotFound(bucket: String, key: String)
    case invalidKey(String)
    case conditionFailed(String)
    case decisionNotFound(String)
    case queueRejected(queue: String, String)
    case invalidMessage(String)
    case configuration(String)

    public var description: String {
        switch self {
        case .objectNotFound(let bucket, let key): "no object \(key) in bucket \(bucket)"
        case .invalidKey(let reason): "invalid object key: \(reason)"
        case .conditionFailed(let what): "conditional write failed: \(what)"
        case .decisionNotFound(let id): "no decision record for job \(id)"
        case .queueRejected(let queue, let why): "queue \(queue) rejected the message: \(why)"
        case .invalidMessage(let why): "invalid message: \(why)"
        case .configuration(let why): "configuration: \(why)"
        }
    }
}
