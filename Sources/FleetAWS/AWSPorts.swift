import AWS
import Fleet
import Foundation

// The fleet's ports on AWS: SQS queues, S3 buckets, a DynamoDB table.

/// A `JobQueue` on an SQS queue.
public struct SQSJobQueue: JobQueue {
    public let sqs: SQSClient
    public let queueURL: String
    public var name: String { queueURL.split(separator: "/").last.map(String.init) ?? queueURL }

    public init(sqs: SQSClient, queueURL: String) {
        self.sqs = sqs
        self.queueURL = queueURL
    }

    public func send(_ messages: [OutgoingMessage]) async throws -> [BatchEntryFailure] {
        let entries = messages.map {
            SQSSendEntry(id: $0.id, body: $0.body, delaySeconds: $0.delaySeconds == 0 ? nil : $0.delaySeconds,
                         attributes: $0.attributes.mapValues { .string($0) })
        }
        let result = try await sqs.sendMessageBatch(queueURL: queueURL, entries: entries)
        return result.failed.map(Self.failure)
    }

    public func receive(maxMessages: Int, waitSeconds: Int, visibilityTimeout: Int?) async throws -> [QueueMessage] {
        try await sqs.receiveMessages(
            queueURL: queueURL, maxMessages: maxMessages, waitTimeSeconds: waitSeconds, visibilityTimeout: visibilityTimeout
        ).map { message in
            QueueMessage(
                messageId: message.messageId, receiptHandle: message.receiptHandle, body: message.body,
                attributes: message.messageAttributes.compactMapValues(\.stringValue),
                receiveCount: message.receiveCount ?? 1, sentAt: message.sentAt ?? Date())
        }
    }

    public func delete(receiptHandle: String) async throws {
        try await sqs.deleteMessage(queueURL: queueURL, receiptHandle: receiptHandle)
    }

    public func deleteBatch(_ receiptHandles: [(id: String, receiptHandle: String)]) async throws -> [BatchEntryFailure] {
        try await sqs.deleteMessageBatch(queueURL: queueURL, entries: receiptHandles).failed.map(Self.failure)
    }

    public func changeVisibility(receiptHandle: String, seconds: Int) async throws {
        try await sqs.changeMessageVisibility(queueURL: queueURL, receiptHandle: receiptHandle, visibilityTimeout: seconds)
    }

    public func depth() async throws -> QueueDepth {
        let attributes = try await sqs.getQueueAttributes(
            queueURL: queueURL,
            names: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"])
        func count(_ name: String) -> Int { attributes[name].flatMap(Int.init) ?? 0 }
        return QueueDepth(
            visible: count("ApproximateNumberOfMessages"), inFlight: count("ApproximateNumberOfMessagesNotVisible"),
            delayed: count("ApproximateNumberOfMessagesDelayed"))
    }

    static func failure(_ failure: SQSBatchFailure) -> BatchEntryFailure {
        BatchEntryFailure(id: failure.id, code: failure.code, message: failure.message ?? "", senderFault: failure.senderFault)
    }
}

/// An `ObjectStore` on S3 buckets.
public struct S3ObjectStore: ObjectStore {
    public let s3: S3Client

    public init(s3: S3Client) { self.s3 = s3 }

    public func head(bucket: String, key: String) async throws -> StoredObject {
        do {
            return Self.object(bucket, key, try await s3.headObject(bucket: bucket, key: key))
        } catch let error as AWSError where error.statusCode == 404 || error.code.rawValue == "NoSuchKey" || error.code.rawValue == "NotFound" {
            throw FleetError.objectNotFound(bucket: bucket, key: key)
        }
    }

    public func download(bucket: String, key: String, to path: String) async throws -> StoredObject {
        do {
            return Self.object(bucket, key, try await s3.getObject(bucket: bucket, key: key, to: path))
        } catch let error as AWSError where error.statusCode == 404 || error.code.rawValue == "NoSuchKey" {
            throw FleetError.objectNotFound(bucket: bucket, key: key)
        }
    }

    public func upload(file path: String, bucket: String, key: String, contentType: String, metadata: [String: String]) async throws {
        try await s3.uploadFile(bucket: bucket, key: key, file: path, contentType: contentType, metadata: metadata)
    }

