import AWS
import ArgumentParser
import Embedded
import Fleet
import FleetAWS
import Foundation
import Logging
import ServiceSupport
import Synchronization

/// Where the fleet's state lives: `--data DIR` (embedded), else AWS when the environment names the
/// table, a queue or the coaches topic (as ECS passes them), else the embedded default `./var` (or
/// `REFVISION_DATA`).
struct FleetOptions: ParsableArguments {
    @Option(name: .customLong("data"), help: "Embedded data directory (default: REFVISION_DATA or ./var; AWS when REFVISION_TABLE, a REFVISION_*_QUEUE_URL or REFVISION_COACHES_TOPIC_ARN is set).")
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
        if case .aws(let client) = backend {
            try? await client.shutdown()
            OpenClients.release(client)
        }
    }

    static func open(_ options: FleetOptions, logger: Logger,
                     environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> FleetPorts {
        if options.data == nil, Self.awsSelected(environment) {
            return try await openAWS(logger: logger, environment: environment)
        }
        let directory = options.data ?? environment["REFVISION_DATA"].flatMap { $0.isEmpty ? nil : $0 } ?? "./var"
        return try openEmbedded(directory: directory, environment: environment)
    }

    /// AWS when the task definition names the fleet's table or any of its queues (each service gets the
    /// ones it uses; docs/configuration.md).
    static func awsSelected(_ environment: [String: String]) -> Bool {
        ["REFVISION_TABLE", "REFVISION_JOBS_QUEUE_URL", "REFVISION_INTAKE_QUEUE_URL", "REFVISION_RESULTS_QUEUE_URL",
         "REFVISION_COACHES_TOPIC_ARN"]
            .contains { !(environment[$0] ?? "").isEmpty }
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

    /// The AWS ports. Nothing is required here: a table, queue or bucket whose variable is unset fails
    /// with a clear error when it is used (the service factories check theirs at start-up),
    /// and each dead-letter queue is looked up from its queue's RedrivePolicy on first use, so a service
    /// needs neither the variables nor the IAM permissions of queues it never touches.
    static func openAWS(logger: Logger, environment: [String: String]) async throws -> FleetPorts {
        let client = try AWSClient.fromEnvironment(environment, logger: logger)
        OpenClients.keep(client)
        let sqs = SQSClient(client: client)
        func queue(_ variable: String) -> (any JobQueue, any JobQueue) {
            guard let url = environment[variable], !url.isEmpty else {
                let missing = UnconfiguredQueue(variable: variable)
                return (missing, missing)
            }
            let queue = SQSJobQueue(sqs: sqs, queueURL: url)
            return (queue, LazyDeadLetterQueue(queue: queue))
        }
        let table = environment["REFVISION_TABLE"] ?? ""
        let decisions: any DecisionStore = table.isEmpty
            ? UnconfiguredDecisionStore() : DynamoDecisionStore(dynamo: DynamoDBClient(client: client), table: table)
        let (intake, intakeDLQ) = queue("REFVISION_INTAKE_QUEUE_URL")
        let (jobs, jobsDLQ) = queue("REFVISION_JOBS_QUEUE_URL")
        let (results, resultsDLQ) = queue("REFVISION_RESULTS_QUEUE_URL")
        return FleetPorts(
            backend: .aws(client), intake: intake, intakeDLQ: intakeDLQ, jobs: jobs, jobsDLQ: jobsDLQ,
            results: results, resultsDLQ: resultsDLQ, objects: S3ObjectStore(s3: S3Client(client: client)),
            decisions: decisions,
            rawBucket: environment["REFVISION_RAW_BUCKET"] ?? "", annotatedBucket: environment["REFVISION_ANNOTATED_BUCKET"] ?? "",
            environment: environment)
    }

    /// Start-up checks of a service: the variables of what it uses are set, and the dead-letter queues it
    /// sends to exist (a missing redrive policy is found now, not at the first bad message).
    func require(queues: [any JobQueue] = [], deadLetters: [any JobQueue] = [], buckets: [(String, String)] = [],
                 table: Bool = true) async throws {
        if table && decisions is UnconfiguredDecisionStore {
            throw CLIError.notSet("REFVISION_TABLE")
        }
        for queue in queues + deadLetters {
            if let missing = queue as? UnconfiguredQueue {
                throw CLIError.notSet(missing.variable)
            }
        }
        for (variable, value) in buckets where value.isEmpty {
            throw CLIError.notSet(variable)
        }
        for dlq in deadLetters {
            if let lazy = dlq as? LazyDeadLetterQueue { _ = try await lazy.resolved() }
        }
    }
}

/// The AWS clients the commands opened. A command that fails reports and exits (`failAndExit`) without
/// unwinding to its `shutdown()`; holding the client here keeps its HTTP client from being deinitialised
/// un-shut-down on the way (AsyncHTTPClient traps on that) before the process exits.
enum OpenClients {
    private static let clients = Mutex<[ObjectIdentifier: AWSClient]>([:])
    static func keep(_ client: AWSClient) { clients.withLock { $0[ObjectIdentifier(client)] = client } }
    static func release(_ client: AWSClient) { _ = clients.withLock { $0.removeValue(forKey: ObjectIdentifier(client)) } }
}

/// The decision store when `REFVISION_TABLE` is not set (e.g. `refvision coaches` with only the topic).
struct UnconfiguredDecisionStore: DecisionStore {
    var error: CLIError { .notSet("REFVISION_TABLE") }
    func create(_ record: DecisionRecord) async throws -> Bool { throw error }
    func get(jobId: String) async throws -> DecisionRecord? { throw error }
    func update(_ record: DecisionRecord, expectedRevision: Int) async throws { throw error }
    func list(meet: String?, limit: Int) async throws -> [DecisionRecord] { throw error }
}

/// A queue whose variable is not set: every use is a configuration error naming the variable.
struct UnconfiguredQueue: JobQueue {
    let variable: String
    var name: String { variable }
    var error: CLIError { .notSet(variable) }
    func send(_ messages: [OutgoingMessage]) async throws -> [BatchEntryFailure] { throw error }
    func receive(maxMessages: Int, waitSeconds: Int, visibilityTimeout: Int?) async throws -> [QueueMessage] { throw error }
    func delete(receiptHandle: String) async throws { throw error }
    func deleteBatch(_ receiptHandles: [(id: String, receiptHandle: String)]) async throws -> [BatchEntryFailure] { throw error }
    func changeVisibility(receiptHandle: String, seconds: Int) async throws { throw error }
    func depth() async throws -> QueueDepth { throw error }
}

/// The dead-letter queue of an SQS queue, found from its RedrivePolicy on first use and kept.
final class LazyDeadLetterQueue: JobQueue, Sendable {
    let queue: SQSJobQueue
    private let found = Mutex<SQSJobQueue?>(nil)

    init(queue: SQSJobQueue) { self.queue = queue }

    var name: String { found.withLock { $0?.name } ?? "\(queue.name) DLQ" }

    func resolved() async throws -> SQSJobQueue {
        if let known = found.withLock({ $0 }) { return known }
        guard let dlq = try await queue.deadLetterQueue() else {
            throw CLIError(description: "queue \(queue.name) has no redrive policy (dead-letter queue)", code: Exit.runtime)
        }
        found.withLock { $0 = dlq }
        return dlq
    }

    func send(_ messages: [OutgoingMessage]) async throws -> [BatchEntryFailure] { try await resolved().send(messages) }
    func receive(maxMessages: Int, waitSeconds: Int, visibilityTimeout: Int?) async throws -> [QueueMessage] {
        try await resolved().receive(maxMessages: maxMessages, waitSeconds: waitSeconds, visibilityTimeout: visibilityTimeout)
    }
    func delete(receiptHandle: String) async throws { try await resolved().delete(receiptHandle: receiptHandle) }
    func deleteBatch(_ receiptHandles: [(id: String, receiptHandle: String)]) async throws -> [BatchEntryFailure] {
        try await resolved().deleteBatch(receiptHandles)
    }
    func changeVisibility(receiptHandle: String, seconds: Int) async throws {
        try await resolved().changeVisibility(receiptHandle: receiptHandle, seconds: seconds)
    }
    func depth() async throws -> QueueDepth { try await resolved().depth() }
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

extension CLIError {
    /// A configuration variable the command needs is unset (exit 64).
    static func notSet(_ variable: String) -> CLIError {
        CLIError(description: "\(variable) is not set (see docs/configuration.md)", code: Exit.usage)
    }
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
