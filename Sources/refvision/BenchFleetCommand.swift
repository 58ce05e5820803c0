import AWS
import ArgumentParser
import Dispatcher
import Embedded
import Fleet
import FleetAWS
import Foundation
import Logging
import Pose
import Worker

/// `make bench`: jobs per hour per worker on one clip through the real fleet (dispatcher + one worker
/// slot, embedded or on moto), AWS requests per job and per idle worker-minute. JSON on stdout.
struct BenchFleetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-fleet", abstract: "Fleet throughput and AWS request counts (JSON).", shouldDisplay: false)

    @Argument(help: "The clip every job judges.") var clip: String
    @Option(help: "Jobs to run.") var jobs = 3
    @Option(help: "embedded, or the URL of a moto_server (resources are created with unique names).") var backend = "embedded"
    @Option(name: .customLong("idle-seconds"), help: "How long to watch an idle worker (AWS only; one minute minus a second, so the poll that starts at 60 s is not counted).") var idleSeconds = 59.0

    struct Result: Codable {
        var backend: String
        var jobs: Int
        var wallSeconds: Double
        var secondsPerJob: Double
        var jobsPerHourPerWorker: Double
        var requestsPerJob: Double?
        var requestsPerJobByOperation: [String: Double]?
        var idleRequestsPerWorkerMinute: Double?
        var decisions: [String]
    }

    func run() async throws {
        do {
            try await measure()
        } catch {
            failAndExit(error)
        }
    }

    func measure() async throws {
        var logger = Logger(label: "refvision.bench")
        logger.logLevel = .error
        let temp = FileManager.default.temporaryDirectory.appendingPathComponent("refvision-bench-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: temp) }
        let ports: FleetPorts
        if backend == "embedded" {
            ports = try FleetPorts.openEmbedded(directory: temp + "/var", environment: [:])
        } else {
            ports = try await Self.motoFleet(endpoint: backend, logger: logger)
        }
        defer { Task { await ports.shutdown() } }

        // Upload and dispatch every job first (not timed): the worker is what is measured.
        for i in 0..<jobs {
            let key = "bench/lifter-\(i)/squat-1.mp4"
            try await ports.objects.upload(file: clip, bucket: ports.rawBucket, key: key, contentType: "video/mp4", metadata: [:])
            try await ports.intake.send(body: try SubmitRequest(bucket: ports.rawBucket, key: key).eventBody())
        }
        var dispatcherConfiguration = DispatcherConfiguration(rawBucket: ports.rawBucket)
        dispatcherConfiguration.receiveWaitSeconds = 1
        let dispatcher = Dispatcher(configuration: dispatcherConfiguration, intake: ports.intake, intakeDeadLetter: ports.intakeDLQ,
                                    jobs: ports.jobs, objects: ports.objects, decisions: ports.decisions, logger: logger)
        var sent = 0
        while sent < jobs {
            let report = try await dispatcher.pollOnce(waitSeconds: 1)
            sent += report.jobsSent
            if report == DispatchReport(), try await ports.intake.depth().total == 0 { break }
        }

        let judge = PipelineLiftJudge(modelsDirectory: ModelLocator.defaultDirectory(), threads: ProcessInfo.processInfo.activeProcessorCount)
        try judge.warmUp()
        var configuration = WorkerConfiguration(annotatedBucket: ports.annotatedBucket, scratchDirectory: temp + "/scratch")
        configuration.receiveWaitSeconds = 20
        let worker = Worker(configuration: configuration, jobs: ports.jobs, results: ports.results, objects: ports.objects,
                            decisions: ports.decisions, judges: [judge], logger: logger)
        let counter: AWSRequestCounter? = if case .aws(let client) = ports.backend { client.requests } else { nil }
        counter?.reset()
        let clock = ContinuousClock()
        let start = clock.now
        var decisions: [String] = []
        for _ in 0..<jobs {
            guard let message = try await ports.jobs.receive(maxMessages: 1, waitSeconds: 20, visibilityTimeout: nil).first else { break }
            decisions.append("\(await worker.process(message))")
        }
        let elapsed = (clock.now - start).components
        let wall = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
        var result = Result(
            backend: backend == "embedded" ? "embedded" : "moto", jobs: decisions.count, wallSeconds: wall,
            secondsPerJob: wall / Double(max(1, decisions.count)),
            jobsPerHourPerWorker: Double(decisions.count) / wall * 3600, decisions: decisions)
        if let counter {
            let counts = counter.snapshot()
            result.requestsPerJob = Double(counts.values.reduce(0, +)) / Double(max(1, decisions.count))
            result.requestsPerJobByOperation = counts.mapValues { Double($0) / Double(max(1, decisions.count)) }
            // An idle worker: the real service loop on an empty queue.
            counter.reset()
            let idle = Task { try await worker.run() }
            try await Task.sleep(for: .seconds(idleSeconds))
            idle.cancel()
            _ = try? await idle.value
            // Requests an idle worker makes in one minute (the window ends just before the poll due at 60 s).
            result.idleRequestsPerWorkerMinute = Double(counter.total) * 60 / (idleSeconds + 1)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(result), as: UTF8.self))
    }

    /// A fresh fleet on moto (`FleetResources`).
    static func motoFleet(endpoint: String, logger: Logger) async throws -> FleetPorts {
        let name = "bench" + UUID().uuidString.prefix(6).lowercased()
        let configuration = try AWSConfiguration.local(endpoint: endpoint, region: "us-east-1")
        let client = AWSClient(configuration: configuration, credentialProvider: StaticCredentialProvider(
            AWSCredentials(accessKeyId: "testing", secretAccessKey: "testing")), logger: logger)
        let resources = try await FleetResources.create(client: client, name: name)
        try await client.shutdown()
        var environment = resources.environment
        environment.merge(["AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                           "AWS_REGION": "us-east-1"]) { _, new in new }
        return try await FleetPorts.openAWS(logger: logger, environment: environment)
    }
}
