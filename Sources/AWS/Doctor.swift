import Foundation
import NIOCore

/// The AWS resources the fleet uses, named by environment variables (documented in docs/aws.md).
public struct RefvisionResources: Sendable, Equatable {
    public static let rawBucketVariable = "REFVISION_RAW_BUCKET"
    public static let annotatedBucketVariable = "REFVISION_ANNOTATED_BUCKET"
    public static let intakeQueueVariable = "REFVISION_INTAKE_QUEUE_URL"
    public static let jobsQueueVariable = "REFVISION_JOBS_QUEUE_URL"
    public static let resultsQueueVariable = "REFVISION_RESULTS_QUEUE_URL"
    public static let tableVariable = "REFVISION_TABLE"
    public static let coachesTopicVariable = "REFVISION_COACHES_TOPIC_ARN"

    /// Uploaded videos (S3 → intake queue notifications).
    public var rawBucket: String?
    /// Annotated videos and verdict artefacts.
    public var annotatedBucket: String?
    /// S3 ObjectCreated events for the raw bucket.
    public var intakeQueueURL: String?
    /// Judging jobs for the workers.
    public var jobsQueueURL: String?
    /// Verdicts from the workers.
    public var resultsQueueURL: String?
    /// Job state (DynamoDB).
    public var table: String?
    /// Coach notifications (SNS).
    public var coachesTopicArn: String?

    public init(
        rawBucket: String? = nil, annotatedBucket: String? = nil, intakeQueueURL: String? = nil, jobsQueueURL: String? = nil,
        resultsQueueURL: String? = nil, table: String? = nil, coachesTopicArn: String? = nil
    ) {
        self.rawBucket = rawBucket
        self.annotatedBucket = annotatedBucket
        self.intakeQueueURL = intakeQueueURL
        self.jobsQueueURL = jobsQueueURL
        self.resultsQueueURL = resultsQueueURL
        self.table = table
        self.coachesTopicArn = coachesTopicArn
    }

    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> RefvisionResources {
        RefvisionResources(
            rawBucket: nonEmpty(environment[rawBucketVariable]), annotatedBucket: nonEmpty(environment[annotatedBucketVariable]),
            intakeQueueURL: nonEmpty(environment[intakeQueueVariable]), jobsQueueURL: nonEmpty(environment[jobsQueueVariable]),
            resultsQueueURL: nonEmpty(environment[resultsQueueVariable]), table: nonEmpty(environment[tableVariable]),
            coachesTopicArn: nonEmpty(environment[coachesTopicVariable]))
    }
}

/// One line of `refvision doctor`.
public struct DoctorCheck: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        case ok(String)
        case failed(String)
        /// The variable is not set.
        case skipped
    }
    public var name: String
    /// The environment variable (or subject) checked.
    public var subject: String
    public var outcome: Outcome

    public var isFailure: Bool { if case .failed = outcome { return true } else { return false } }

    /// `✓ name (subject): detail`, `✗ ...`, or `- ... not set`.
    public var line: String {
        switch outcome {
        case .ok(let detail): return "✓ \(name) (\(subject)): \(detail)"
        case .failed(let detail): return "✗ \(name) (\(subject)): \(detail)"
        case .skipped: return "- \(name): \(subject) not set, skipped"
        }
    }
}

/// Cheap reads against every configured resource, concurrently; failures carry the AWS error.
public struct AWSDoctor: Sendable {
    public let client: AWSClient
    public init(client: AWSClient) { self.client = client }

