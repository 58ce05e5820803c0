import AWS
import ArgumentParser
import AsyncHTTPClient
import Dispatcher
import Embedded
import Fleet
import FleetAWS
import Foundation
import Logging
import Pose
import ServiceLifecycle
import ServiceSupport
import Worker

/// `refvision dispatcher`: intake events → one job per object version (docs/architecture.md).
struct DispatcherCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dispatcher",
        abstract: "Run the dispatcher service: S3/EventBridge/submit events → judging jobs.",
        discussion: "Runs until SIGTERM or SIGINT. Logs are JSON lines on stderr.")

    @OptionGroup var fleet: FleetOptions

    func run() async throws {
        do {
            _ = try ServiceLogging.bootstrap(level: fleet.logLevel)
            let logger = Logger(label: "refvision.dispatcher")
            let ports = try await FleetPorts.open(fleet, logger: logger)
            try await ports.require(queues: [ports.intake, ports.jobs], deadLetters: [ports.intakeDLQ],
                                    buckets: [("REFVISION_RAW_BUCKET", ports.rawBucket)])
            let dispatcher = try makeDispatcher(ports, logger: logger, environment: ports.environment)
            let group = ServiceGroup(configuration: .init(
                services: [.init(service: dispatcher)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
            await ports.shutdown()
        } catch {
            failAndExit(error)
        }
    }
}

func makeDispatcher(_ ports: FleetPorts, logger: Logger, environment: [String: String], embeddedWorkers: Int = 0) throws -> Dispatcher {
    var configuration = DispatcherConfiguration(rawBucket: ports.rawBucket)
    configuration.metricsIntervalSeconds = try environmentNumber("REFVISION_METRICS_INTERVAL_SECONDS", default: 60, in: 1...3600)
    configuration.rules.maximumBytes = Int64(try environmentNumber("REFVISION_MAX_UPLOAD_BYTES", default: Double(2 << 30), in: 1...1e13))
    configuration.rules.prefix = environment["REFVISION_RAW_PREFIX"] ?? ""
    let heartbeat = Heartbeat(path: environment["REFVISION_HEARTBEAT_FILE"] ?? "/tmp/refvision/heartbeat")
    var fleetSize: (any FleetSizeSource)?
    var metrics: (any ScalingMetricsSink)?
    switch ports.backend {
    case .aws(let client):
        if let cluster = environment["REFVISION_ECS_CLUSTER"], let service = environment["REFVISION_WORKER_SERVICE"],
           !cluster.isEmpty, !service.isEmpty {
            fleetSize = ECSFleetSize(ecs: ECSClient(client: client), cluster: cluster, service: service)
            metrics = CloudWatchScalingMetrics(
                cloudWatch: CloudWatchClient(client: client), namespace: environment["REFVISION_METRICS_NAMESPACE"] ?? "Refvision",
                cluster: cluster, service: service)
        } else {
            logger.warning("REFVISION_ECS_CLUSTER/REFVISION_WORKER_SERVICE not set: scaling metrics are not published")
        }
    case .embedded:
        configuration.staleQueuedSeconds = 10
        fleetSize = FixedFleetSize(count: embeddedWorkers)
        metrics = LoggedScalingMetrics(logger: logger)
    }
    return Dispatcher(
        configuration: configuration, intake: ports.intake, intakeDeadLetter: ports.intakeDLQ, jobs: ports.jobs,
        objects: ports.objects, decisions: ports.decisions, fleetSize: fleetSize, metrics: metrics, heartbeat: heartbeat,
        logger: logger)
}

/// Embedded: the fleet is the workers in this process.
struct FixedFleetSize: FleetSizeSource {
    let count: Int
    func workerCounts() async throws -> (running: Int, desired: Int) { (count, count) }
}

/// Embedded: the scaling metrics as a log line (there is nothing to scale on one machine).
struct LoggedScalingMetrics: ScalingMetricsSink {
    let logger: Logger
    func publish(backlogPerTask: Int, desiredTasks: Int, visible: Int) async throws {
        logger.debug("scaling metrics", metadata: ["BacklogPerTask": "\(backlogPerTask)", "DesiredTasks": "\(desiredTasks)", "visible": "\(visible)"])
    }
}

/// `refvision worker`: jobs → decisions.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run a worker: long-poll the jobs queue, judge each video, record the decision.",
        discussion: """
            Runs until SIGTERM or SIGINT: then it stops receiving, finishes the running job if it fits in the drain \
            time (REFVISION_DRAIN_SECONDS, default 100), or releases it to another worker. Logs are JSON lines on stderr; \
            metrics are CloudWatch EMF lines on stdout.
            """)

    @OptionGroup var fleet: FleetOptions

    @Option(help: "Jobs processed at the same time (default: REFVISION_WORKER_SLOTS or 1).")
    var slots: Int?

    @Option(name: .customLong("visibility-timeout"), help: "Seconds a received job stays hidden; heartbeats extend it (default: REFVISION_VISIBILITY_TIMEOUT or 300 on AWS, 60 embedded).")
    var visibilityTimeout: Int?

    func run() async throws {
        do {
            _ = try ServiceLogging.bootstrap(level: fleet.logLevel)
            let logger = Logger(label: "refvision.worker")
            let ports = try await FleetPorts.open(fleet, logger: logger)
            try await ports.require(queues: [ports.jobs, ports.results], buckets: [("REFVISION_ANNOTATED_BUCKET", ports.annotatedBucket)])
            let slotCount = try slots ?? Int(environmentNumber("REFVISION_WORKER_SLOTS", default: 1, in: 1...64))
            guard (1...64).contains(slotCount) else { throw ValidationError("--slots must be 1...64") }
            let worker = try makeWorker(ports, slots: slotCount, visibilityTimeout: visibilityTimeout, logger: logger,
                                        environment: ports.environment)
            let group = ServiceGroup(configuration: .init(
                services: [.init(service: worker)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
            await ports.shutdown()
        } catch {
            failAndExit(error)
        }
    }
}

func makeWorker(_ ports: FleetPorts, slots: Int, visibilityTimeout: Int?, logger: Logger, environment: [String: String],
                onOutcome: @escaping @Sendable (JobMessage?, JobOutcome) -> Void = { _, _ in }) throws -> Worker {
    let scratch = environment["REFVISION_SCRATCH_DIR"]
        ?? ports.dataDirectory.map { ($0 as NSString).appendingPathComponent("scratch") } ?? "/tmp/refvision/scratch"
    var configuration = WorkerConfiguration(annotatedBucket: ports.annotatedBucket, scratchDirectory: scratch)
    configuration.visibilityTimeoutSeconds = try visibilityTimeout
        ?? Int(environmentNumber("REFVISION_VISIBILITY_TIMEOUT", default: ports.isEmbedded ? 60 : 300, in: 2...43_200))
    guard (2...43_200).contains(configuration.visibilityTimeoutSeconds) else { throw ValidationError("--visibility-timeout must be 2...43200") }
    configuration.drainSeconds = try environmentNumber("REFVISION_DRAIN_SECONDS", default: 100, in: 0...3600)
    configuration.receiveWaitSeconds = Int(try environmentNumber("REFVISION_RECEIVE_WAIT_SECONDS", default: 20, in: 0...20))
    configuration.metricsNamespace = environment["REFVISION_METRICS_NAMESPACE"] ?? "Refvision"
    let models = environment["REFVISION_MODELS_DIR"] ?? ModelLocator.defaultDirectory()
    let threads = max(1, ProcessInfo.processInfo.activeProcessorCount / slots)
    let judges: [any LiftJudge] = (0..<slots).map { _ in PipelineLiftJudge(modelsDirectory: models, threads: threads) }
    for judge in judges {
        do {
            try (judge as? PipelineLiftJudge)?.warmUp()
        } catch {
            throw CLIError(description: "cannot load the pose model from \(models): \(error)", code: Exit.runtime)
        }
    }
    var protector: (any TaskProtector)?
    if case .aws(let client) = ports.backend, let agent = environment["ECS_AGENT_URI"], !agent.isEmpty {
        protector = ECSAgentTaskProtector(client: ECSTaskProtectionClient(agentURI: agent, httpClient: client.httpClient))
    }
    let metrics: EMFWriter? = ports.isEmbedded ? nil : EMFWriter()
    return Worker(
        configuration: configuration, jobs: ports.jobs, results: ports.results, objects: ports.objects,
        decisions: ports.decisions, judges: judges, protector: protector, metrics: metrics,
        heartbeat: Heartbeat(path: environment["REFVISION_HEARTBEAT_FILE"] ?? "/tmp/refvision/heartbeat"), logger: logger,
        onOutcome: onOutcome)
}

/// `refvision health`: the containers' health check (the runtime image has no curl).
struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Exit 0 if the service is healthy: its heartbeat file is fresh, or its URL answers 200.")

    @Option(help: "Heartbeat file the service touches from its main loop.")
    var heartbeat: String?

    @Option(name: .customLong("max-age"), help: "Seconds the heartbeat may be old.")
    var maxAge: Double = 90

    @Option(help: "URL that must answer 200 (e.g. http://127.0.0.1:8080/healthz).")
    var url: String?

    @Option(help: "Seconds to wait for the URL.")
    var timeout: Double = 5

    func validate() throws {
        guard (heartbeat == nil) != (url == nil) else { throw ValidationError("give exactly one of --heartbeat FILE or --url URL") }
        guard maxAge > 0, timeout > 0 else { throw ValidationError("--max-age and --timeout must be positive") }
    }

    func run() async throws {
        if let heartbeat {
            guard let age = Heartbeat.age(of: heartbeat) else {
                print("unhealthy: no heartbeat file \(heartbeat)")
                throw ExitCode(1)
            }
            guard age <= maxAge else {
                print(String(format: "unhealthy: heartbeat is %.0f s old (max %.0f s)", age, maxAge))
                throw ExitCode(1)
            }
            print(String(format: "healthy: heartbeat %.0f s old", age))
            return
        }
        guard let url, let parsed = URL(string: url), parsed.scheme == "http" || parsed.scheme == "https" else {
            throw ValidationError("--url must be an http(s) URL")
        }
        let status = await HTTPProbe.status(of: url, timeout: timeout)
        guard status == 200 else {
            print("unhealthy: \(url) answered \(status.map(String.init) ?? "nothing")")
            throw ExitCode(1)
        }
        print("healthy: \(url) answered 200")
    }
}

enum HTTPProbe {
    static func status(of url: String, timeout: Double) async -> Int? {
        let client = AWSClient.makeHTTPClient()
        var status: Int?
        do {
            let response = try await client.execute(HTTPClientRequest(url: url), timeout: .milliseconds(Int64(timeout * 1000)))
            status = Int(response.status.code)
        } catch {
            status = nil
        }
        try? await client.shutdown()
        return status
    }
}
