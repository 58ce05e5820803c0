import ArgumentParser
import Dispatcher
import AWSSigner
import Embedded
import Fleet
import Foundation
import Logging
import ServiceLifecycle
import ServiceSupport
import Worker
import Notifier
import ReplayServer

/// `refvision run`: the whole fleet in one process on the embedded parts.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the whole fleet on this machine: watch DIR/raw, judge every video, write replays to DIR/annotated.",
        discussion: """
            DIR (default ./var) holds raw/ (drop videos here; sub-folders follow MEET/ATHLETE/LIFT-ATTEMPT.EXT), \
            annotated/ (replays), outbox/ (one .eml per decision and recipient: see `refvision coaches`), secrets/ \
            (generated link and dashboard keys), scratch/ and state.sqlite (queues, decisions, coaches). The replay \
            service answers on --http; each decision is printed with its signed link. Killed at any point, a new `run` \
            on the same DIR finishes what was in flight; nothing is judged or mailed twice. Ctrl-C stops gracefully \
            (the running job finishes or is released).
            """)

    @Option(name: .customLong("data"), help: "Data directory (default: REFVISION_DATA or ./var).")
    var data: String?

    @Option(help: "Worker slots (each loads its own pose model).")
    var workers = 1

    @Flag(name: .customLong("until-idle"), help: "Stop once every video in raw/ is decided.")
    var untilIdle = false

    @Flag(help: "Print the final status as JSON (with --until-idle).")
    var json = false

    @Option(name: .customLong("log-level"), help: "Service log level on stderr (default warning).")
    var logLevel = "warning"

    @Option(name: .customLong("visibility-timeout"), help: "Seconds a job stays hidden while a worker has it (heartbeats extend it).")
    var visibilityTimeout = 60

    @Option(help: "Serve the replay pages on HOST:PORT (links in the outbox point here).")
    var http = HTTPAddress(host: "127.0.0.1", port: 8080)

    @Flag(name: .customLong("no-http"), help: "Don't serve the replay pages.")
    var noHTTP = false

    func validate() throws {
        guard (1...16).contains(workers) else { throw ValidationError("--workers must be 1...16") }
        guard (2...43_200).contains(visibilityTimeout) else { throw ValidationError("--visibility-timeout must be 2...43200") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level: trace, debug, info, notice, warning, error, critical") }
        guard http.port != 0 else { throw ValidationError("--http needs a port (the links in e-mails name it)") }
    }

    func run() async throws {
        do {
            try await runFleet()
        } catch {
            failAndExit(error)
        }
    }

    func runFleet() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .warning
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let environment = ProcessInfo.processInfo.environment
        let directory = data ?? environment["REFVISION_DATA"].flatMap { $0.isEmpty ? nil : $0 } ?? "./var"
        let ports = try FleetPorts.openEmbedded(directory: directory, environment: environment)
        guard case .embedded(let root, let state) = ports.backend else { return }
        var env = environment
        env["REFVISION_HEARTBEAT_FILE"] = env["REFVISION_HEARTBEAT_FILE"] ?? (root as NSString).appendingPathComponent("heartbeat")
        let logger = Logger(label: "refvision.run")

        FileHandle.standardOutput.write(Data(
            "refvision run: watching \((root as NSString).appendingPathComponent("raw")) with \(workers) worker slot(s)\n".utf8))
        let dispatcher = try makeDispatcher(ports, logger: Logger(label: "refvision.dispatcher"), environment: env, embeddedWorkers: workers)
        let worker = try makeWorker(ports, slots: workers, visibilityTimeout: visibilityTimeout,
                                    logger: Logger(label: "refvision.worker"), environment: env)
        let baseURL = env["REFVISION_REPLAY_BASE_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? "http://\(http.host):\(http.port)"
        let links = try ports.linkProvider(baseURL: baseURL)
        let notifier = try makeNotifier(ports, logger: Logger(label: "refvision.notifier"), baseURL: baseURL)
        let monitor = FleetMonitor(ports: ports, state: state, untilIdle: untilIdle, links: links, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: dispatcher),
            .init(service: worker),
            .init(service: notifier),
            .init(service: monitor, successTerminationBehavior: .gracefullyShutdownGroup),
        ]
        if !noHTTP {
            let replay = try makeReplayService(ports, logger: Logger(label: "refvision.replay"))
            let app = ReplayHTTPServer.application(service: replay, host: http.host, port: http.port) { bound in
                FileHandle.standardOutput.write(Data("replay service on http://\(http.host):\(bound) (meet pages: /meets/MEET, user and password in \((root as NSString).appendingPathComponent("secrets/dashboard-auth.json")))\n".utf8))
            }
            services.append(.init(service: OptionalService(app, what: "replay service on \(http.host):\(http.port)", logger: logger)))
        }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()

        let report = try await fleetStatus(ports)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else if untilIdle {
            print("")
            printStatusTable(report)
            if !noHTTP { print("\nThe replay links work while a replay service runs: refvision replay --data \(root) --http \(http.host):\(http.port)") }
        }
    }
}

