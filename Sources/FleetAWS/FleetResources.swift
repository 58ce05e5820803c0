import AWS
import Fleet
import Foundation

/// A complete, uniquely named set of the fleet's AWS resources — the three queues with their
/// dead-letter queues and redrive policies, the two buckets, the decision table with its indexes and the
/// coaches topic — as
/// deploy/refvision.yaml makes them, for moto or LocalStack (tests, benchmarks, a developer's machine).
public struct FleetResources: Sendable {
    public var intakeQueueURL: String
    public var jobsQueueURL: String
    public var resultsQueueURL: String
    public var rawBucket: String
    public var annotatedBucket: String
    public var table: String
    /// The SNS topic coaches subscribe to (the notifier publishes there).
    public var coachesTopicArn: String

    /// The `REFVISION_*` variables the services read (docs/configuration.md).
    public var environment: [String: String] {
        ["REFVISION_INTAKE_QUEUE_URL": intakeQueueURL, "REFVISION_JOBS_QUEUE_URL": jobsQueueURL,
         "REFVISION_RESULTS_QUEUE_URL": resultsQueueURL, "REFVISION_RAW_BUCKET": rawBucket,
         "REFVISION_ANNOTATED_BUCKET": annotatedBucket, "REFVISION_TABLE": table,
         "REFVISION_COACHES_TOPIC_ARN": coachesTopicArn]
    }

    /// Creates the resources named `NAME-intake`, `NAME-jobs`, … The queue settings are the template's
    /// (intake and results: visibility 60 s, 5 receives); the jobs queue's can be set for tests.
    public static func create(client: AWSClient, name: String, jobsVisibility: Int = 300, jobsMaxReceive: Int = 3) async throws
        -> FleetResources {
        let sqs = SQSClient(client: client)
        func queue(_ base: String, visibility: Int, maxReceive: Int) async throws -> String {
            let dlq = try await sqs.createQueue(name: "\(name)-\(base)-dlq")
            let arn = try await sqs.getQueueAttributes(queueURL: dlq, names: ["QueueArn"])["QueueArn"] ?? ""
            return try await sqs.createQueue(name: "\(name)-\(base)", attributes: [
                "VisibilityTimeout": String(visibility),
                "RedrivePolicy": #"{"deadLetterTargetArn":"\#(arn)","maxReceiveCount":\#(maxReceive)}"#,
            ])
        }
        let resources = FleetResources(
            intakeQueueURL: try await queue("intake", visibility: 60, maxReceive: 5),
            jobsQueueURL: try await queue("jobs", visibility: jobsVisibility, maxReceive: jobsMaxReceive),
            resultsQueueURL: try await queue("results", visibility: 60, maxReceive: 5),
            rawBucket: "\(name)-raw", annotatedBucket: "\(name)-annotated", table: "\(name)-state",
            coachesTopicArn: try await SNSClient(client: client).createTopic(name: "\(name)-coaches"))
        let s3 = S3Client(client: client)
        try await s3.createBucket(resources.rawBucket)
        try await s3.createBucket(resources.annotatedBucket)
        try await DynamoDBClient(client: client).createTable(
            name: resources.table, partitionKey: DynamoDBKey("pk", .string), sortKey: DynamoDBKey("sk", .string),
            indexes: [
                .init(name: "ByMeet", partitionKey: DynamoDBKey("meetId", .string), sortKey: DynamoDBKey("createdAt", .string)),
                .init(name: "ByAthlete", partitionKey: DynamoDBKey("athleteId", .string), sortKey: DynamoDBKey("createdAt", .string)),
            ])
        return resources
    }
}