    public func list(bucket: String, prefix: String) async throws -> [StoredObject] {
        try await s3.listAllObjects(bucket: bucket, prefix: prefix.isEmpty ? nil : prefix).map {
            StoredObject(bucket: bucket, key: $0.key, size: $0.size, eTag: $0.eTag.map(unquoteETag), lastModified: $0.lastModified)
        }
    }

    public func location(bucket: String, key: String) -> String { "s3://\(bucket)/\(key)" }

    static func object(_ bucket: String, _ key: String, _ info: S3ObjectInfo) -> StoredObject {
        StoredObject(
            bucket: bucket, key: key, size: info.contentLength, eTag: info.eTag.map(unquoteETag), versionId: info.versionId,
            contentType: info.contentType, metadata: info.metadata, lastModified: info.lastModified)
    }
}

/// A `DecisionStore` on the fleet's DynamoDB table (deploy/refvision.yaml): one item per job,
/// `pk = job#<id>`, `sk = decision`, the record as JSON in `record`, plus the attributes the indexes and
/// conditions need (`revision`, `state`, `meetId`, `athleteId`, `createdAt`).
public struct DynamoDecisionStore: DecisionStore {
    public let dynamo: DynamoDBClient
    public let table: String

    public init(dynamo: DynamoDBClient, table: String) {
        self.dynamo = dynamo
        self.table = table
    }

    static func key(_ jobId: String) -> DynamoDBItem { ["pk": .s("job#\(jobId)"), "sk": .s("decision")] }

    func item(_ record: DecisionRecord) throws -> DynamoDBItem {
        var item = Self.key(record.jobId)
        item["revision"] = .number(record.revision)
        item["state"] = .s(record.state.rawValue)
        item["createdAt"] = .s(AWSDate.formatISO8601(record.createdAt))
        item["updatedAt"] = .s(AWSDate.formatISO8601(record.updatedAt))
        item["objectKey"] = .s(record.key)
        if let meet = record.meet, !meet.isEmpty { item["meetId"] = .s(meet) }
        if let athlete = record.athlete, !athlete.isEmpty { item["athleteId"] = .s(athlete) }
        if let decision = record.decision { item["decision"] = .s(decision) }
        item["record"] = .s(try FleetJSON.string(record))
        return item
    }

    func record(_ item: DynamoDBItem) throws -> DecisionRecord {
        guard let json = item["record"]?.stringValue, let revision = item["revision"]?.intValue else {
            throw FleetError.invalidMessage("decision item without record/revision")
        }
        var record = try FleetJSON.decoder().decode(DecisionRecord.self, from: Data(json.utf8))
        record.revision = revision
        return record
    }

    public func create(_ record: DecisionRecord) async throws -> Bool {
        var first = record
        first.revision = 0
        do {
            try await dynamo.putItem(table: table, item: try item(first), condition: "attribute_not_exists(pk)")
            return true
        } catch is DynamoDBConditionalCheckFailed {
            return false
        }
    }

    public func get(jobId: String) async throws -> DecisionRecord? {
        guard let found = try await dynamo.getItem(table: table, key: Self.key(jobId), consistentRead: true) else { return nil }
        return try record(found)
    }

    public func update(_ record: DecisionRecord, expectedRevision: Int) async throws {
        var next = record
        next.revision = expectedRevision + 1
        do {
            try await dynamo.putItem(
                table: table, item: try item(next), condition: "#rev = :expected",
                names: ["#rev": "revision"], values: [":expected": .number(expectedRevision)])
        } catch is DynamoDBConditionalCheckFailed {
            throw FleetError.conditionFailed("job \(record.jobId) revision \(expectedRevision)")
        }
    }

    public func list(meet: String?, limit: Int) async throws -> [DecisionRecord] {
        var records: [DecisionRecord] = []
        var start: DynamoDBItem?
        repeat {
            let page: DynamoDBQueryPage
            if let meet {
                page = try await dynamo.query(
                    table: table, keyCondition: "meetId = :m", values: [":m": .s(meet)], index: "ByMeet",
                    exclusiveStartKey: start, scanForward: false)
            } else {
                page = try await dynamo.scan(
                    table: table, filter: "sk = :d", values: [":d": .s("decision")], exclusiveStartKey: start)
            }
            records += try page.items.map(record)
            start = page.lastEvaluatedKey
        } while start != nil && (meet != nil ? records.count < limit : true)
        records.sort { $0.createdAt > $1.createdAt }
        return Array(records.prefix(limit))
    }
}
