import AWS
import Fleet
import FleetAWS
import Foundation
import Testing
import TestSupport
import Worker

@Suite("The fleet on AWS (moto), end to end", .serialized,
       .enabled(if: Backend.motoEndpoint != nil && LiftClips.available, "needs moto_server (make test starts it), ../shared/fixtures/lifts and the models"))
struct MotoEndToEndTests {
    @Test func anUploadBecomesADecisionAReplayAndAResult() async throws {
        let fleet = try await TestFleet.make(.moto)
        defer { Task { await fleet.close() } }
        let client = try #require(fleet.client)
        let s3 = S3Client(client: client)
        let sqs = SQSClient(client: client)
        let intake = try #require(fleet.intake as? SQSJobQueue)
        // S3 → SQS notifications on the raw bucket, as the template's EventBridge rule delivers them.
        let intakeArn = try #require(try await sqs.getQueueAttributes(queueURL: intake.queueURL, names: ["QueueArn"])["QueueArn"])
        try await s3.putBucketNotificationConfiguration(bucket: fleet.rawBucket, queues: [S3QueueNotification(queueArn: intakeArn)])

        let key = "open 2026/a lee/squat-1.mp4"
        try await fleet.upload(try LiftClips.goodSquat(in: fleet.temp), key: key)
        try await fleet.upload(try fakeVideo(fleet.temp, "x.mp4"), key: "open 2026/a lee/squat-1.mp4.txt", contentType: "text/plain")

        let dispatcher = makeDispatcher(fleet)
        let report = try await dispatchAll(dispatcher, fleet)
        #expect(report.jobsSent == 1)
        let message = try #require(try await fleet.jobs.receive(maxMessages: 1, waitSeconds: 2, visibilityTimeout: nil).first)
        let outcome = await makeWorker(fleet).process(message)
        #expect(outcome == .judged(decision: "good_lift"))

        // The decision in DynamoDB, as the replay service and the notifier will read it.
        let job = try JobMessage.parse(message.body)
        let store = try #require(fleet.decisions as? DynamoDecisionStore)
        let item = try #require(try await store.dynamo.getItem(table: store.table, key: ["pk": .s("job#\(job.jobId)"), "sk": .s("decision")]))
        #expect(item["state"] == .s("judged"))
        #expect(item["decision"] == .s("good_lift"))
        #expect(item["meetId"] == .s("open 2026"))
        #expect(item["athleteId"] == .s("a lee"))
        let byMeet = try await fleet.decisions.list(meet: "open 2026", limit: 10)
        #expect(byMeet.map(\.jobId) == [job.jobId])

        let record = try #require(byMeet.first)
        let replay = try await s3.headObject(bucket: fleet.annotatedBucket, key: try #require(record.replayKey))
        #expect(replay.contentType == "video/mp4")
        #expect(replay.contentLength > 10_000)
        #expect(replay.metadata["decision"] == "good_lift")

        let results = try await fleet.drain(fleet.results)
        #expect(results.count == 1)
        #expect(try ResultMessage.parse(try #require(results.first).body).jobId == job.jobId)
        #expect(try await fleet.jobs.depth().total == 0)
        #expect(try await fleet.intakeDLQ.depth().total == 0)
    }

    @Test func scalingMetricsArePublishedWithThePolicysNamesAndDimensions() async throws {
        let fleet = try await TestFleet.make(.moto)
        defer { Task { await fleet.close() } }
        let client = try #require(fleet.client)
        let namespace = "RefvisionTest" + UUID().uuidString.prefix(6)
        let sink = CloudWatchScalingMetrics(cloudWatch: CloudWatchClient(client: client), namespace: namespace,
                                            cluster: "c1", service: "worker")
        try await sink.publish(backlogPerTask: 4, desiredTasks: 2, visible: 8)
        let metrics = try await CloudWatchClient(client: client).listMetrics(namespace: namespace)
        #expect(Set(metrics.map(\.name)) == ["BacklogPerTask", "DesiredTasks"])
        #expect(metrics.allSatisfy { $0.dimensions == ["Cluster": "c1", "Service": "worker"] })
        // A worker service ECS doesn't know is a clear error naming ECS's reason.
        let size = ECSFleetSize(ecs: ECSClient(client: client), cluster: "no-such-cluster", service: "worker")
        await #expect(throws: (any Error).self) { _ = try await size.workerCounts() }
    }
}
