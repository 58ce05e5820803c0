import AWS
import ArgumentParser
import Embedded
import Fleet
import FleetAWS
import Foundation
import Logging
import ServiceSupport

/// Where the fleet's state lives: `--data DIR` (embedded), else AWS when `REFVISION_JOBS_QUEUE_URL` is
/// set (as ECS passes it), else the embedded default `./var` (or `REFVISION_DATA`).
struct FleetOptions: ParsableArguments {
    @Option(name: .customLong("data"), help: "Embedded data directory (default: REFVISION_DATA or ./var; AWS when REFVISION_JOBS_QUEUE_URL is set).")
    var data: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error, critical (default: REFVISION_LOG_LEVEL or info).")
    var logLevel: String?
}

/// Embedded queue settings (the CloudFormation template sets the same ones on SQS).
enum EmbeddedQueues {
    static let intake = (name: "intake", visibility: 60, maxReceive: 5, dlq: "intake-dlq")
    static let jobs = (name: "jobs", visibility: 60, maxReceive: 3, dlq: "jobs-dlq")
    static let results = (name: "results", visibility: 60, maxReceive: 5, dlq: "results-dlq")
    static let rawBucket = "raw"
    static let annotatedBucket = "annotated"
}

/// The fleet's ports, on one backend.
struct FleetPorts: Sendable {
    enum Backend: Sendable {
        case embedded(directory: String, state: EmbeddedState)
        case aws(AWSClient)
    }

    let backend: Backend
    let intake: any JobQueue
    let intakeDLQ: any JobQueue
    let jobs: any JobQueue
    let jobsDLQ: any JobQueue
    let results: any JobQueue
    let resultsDLQ: any JobQueue
    let objects: any ObjectStore
    let decisions: any DecisionStore
    let rawBucket: String
    let annotatedBucket: String
    let environment: [String: String]

    var isEmbedded: Bool { if case .embedded = backend { true } else { false } }
    var dataDirectory: String? { if case .embedded(let directory, _) = backend { directory } else { nil } }

    func queue(named name: String) throws -> any JobQueue {
        switch name {
        case "intake": intake
        case "intake-dlq": intakeDLQ
        case "jobs": jobs
        case "jobs-dlq": jobsDLQ
        case "results": results
        case "results-dlq": resultsDLQ
        default: throw ValidationError("no queue '\(name)' (intake, jobs, results, or their -dlq)")
        }
    }

    func shutdown() async {
        if case .aws(let client) = backend { try? await client.shutdown() }
    }

    static func open(_ options: FleetOptions, logger: Logger,
                     environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> FleetPorts {
        if options.data == nil, let jobsURL = environment["REFVISION_JOBS_QUEUE_URL"], !jobsURL.isEmpty {
            return try await openAWS(jobsURL: jobsURL, logger: logger, environment: environment)
        }
        let directory = options.data ?? environment["REFVISION_DATA"].flatMap { $0.isEmpty ? nil : $0 } ?? "./var"
        return try openEmbedded(directory: directory, environment: environment)
    }

    static func openEmbedded(directory: String, environment: [String: String]) throws -> FleetPorts {
        let absolute = URL(fileURLWithPath: directory).standardizedFileURL.path
        let state: EmbeddedState
        do {
            state = try EmbeddedState(directory: absolute)
        } catch {
            throw CLIError(description: "cannot open the embedded state in \(absolute): \(error)", code: Exit.runtime)
        }
        func q(_ spec: (name: String, visibility: Int, maxReceive: Int, dlq: String)) throws -> (any JobQueue, any JobQueue) {
            let dlq = try state.queue(named: spec.dlq, visibilityTimeout: 30)
            let queue = try state.queue(named: spec.name, visibilityTimeout: spec.visibility, maxReceiveCount: spec.maxReceive,
                                        deadLetterQueue: spec.dlq)
            return (queue, dlq)
        }
        let (intake, intakeDLQ) = try q(EmbeddedQueues.intake)
        let (jobs, jobsDLQ) = try q(EmbeddedQueues.jobs)
        let (results, resultsDLQ) = try q(EmbeddedQueues.results)
        let store = DirectoryObjectStore(root: absolute)
        for bucket in [EmbeddedQueues.rawBucket, EmbeddedQueues.annotatedBucket, "outbox", "scratch"] {
            try FileManager.default.createDirectory(atPath: (absolute as NSString).appendingPathComponent(bucket),
                                                    withIntermediateDirectories: true)
        }
        return FleetPorts(
            backend: .embedded(directory: absolute, state: state), intake: intake, intakeDLQ: intakeDLQ, jobs: jobs,
            jobsDLQ: jobsDLQ, results: results, resultsDLQ: resultsDLQ, objects: store, decisions: state.decisions,
            rawBucket: EmbeddedQueues.rawBucket, annotatedBucket: EmbeddedQueues.annotatedBucket, environment: environment)
    }

    static func openAWS(jobsURL: String, logger: Logger, environment: [String: String]) async throws -> FleetPorts {
        func required(_ name: String) throws -> String {
            guard let value = environment[name], !value.isEmpty else {
                throw CLIError(description: "\(name) is not set (AWS mode: see docs/configuration.md)", code: Exit.usage)
            }
            return value
        }
        let client = try AWSClient.fromEnvironment(environment, logger: logger)
        do {
            let sqs = SQSClient(client: client)
            let intake = SQSJobQueue(sqs: sqs, queueURL: try required("REFVISION_INTAKE_QUEUE_URL"))
            let jobs = SQSJobQueue(sqs: sqs, queueURL: jobsURL)
            let results = SQSJobQueue(sqs: sqs, queueURL: try required("REFVISION_RESULTS_QUEUE_URL"))
            func dlq(_ queue: SQSJobQueue) async throws -> SQSJobQueue {
                guard let found = try await queue.deadLetterQueue() else {
                    throw CLIError(description: "queue \(queue.name) has no redrive policy (dead-letter queue)", code: Exit.runtime)
                }
                return found
            }
            return FleetPorts(
                backend: .aws(client), intake: intake, intakeDLQ: try await dlq(intake), jobs: jobs, jobsDLQ: try await dlq(jobs),
                results: results, resultsDLQ: try await dlq(results), objects: S3ObjectStore(s3: S3Client(client: client)),
                decisions: DynamoDecisionStore(dynamo: DynamoDBClient(client: client), table: try required("REFVISION_TABLE")),
                rawBucket: try required("REFVISION_RAW_BUCKET"), annotatedBucket: try required("REFVISION_ANNOTATED_BUCKET"),
                environment: environment)
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}

/// Logging for the services: JSON lines on stderr (what ECS ships to CloudWatch Logs).
enum ServiceLogging {
    static func bootstrap(level: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Logger.Level {
        let text = (level ?? environment["REFVISION_LOG_LEVEL"] ?? "info").lowercased()
        guard let parsed = Logger.Level(rawValue: text) else {
            throw ValidationError("log level '\(text)' is not one of trace, debug, info, notice, warning, error, critical")
        }
        LoggingSystem.bootstrap { label in
            var handler = JSONLogHandler(label: label)
            handler.logLevel = parsed
            return handler
        }
        return parsed
    }
}

extension Exit {
    static let usage: Int32 = 64
}

/// Reads an integer/number environment variable with a clear error.
func environmentNumber(_ name: String, default value: Double, in range: ClosedRange<Double>,
                       environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Double {
    guard let text = environment[name], !text.isEmpty else { return value }
    guard let number = Double(text), range.contains(number) else {
        throw ValidationError("\(name)='\(text)' is not a number in \(range.lowerBound)...\(range.upperBound)")
    }
    return number
}
