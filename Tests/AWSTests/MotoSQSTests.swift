import AWSSigner
import Foundation
import Testing

@testable import AWS

@Suite(
    "SQS against moto",
    .enabled(if: ProcessInfo.processInfo.environment["REFVISION_TEST_MOTO"] != nil, "needs moto_server: set REFVISION_TEST_MOTO"))
struct MotoSQSTests {
    @Test("send with message attributes, receive with system and message attributes, delete")
    func sendReceiveDelete() async throws {
        try await Moto.withClient { client in
            let sqs = SQSClient(client: client)
            let queue = try await sqs.createQueue(name: Moto.unique("jobs"), attributes: ["VisibilityTimeout": "30"])
            let before = Date()
            let attributes: [String: SQSMessageAttributeValue] = [
                "kind": .string("squat"), "attempt": .number("2"), "blob": .binary(Data([0, 1, 254, 255])),
                "meta": .custom(dataType: "String.json", string: "{\"a\":1}"),
            ]
            let body = "{\"job\":\"j-1\",\"note\":\"élan ✓\"}"
            let sent = try await sqs.sendMessage(queueURL: queue, body: body, attributes: attributes)
            #expect(!sent.messageId.isEmpty)

            let messages = try await sqs.receiveMessages(queueURL: queue, waitTimeSeconds: 1)
            #expect(messages.count == 1)
            let message = try #require(messages.first)
            #expect(message.body == body && message.messageId == sent.messageId)
            #expect(message.messageAttributes == attributes)
            #expect(message.receiveCount == 1)
            let sentAt = try #require(message.sentAt)
            #expect(sentAt.timeIntervalSince(before) > -5 && sentAt.timeIntervalSinceNow < 5)

            try await sqs.deleteMessage(queueURL: queue, receiptHandle: message.receiptHandle)
            #expect(try await sqs.receiveMessages(queueURL: queue, waitTimeSeconds: 0).isEmpty)
            try await sqs.deleteQueue(queueURL: queue)
        }
    }

    @Test("batches: send 10, delete and change visibility with one bad receipt handle each, failures per entry")
    func batches() async throws {
        try await Moto.withClient { client in
            let sqs = SQSClient(client: client)
            let queue = try await sqs.createQueue(name: Moto.unique("batch"))
            let entries = (0..<10).map { SQSSendEntry(id: "e\($0)", body: "message \($0)", attributes: ["n": .number(String($0))]) }
            let sent = try await sqs.sendMessageBatch(queueURL: queue, entries: entries)
            #expect(sent.allSucceeded && sent.successful.count == 10)
            #expect(Set(sent.successful.compactMap(\.id)) == Set(entries.map(\.id)))

            var received: [SQSMessage] = []
            let deadline = Date().addingTimeInterval(10)
            while received.count < 10 && Date() < deadline {
                received += try await sqs.receiveMessages(queueURL: queue, maxMessages: 10, waitTimeSeconds: 1, visibilityTimeout: 60)
            }
            #expect(Set(received.map(\.body)) == Set(entries.map(\.body)))

            let visibility = try await sqs.changeMessageVisibilityBatch(
                queueURL: queue,
                entries: [
                    SQSVisibilityEntry(id: "good", receiptHandle: received[0].receiptHandle, visibilityTimeout: 120),
                    SQSVisibilityEntry(id: "bad", receiptHandle: "not-a-receipt-handle", visibilityTimeout: 120),
                ])
            #expect(visibility.successful == ["good"])
            #expect(visibility.failed.map(\.id) == ["bad"])

            var deleteEntries = received.enumerated().map { (id: "d\($0.offset)", receiptHandle: $0.element.receiptHandle) }
            deleteEntries[9] = (id: "bogus", receiptHandle: "garbage-handle")
            let deleted = try await sqs.deleteMessageBatch(queueURL: queue, entries: deleteEntries)
            #expect(deleted.successful.count == 9)
            #expect(deleted.failed.count == 1 && deleted.failed.first?.id == "bogus")
            #expect(deleted.failed.first?.code.isEmpty == false)
            try await sqs.deleteQueue(queueURL: queue)
        }
    }

