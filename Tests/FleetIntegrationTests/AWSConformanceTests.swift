import AWS
import AWSSigner
import Fleet
import FleetAWS
import Foundation
import PortConformance
import Testing
import TestSupport

/// The same conformance suites the embedded ports pass (Tests/EmbeddedTests), on SQS, S3 and DynamoDB
/// through moto: the two implementations have the same semantics.
@Suite("Ports on AWS (moto): the shared conformance suites", .serialized,
       .enabled(if: Backend.motoEndpoint != nil, "needs moto_server (make test starts it)"))
struct AWSConformanceTests {
    static func client() throws -> AWSClient { try TestFleet.motoClient() }

    /// Logical queue names → moto queue URLs (names are unique per test already).
    final class Registry: @unchecked Sendable {
        let lock = NSLock()
        var urls: [String: String] = [:]
        func set(_ name: String, _ url: String) { lock.lock(); urls[name] = url; lock.unlock() }
        func get(_ name: String) -> String? { lock.lock(); defer { lock.unlock() }; return urls[name] }
    }

    static func queues(_ a: AWSClient, _ b: AWSClient) -> QueueConformance {
        let registry = Registry()
        let prefix = "c" + UUID().uuidString.prefix(6).lowercased()
        @Sendable func sqsName(_ name: String) -> String {
            String((prefix + "-" + name).map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" }.prefix(80))
        }
        return QueueConformance(
            make: { name, options in
                let sqs = SQSClient(client: a)
                var attributes = ["VisibilityTimeout": String(options.visibilityTimeout)]
                if let dlq = options.deadLetterQueue, let max = options.maxReceiveCount, let dlqURL = registry.get(dlq) {
                    let arn = try await sqs.getQueueAttributes(queueURL: dlqURL, names: ["QueueArn"])["QueueArn"] ?? ""
                    attributes["RedrivePolicy"] = #"{"deadLetterTargetArn":"\#(arn)","maxReceiveCount":\#(max)}"#
                }
                let url = try await sqs.createQueue(name: sqsName(name), attributes: attributes)
                registry.set(name, url)
                return SQSJobQueue(sqs: sqs, queueURL: url)
            },
            reopen: { name, _ in
                guard let url = registry.get(name) else { throw FleetError.configuration("no queue \(name)") }
                return SQSJobQueue(sqs: SQSClient(client: b), queueURL: url)
            })
    }

    @Test func queueSemantics() async throws {
        try await withAWSClient(try Self.client()) { a in
        try await withAWSClient(try Self.client()) { b in
        let suite = Self.queues(a, b)
        try await suite.sendReceiveDelete()
        try await suite.batchLimits()
        try await suite.visibilityTimeoutRedelivers()
        try await suite.changeVisibilityZeroMakesVisible()
        try await suite.longPollReturnsWhenAnotherConnectionSends()
        try await suite.longPollWaitsWhenEmpty()
        try await suite.redriveToDeadLetterQueue()
        try await suite.staleDeleteIsHarmless()
        try await suite.depthCounts()
        // At least once: SQS standard queues may deliver a message twice (seen on moto: 51 of 50).
        try await suite.concurrentReceiversGetEachMessageOnce(exactlyOnce: false)
        }
        }
    }

    @Test func objectStoreSemantics() async throws {
        try await withAWSClient(try Self.client()) { client in
        let temp = try TempDir()
        defer { temp.remove() }
        let s3 = S3Client(client: client)
        let suite = ObjectStoreConformance(make: {
            let bucket = "c" + UUID().uuidString.prefix(12).lowercased()
            try await s3.createBucket(bucket)
            return (S3ObjectStore(s3: s3), bucket)
        }, scratch: temp.url.path)
        try await suite.roundTripAwkwardKeys()
        try await suite.missingObject()
        try await suite.listPrefixInKeyOrder()
        try await suite.eTagFollowsContent()
        }
    }

    @Test func decisionStoreSemantics() async throws {
        try await withAWSClient(try Self.client()) { client in
        let dynamo = DynamoDBClient(client: client)
        let table = "c" + UUID().uuidString.prefix(12).lowercased()
        try await dynamo.createTable(
            name: table, partitionKey: DynamoDBKey("pk", .string), sortKey: DynamoDBKey("sk", .string),
            indexes: [.init(name: "ByMeet", partitionKey: DynamoDBKey("meetId", .string), sortKey: DynamoDBKey("createdAt", .string))])
        let suite = DecisionStoreConformance(make: { DynamoDecisionStore(dynamo: dynamo, table: table) })
        try await suite.createIsConditional()
        try await suite.updateIsConditional()
        // Not `concurrentModifyIncrementsExactly`: moto's threaded server checks a ConditionExpression and
        // writes the item without a lock between the two, so concurrent conditional writes can both pass
        // there (seen: 29 of 30 increments under load). DynamoDB itself makes them atomic; the embedded
        // store's atomicity, which is ours, is tested in Tests/EmbeddedTests. Sequential conditional
        // writes (createIsConditional, updateIsConditional) run here.
        try await suite.listNewestFirstAndByMeet()
        }
    }
}