    public func run(resources: RefvisionResources, environment: [String: String] = ProcessInfo.processInfo.environment) async
        -> [DoctorCheck]
    {
        let s3 = S3Client(client: client)
        let sqs = SQSClient(client: client)
        let db = DynamoDBClient(client: client)
        let sns = SNSClient(client: client)
        typealias Probe = @Sendable () async throws -> String
        var probes: [(String, String, String?, Probe)] = []

        let overridden = AWSService.allCases.compactMap { service -> (String, String)? in
            let (endpoint, isOverridden) = client.configuration.endpoint(for: service)
            return isOverridden ? (service.displayName, endpoint.description) : nil
        }
        var configurationDetail = "region \(client.configuration.region)"
        if Set(overridden.map(\.1)).count == 1, overridden.count == AWSService.allCases.count, let endpoint = overridden.first?.1 {
            configurationDetail += ", endpoint \(endpoint)"
        } else if !overridden.isEmpty {
            configurationDetail += ", endpoints " + overridden.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
        }
        let configuration = configurationDetail
        probes.append(("credentials", "AWS credential chain", "", {
            let credentials = try await client.credentialProvider.getCredentials()
            var source = ""
            if let chain = client.credentialProvider as? RefreshingCredentialProvider,
                let name = await chain.sourceName
            {
                source = " from \(name)"
            }
            let keyId = credentials.accessKeyId
            let masked = keyId.count > 8 ? String(keyId.prefix(4)) + "…" + String(keyId.suffix(4)) : "…"
            let expiry = credentials.expiration.map { ", expires \(AWSDate.formatISO8601($0))" } ?? ""
            return "key \(masked)\(source)\(expiry); \(configuration)"
        }))
        for (name, variable, value) in [
            ("raw bucket", RefvisionResources.rawBucketVariable, resources.rawBucket),
            ("annotated bucket", RefvisionResources.annotatedBucketVariable, resources.annotatedBucket),
        ] {
            probes.append((name, variable, value, {
                guard let bucket = value else { return "" }
                try await s3.headBucket(bucket)
                return "s3://\(bucket) reachable"
            }))
        }
        for (name, variable, value) in [
            ("intake queue", RefvisionResources.intakeQueueVariable, resources.intakeQueueURL),
            ("jobs queue", RefvisionResources.jobsQueueVariable, resources.jobsQueueURL),
            ("results queue", RefvisionResources.resultsQueueVariable, resources.resultsQueueURL),
        ] {
            probes.append((name, variable, value, {
                guard let url = value else { return "" }
                let attributes = try await sqs.getQueueAttributes(
                    queueURL: url, names: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "RedrivePolicy"])
                let visible = attributes["ApproximateNumberOfMessages"] ?? "?"
                let inFlight = attributes["ApproximateNumberOfMessagesNotVisible"] ?? "?"
                let dlq = attributes["RedrivePolicy"] == nil ? ", no dead-letter queue" : ", dead-letter queue set"
                return "\(visible) waiting, \(inFlight) in flight\(dlq)"
            }))
        }
        probes.append(("table", RefvisionResources.tableVariable, resources.table, {
            guard let table = resources.table else { return "" }
            return "\(table) is \(try await db.describeTableStatus(name: table))"
        }))
        probes.append(("coaches topic", RefvisionResources.coachesTopicVariable, resources.coachesTopicArn, {
            guard let topic = resources.coachesTopicArn else { return "" }
            let attributes = try await sns.getTopicAttributes(topicArn: topic)
            return "\(attributes["SubscriptionsConfirmed"] ?? "?") confirmed subscription(s)"
        }))
        if let agent = nonEmpty(environment["ECS_AGENT_URI"]) {
            let httpClient = client.httpClient
            probes.append(("task protection", "ECS_AGENT_URI", agent, {
                let state = try await ECSTaskProtectionClient(agentURI: agent, httpClient: httpClient).getProtection()
                return state.protectionEnabled ? "protected" : "not protected"
            }))
        }

        return await withTaskGroup(of: (Int, DoctorCheck).self) { group in
            for (index, probe) in probes.enumerated() {
                let (name, subject, value, run) = probe
                group.addTask {
                    guard value != nil else { return (index, DoctorCheck(name: name, subject: subject, outcome: .skipped)) }
                    do {
                        return (index, DoctorCheck(name: name, subject: subject, outcome: .ok(try await run())))
                    } catch {
                        return (index, DoctorCheck(name: name, subject: subject, outcome: .failed(String(describing: error))))
                    }
                }
            }
            var results: [(Int, DoctorCheck)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }
}

/// `s3://bucket/key` as the AWS CLI takes it (the key is literal, not URL-encoded).
public struct S3URI: Sendable, Equatable {
    public var bucket: String
    public var key: String

    public init(bucket: String, key: String) {
        self.bucket = bucket
        self.key = key
    }

    public static func parse(_ text: String) throws -> S3URI {
        guard text.hasPrefix("s3://") else { throw AWSClientError.invalidArgument("'\(text)' is not an s3://bucket/key URI") }
        let rest = text.dropFirst("s3://".count)
        guard let slash = rest.firstIndex(of: "/") else {
            throw AWSClientError.invalidArgument("'\(text)' has no object key (s3://bucket/key)")
        }
        let bucket = String(rest[..<slash])
        let key = String(rest[rest.index(after: slash)...])
        try S3Client.validateBucket(bucket)
        try S3Client.validateKey(key)
        return S3URI(bucket: bucket, key: key)
    }
}