    @Test("long polling waits for the wait time on an empty queue and returns early when a message arrives")
    func longPolling() async throws {
        try await Moto.withClient { client in
            let sqs = SQSClient(client: client)
            let queue = try await sqs.createQueue(name: Moto.unique("poll"))

            let emptyStart = Date()
            let none = try await sqs.receiveMessages(queueURL: queue, waitTimeSeconds: 2)
            let emptyElapsed = Date().timeIntervalSince(emptyStart)
            #expect(none.isEmpty)
            #expect(emptyElapsed >= 1.8, "long poll returned after \(emptyElapsed) s")

            let start = Date()
            async let polled = sqs.receiveMessages(queueURL: queue, waitTimeSeconds: 10)
            try await Task.sleep(for: .milliseconds(700))
            try await sqs.sendMessage(queueURL: queue, body: "wake up")
            let messages = try await polled
            let elapsed = Date().timeIntervalSince(start)
            #expect(messages.map(\.body) == ["wake up"])
            #expect(elapsed < 6, "a long poll should return soon after the message arrives, took \(elapsed) s")
            try await sqs.deleteQueue(queueURL: queue)
        }
    }

    @Test("visibility timeout expiry redelivers; ChangeMessageVisibility(0) releases at once")
    func visibility() async throws {
        try await Moto.withClient { client in
            let sqs = SQSClient(client: client)
            let queue = try await sqs.createQueue(name: Moto.unique("vis"))
            try await sqs.sendMessage(queueURL: queue, body: "job")

            let first = try await sqs.receiveMessages(queueURL: queue, waitTimeSeconds: 1, visibilityTimeout: 1)
            #expect(first.first?.receiveCount == 1)
            #expect(try await sqs.receiveMessages(queueURL: queue, waitTimeSeconds: 0).isEmpty, "hidden while in flight")
            try await Task.sleep(for: .milliseconds(1_500))
            let second = try await sqs.receiveMessages(queueURL: queue, waitTimeSeconds: 1, visibilityTimeout: 60)
            #expect(second.first?.body == "job" && second.first?.receiveCount == 2)

            let handle = try #require(second.first?.receiptHandle)
            try await sqs.changeMessageVisibility(queueURL: queue, receiptHandle: handle, visibilityTimeout: 0)
            let third = try await sqs.receiveMessages(queueURL: queue, waitTimeSeconds: 1)
            #expect(third.first?.receiveCount == 3)
            try await sqs.deleteQueue(queueURL: queue)
        }
    }

    @Test("after maxReceiveCount receives the message moves to the dead-letter queue")
    func redrive() async throws {
        try await Moto.withClient { client in
            let sqs = SQSClient(client: client)
            let dlq = try await sqs.createQueue(name: Moto.unique("dlq"))
            let dlqArn = try #require(try await sqs.getQueueAttributes(queueURL: dlq, names: ["QueueArn"])["QueueArn"])
            let policy = SQSClient.redrivePolicy(deadLetterTargetArn: dlqArn, maxReceiveCount: 2)
            let queue = try await sqs.createQueue(name: Moto.unique("main"), attributes: ["RedrivePolicy": policy])
            let attributes = try await sqs.getQueueAttributes(queueURL: queue)
            let stored = try #require(attributes["RedrivePolicy"])
            let parsed = try #require(try JSONSerialization.jsonObject(with: Data(stored.utf8)) as? [String: Any])
            #expect(parsed["deadLetterTargetArn"] as? String == dlqArn)

            try await sqs.sendMessage(queueURL: queue, body: "poison")
            for attempt in 1...2 {
                let got = try await sqs.receiveMessages(queueURL: queue, waitTimeSeconds: 1, visibilityTimeout: 0)
                #expect(got.first?.receiveCount == attempt)
            }
            #expect(try await sqs.receiveMessages(queueURL: queue, waitTimeSeconds: 1).isEmpty, "moved on the third receive")
            let dead = try await sqs.receiveMessages(queueURL: dlq, waitTimeSeconds: 1)
            #expect(dead.map(\.body) == ["poison"])
            try await sqs.deleteQueue(queueURL: queue)
            try await sqs.deleteQueue(queueURL: dlq)
        }
    }