/// Watches raw/ (as S3 → EventBridge would), prints each decision as it lands, and with `--until-idle`
/// ends the run when nothing is left to do.
final class FleetMonitor: Service, Sendable {
    let ports: FleetPorts
    let state: EmbeddedState
    let untilIdle: Bool
    let links: (any ReplayLinkProvider)?
    let logger: Logger

    init(ports: FleetPorts, state: EmbeddedState, untilIdle: Bool, links: (any ReplayLinkProvider)? = nil, logger: Logger) {
        self.ports = ports
        self.state = state
        self.untilIdle = untilIdle
        self.links = links
        self.logger = logger
    }

    func run() async throws {
        guard let store = ports.objects as? DirectoryObjectStore else { return }
        let watcher = DirectoryWatcher(state: state, store: store, bucket: ports.rawBucket)
        var printed = Set<String>()
        for record in try await ports.decisions.list(meet: nil, limit: 100_000) where record.state.isTerminal {
            printed.insert(record.jobId)
        }
        var sweptStuck = false
        var idleTicks = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            // 1. New or changed files in raw/ become "Object Created" events on the intake queue.
            // Acknowledged only once sent: a crash in between reports them again (at least once).
            let found = try watcher.scan(acknowledge: false)
            for object in found {
                try await ports.intake.send(body: try Self.objectCreatedEvent(object))
            }
            if !found.isEmpty { try watcher.acknowledge(found) }
            // 2. Decisions that landed since the last look.
            let records = try await ports.decisions.list(meet: nil, limit: 100_000)
            for record in records.reversed() where record.state.isTerminal && !printed.contains(record.jobId) {
                printed.insert(record.jobId)
                let link = try? await links?.link(for: record, now: Date())
                Self.printDecision(record, objects: ports.objects, link: link?.url)
            }
            // 3. Idle? Nothing waiting on the intake or jobs queue, and the watcher has nothing pending.
            if untilIdle {
                let intake = try await ports.intake.depth()
                let jobs = try await ports.jobs.depth()
                let results = try await ports.results.depth()
                let stuck = records.contains { $0.state == .queued }
                if intake.total == 0 && jobs.total == 0 && results.total == 0 && found.isEmpty {
                    if stuck && !sweptStuck {
                        // A job claimed but never sent (a crash between the two): a sweep re-sends it.
                        sweptStuck = true
                        try await ports.intake.send(body: Self.scheduledEvent())
                        idleTicks = 0
                    } else {
                        // Idle for longer than the watcher's settle interval (2 s): no file is still arriving.
                        idleTicks += 1
                        if idleTicks >= 6 { return }
                    }
                } else {
                    idleTicks = 0
                }
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(500)) }
        }
    }

    static func printDecision(_ record: DecisionRecord, objects: any ObjectStore, link: String? = nil) {
        let verdict: String
        switch record.state {
        case .failed: verdict = "FAILED (\(record.failure ?? "error"))"
        default: verdict = (record.decision ?? record.state.rawValue).replacingOccurrences(of: "_", with: " ").uppercased()
        }
        var line = "\(verdict.padding(toLength: 22, withPad: " ", startingAt: 0)) \(record.key)"
        if let reason = record.reason, !reason.isEmpty { line += "\n    \(reason)" }
        if let key = record.replayKey { line += "\n    replay: \(objects.location(bucket: record.replayBucket ?? "", key: key))" }
        if let link { line += "\n    link:   \(link)" }
        // Unbuffered, so a pipe (make run | tee) sees each decision as it lands.
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// The EventBridge `Object Created` event S3 would send for `object` (keys URL-encoded as S3 does).
    static func objectCreatedEvent(_ object: StoredObject) throws -> String {
        let encodedKey = AWSURIEncoding.encode(object.key, keepSlash: true).replacingOccurrences(of: "%20", with: "+")
        var objectInfo: [String: Any] = ["key": encodedKey, "size": object.size]
        if let eTag = object.eTag { objectInfo["etag"] = eTag }
        let event: [String: Any] = [
            "version": "0", "source": "aws.s3", "detail-type": "Object Created", "time": AWSDate.formatISO8601(Date()),
            "detail": ["version": "0", "bucket": ["name": object.bucket], "object": objectInfo, "reason": "PutObject"],
        ]
        return String(decoding: try JSONSerialization.data(withJSONObject: event, options: [.sortedKeys]), as: UTF8.self)
    }

    static func scheduledEvent() -> String {
        "{\"version\":\"0\",\"source\":\"aws.events\",\"detail-type\":\"Scheduled Event\",\"time\":\"\(AWSDate.formatISO8601(Date()))\",\"detail\":{}}"
    }
}

/// Runs a service whose failure must not stop the others (the replay server in `run`: a busy port is
/// a warning, not the end of the judging).
struct OptionalService: Service {
    let service: any Service
    let what: String
    let logger: Logger

    init(_ service: any Service, what: String, logger: Logger) {
        self.service = service
        self.what = what
        self.logger = logger
    }

    func run() async throws {
        do {
            try await service.run()
        } catch {
            if Task.isCancelled || Task.isShuttingDownGracefully { return }
            FileHandle.standardError.write(Data("warning: \(what) did not start: \(error) (use --http HOST:PORT or --no-http)\n".utf8))
            try? await gracefulShutdown()
        }
    }
}