    @Test("GetQueueUrl finds queues; a missing queue is QueueDoesNotExist")
    func queueURLs() async throws {
        try await Moto.withClient { client in
            let sqs = SQSClient(client: client)
            let name = Moto.unique("named")
            let created = try await sqs.createQueue(name: name)
            #expect(try await sqs.getQueueURL(queueName: name) == created)
            let error = await #expect(throws: AWSError.self) { try await sqs.getQueueURL(queueName: Moto.unique("absent")) }
            #expect(error?.isQueueDoesNotExist == true && error?.statusCode == 400)
            let missing = await #expect(throws: AWSError.self) {
                try await sqs.sendMessage(queueURL: created + "-gone", body: "x")
            }
            #expect(missing?.isQueueDoesNotExist == true)
            try await sqs.deleteQueue(queueURL: created)
        }
    }
}

@Suite(
    "SNS, DynamoDB and CloudWatch against moto",
    .enabled(if: ProcessInfo.processInfo.environment["REFVISION_TEST_MOTO"] != nil, "needs moto_server: set REFVISION_TEST_MOTO"))
struct MotoServicesTests {
    @Test("SNS: topic, filtered SQS subscription, publish with subject and attributes, unsubscribe")
    func sns() async throws {
        try await Moto.withClient { client in
            let sns = SNSClient(client: client)
            let sqs = SQSClient(client: client)
            let topic = try await sns.createTopic(name: Moto.unique("coaches"))
            #expect(try await sns.createTopic(name: topic.split(separator: ":").last.map(String.init) ?? "") == topic)
            let queue = try await sqs.createQueue(name: Moto.unique("coach-inbox"))
            let queueArn = try #require(try await sqs.getQueueAttributes(queueURL: queue, names: ["QueueArn"])["QueueArn"])
            let subscription = try await sns.subscribe(
                topicArn: topic, protocol: "sqs", endpoint: queueArn, filterPolicy: "{\"coach\":[\"c-7\"]}")
            #expect(subscription.hasPrefix(topic))
            #expect(try await sns.getSubscriptionAttributes(subscriptionArn: subscription)["FilterPolicy"]?.contains("c-7") == true)
            let listed = try await sns.listSubscriptionsByTopic(topicArn: topic)
            #expect(listed.map(\.subscriptionArn) == [subscription] && listed.first?.protocolName == "sqs")

            let messageId = try await sns.publish(
                topicArn: topic, message: "{\"verdict\":\"good lift\"}", subject: "Verdict ready",
                attributes: ["coach": .string("c-7"), "score": .number("3")])
            #expect(!messageId.isEmpty)
            try await sns.publish(topicArn: topic, message: "not for this coach", attributes: ["coach": .string("c-8")])

            let delivered = try await sqs.receiveMessages(queueURL: queue, waitTimeSeconds: 2)
            #expect(delivered.count == 1)
            let first = try #require(delivered.first)
            let envelope = try #require(try JSONSerialization.jsonObject(with: Data(first.body.utf8)) as? [String: Any])
            #expect(envelope["Subject"] as? String == "Verdict ready")
            #expect(envelope["Message"] as? String == "{\"verdict\":\"good lift\"}")
            #expect(envelope["MessageId"] as? String == messageId)
            #expect(((envelope["MessageAttributes"] as? [String: Any])?["coach"] as? [String: Any])?["Value"] as? String == "c-7")
            #expect(try await sqs.receiveMessages(queueURL: queue, waitTimeSeconds: 1).isEmpty, "filtered out")

            #expect(try await sns.getTopicAttributes(topicArn: topic)["TopicArn"] == topic)
            try await sns.unsubscribe(subscriptionArn: subscription)
            #expect(try await sns.listSubscriptionsByTopic(topicArn: topic).isEmpty)
            try await sns.deleteTopic(topicArn: topic)
            try await sqs.deleteQueue(queueURL: queue)

            await #expect(throws: AWSClientError.self) { try await sns.publish(topicArn: topic, message: "x", subject: "line\nbreak") }
            await #expect(throws: AWSClientError.self) { try await sns.subscribe(topicArn: topic, protocol: "sqs", endpoint: queueArn, filterPolicy: "not json") }
        }
    }

    @Test("DynamoDB: conditional put, ConditionalCheckFailed as its own error, update, get, query with pages")
    func dynamodb() async throws {
        try await Moto.withClient { client in
            let db = DynamoDBClient(client: client)
            let table = Moto.unique("jobs")
            try await db.createTable(name: table, partitionKey: DynamoDBKey("pk", .string), sortKey: DynamoDBKey("sk", .number))
            #expect(try await db.describeTableStatus(name: table) == "ACTIVE")

            let item: DynamoDBItem = [
                "pk": "lifter#1", "sk": 1, "status": "queued", "attempts": 0, "score": try .number(2.5), "ok": true,
                "note": nil, "frames": [1, 2, 3], "meta": ["camera": "side", "fps": 30],
            ]
            try await db.putItem(table: table, item: item, condition: "attribute_not_exists(pk)")
            let conflict = await #expect(throws: DynamoDBConditionalCheckFailed.self) {
                try await db.putItem(table: table, item: item, condition: "attribute_not_exists(pk)")
            }
            #expect(conflict?.table == table && conflict?.operation == "PutItem")
            #expect(try await db.getItem(table: table, key: ["pk": "lifter#1", "sk": 1], consistentRead: true) == item)

            let updated = try await db.updateItem(
                table: table, key: ["pk": "lifter#1", "sk": 1], update: "SET #s = :running ADD attempts :one",
                condition: "#s = :queued", names: ["#s": "status"], values: [":running": "running", ":queued": "queued", ":one": 1],
                returnValues: .allNew)
            #expect(updated?["status"] == "running" && updated?["attempts"]?.intValue == 1)
            await #expect(throws: DynamoDBConditionalCheckFailed.self) {
                try await db.updateItem(
                    table: table, key: ["pk": "lifter#1", "sk": 1], update: "SET #s = :running", condition: "#s = :queued",
                    names: ["#s": "status"], values: [":running": "running", ":queued": "queued"])
            }
            #expect(try await db.getItem(table: table, key: ["pk": "lifter#2", "sk": 1]) == nil)

            for sk in 2...5 { try await db.putItem(table: table, item: ["pk": "lifter#1", "sk": .number(sk), "status": sk % 2 == 0 ? "done" : "queued"]) }
            var keys: [Int] = []
            var start: DynamoDBItem?
            var pages = 0
            repeat {
                let page = try await db.query(
                    table: table, keyCondition: "pk = :pk AND sk >= :from", names: [:], values: [":pk": "lifter#1", ":from": 2],
                    limit: 2, exclusiveStartKey: start)
                keys += page.items.compactMap { $0["sk"]?.intValue }
                start = page.lastEvaluatedKey
                pages += 1
            } while start != nil && pages < 10
            #expect(keys == [2, 3, 4, 5] && pages >= 2)
            let done = try await db.query(
                table: table, keyCondition: "pk = :pk", filter: "#s = :done", names: ["#s": "status"],
                values: [":pk": "lifter#1", ":done": "done"], scanForward: false)
            #expect(done.items.compactMap { $0["sk"]?.intValue } == [4, 2])

            let badTable = await #expect(throws: AWSError.self) { try await db.getItem(table: Moto.unique("nope"), key: ["pk": "x"]) }
            #expect(badTable?.code == .resourceNotFound)
            try await db.deleteTable(name: table)
        }
    }

    @Test("CloudWatch: PutMetricData is listed by ListMetrics with its dimensions")
    func cloudwatch() async throws {
        try await Moto.withClient { client in
            let cloudwatch = CloudWatchClient(client: client)
            let namespace = "refvision/" + Moto.unique("test")
            try await cloudwatch.putMetricData(
                namespace: namespace,
                data: [
                    CloudWatchDatum(name: "QueueDepth", value: 12, unit: .count, dimensions: [("Queue", "jobs")], timestamp: Date()),
                    CloudWatchDatum(name: "JudgeLatency", value: 0.25, unit: .seconds, dimensions: [("Stage", "prod"), ("Worker", "w-1")]),
                ])
            let metrics = try await cloudwatch.listMetrics(namespace: namespace)
            #expect(Set(metrics.map(\.name)) == ["QueueDepth", "JudgeLatency"])
            #expect(metrics.first { $0.name == "JudgeLatency" }?.dimensions == ["Stage": "prod", "Worker": "w-1"])
            await #expect(throws: AWSClientError.self) {
                try await cloudwatch.putMetricData(namespace: namespace, data: [CloudWatchDatum(name: "x", value: .infinity)])
            }
        }
    }
}

@Suite(
    "refvision doctor against moto",
    .enabled(if: ProcessInfo.processInfo.environment["REFVISION_TEST_MOTO"] != nil, "needs moto_server: set REFVISION_TEST_MOTO"))
struct MotoDoctorTests {
    @Test("every configured resource gets a cheap read: ✓ for existing ones, ✗ with the AWS error otherwise")
    func doctor() async throws {
        try await Moto.withClient { client in
            let bucket = Moto.unique("doctor")
            try await S3Client(client: client).createBucket(bucket)
            let sqs = SQSClient(client: client)
            let queue = try await sqs.createQueue(name: Moto.unique("doctor"))
            try await sqs.sendMessage(queueURL: queue, body: "waiting")
            let table = Moto.unique("doctor")
            try await DynamoDBClient(client: client).createTable(name: table, partitionKey: DynamoDBKey("pk", .string))
            let topic = try await SNSClient(client: client).createTopic(name: Moto.unique("doctor"))

            let resources = RefvisionResources.fromEnvironment([
                RefvisionResources.rawBucketVariable: bucket,
                RefvisionResources.annotatedBucketVariable: Moto.unique("absent"),
                RefvisionResources.jobsQueueVariable: queue,
                RefvisionResources.resultsQueueVariable: queue + "-absent",
                RefvisionResources.tableVariable: table,
                RefvisionResources.coachesTopicVariable: topic,
                RefvisionResources.intakeQueueVariable: "  ",
            ])
            let checks = await AWSDoctor(client: client).run(resources: resources, environment: [:])
            let byName = Dictionary(uniqueKeysWithValues: checks.map { ($0.name, $0) })
            #expect(checks.map(\.name) == ["credentials", "raw bucket", "annotated bucket", "intake queue", "jobs queue", "results queue", "table", "coaches topic"])
            #expect(byName["credentials"]?.isFailure == false)
            #expect(byName["raw bucket"]?.line.hasPrefix("✓") == true)
            #expect(byName["annotated bucket"]?.line.hasPrefix("✗") == true && byName["annotated bucket"]?.line.contains("404") == true)
            #expect(byName["intake queue"]?.outcome == .skipped)
            #expect(byName["jobs queue"]?.line.contains("1 waiting") == true)
            #expect(byName["results queue"]?.isFailure == true && byName["results queue"]?.line.contains("QueueDoesNotExist") == true)
            #expect(byName["table"]?.line.contains("ACTIVE") == true)
            #expect(byName["coaches topic"]?.isFailure == false)

            try await S3Client(client: client).deleteBucket(bucket)
            try await sqs.deleteQueue(queueURL: queue)
            try await DynamoDBClient(client: client).deleteTable(name: table)
            try await SNSClient(client: client).deleteTopic(topicArn: topic)
        }
    }
}
