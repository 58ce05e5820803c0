import ArgumentParser
import Foundation
import Scaling

/// `refvision scaling …`: tools for ops engineers who tune the worker fleet's scaling.
struct ScalingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scaling",
        abstract: "Worker fleet scaling tools.",
        subcommands: [ScalingSimulateCommand.self]
    )
}

/// `refvision scaling simulate`: replays a meet day (or a trace) against a scaling policy.
struct ScalingSimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Simulate the worker fleet's scaling on a meet day or an upload trace.",
        discussion: """
        Arrivals come from --trace (CSV lines `timestamp,duration_s`, timestamps in seconds or ISO-8601 with a \
        zone, duration_s = clip length) or from the built-in meet-day generator (the default). The policy is \
        the JSON of scaling/worker-policy.json; without --policy the deployed one is used. See scaling/README.md.
        """
    )

    // Arrivals
    @Option(name: .long, help: "CSV trace of uploads (timestamp,duration_s).")
    var trace: String?
    @Option(help: "Meet day: platforms.") var platforms = 3
    @Option(help: "Meet day: sessions.") var sessions = 2
    @Option(help: "Meet day: flights per session.") var flights = 2
    @Option(help: "Meet day: lifters per flight.") var lifters = 12
    @Option(name: .customLong("attempts-per-minute"), help: "Meet day: attempts per minute on one platform.")
    var attemptsPerMinute = 1.0
    @Option(help: "Meet day: cameras (uploads) per attempt.") var cameras = 2
    @Option(name: .customLong("break-minutes"), help: "Meet day: break between lifts (minutes).")
    var breakMinutes = 15.0
    @Option(name: .customLong("session-break-minutes"), help: "Meet day: break between sessions (minutes).")
    var sessionBreakMinutes = 60.0
    @Option(name: .customLong("start-hour"), help: "Meet day: hour of the first attempt (quiet night before).")
    var startHour = 9.0
    @Option(help: "Seed for the meet-day generator and random service times.") var seed: UInt64 = 1

    // Service time
    @Option(help: "Service time: clip[:s-per-clip-s] (default: the policy's measured time × clip length), fixed[:s], exp:mean, lognormal:mean,cv, uniform:a,b.")
    var service = "clip"

    // Policy
    @Option(help: "Policy JSON (default: the deployed scaling/worker-policy.json).") var policy: String?
    @Option(parsing: .upToNextOption, help: "Compare two policies on the same arrivals: --compare A B (`deployed` names the built-in one).")
    var compare: [String] = []
    @Option(name: .customLong("launch-type"), help: "Override the capacity: EC2 (inf2 capacity provider) or FARGATE (worker-cpu).")
    var launchType: String?

    // Environment
    @Option(name: .customLong("instance-price"), help: "USD per instance-hour (default 0.7582, inf2.xlarge on-demand us-east-1; 0 for Fargate).")
    var instancePrice: Double?
    @Option(name: .customLong("task-price"), help: "USD per task-hour (default 0 on EC2; 0.19748 = 4 vCPU/8 GiB Fargate us-east-1).")
    var taskPrice: Double?
    @Option(name: .customLong("dispatch-delay"), help: "Upload → job on the jobs queue, seconds.") var dispatchDelay = 2.0
    @Option(name: .customLong("alarm-delay"), help: "Metric datapoint → alarm action, seconds.") var alarmDelay = 60.0
    @Option(name: .customLong("sqs-metric-lag"), help: "Extra lag of the AWS/SQS metrics (wake and zero alarms), seconds.")
    var sqsMetricLag = 0.0
    @Option(name: .customLong("capacity-provider-reaction"), help: "Waiting tasks → instances launched, seconds.")
    var capacityProviderReaction = 60.0
    @Option(name: .customLong("initial-tasks"), help: "Tasks already running at the start.") var initialTasks = 0

    // Output
    @Flag(help: "Print the JSON summary.") var json = false
    @Option(help: "Write an SVG plot of queue depth, tasks and latency.") var plot: String?
    @Flag(help: "List every scaling action.") var actions = false
    @Option(help: "Write the per-minute timeline as CSV (with --compare: of the first policy).") var timeline: String?

    func validate() throws {
        if !compare.isEmpty, compare.count != 2 { throw ValidationError("--compare takes exactly two policies: --compare A B") }
        if !compare.isEmpty, policy != nil { throw ValidationError("use either --policy or --compare") }
        if let lt = launchType, !["EC2", "FARGATE"].contains(lt.uppercased()) {
            throw ValidationError("--launch-type must be EC2 or FARGATE")
        }
    }

    func run() throws {
        let uploads: [Upload]
        var startTime: Double?
        if let path = trace {
            uploads = try Trace.parse(try ScalingCLIFile.readText(path, limit: ScalingCLIFile.traceLimit, what: "trace")).uploads
        } else {
            var day = MeetDay()
            day.platforms = platforms
            day.sessions = sessions
            day.flightsPerSession = flights
            day.liftersPerFlight = lifters
            day.attemptsPerMinute = attemptsPerMinute
            day.camerasPerPlatform = cameras
            day.breakBetweenLiftsMinutes = breakMinutes
            day.breakBetweenSessionsMinutes = sessionBreakMinutes
            day.firstAttemptHour = startHour
            uploads = try day.generate(seed: seed)
            startTime = 0 // midnight: the quiet night is part of the day
        }

        let names = compare.isEmpty ? [policy ?? "deployed"] : compare
        var runs: [(String, ScalingPolicy, SimulationReport)] = []
        for name in names {
            var p = try loadPolicy(name)
            if let lt = launchType {
                p.capacityProvider.launchType = lt.uppercased() == "FARGATE" ? .fargate : .ec2
            }
            let model = try ServiceTimeModel.parse(service, policy: p)
            let jobs = Workload.jobs(for: uploads, service: model, seed: seed)
            var env = SimulationEnvironment(policy: p)
            if let v = instancePrice { env.instancePricePerHour = v }
            if let v = taskPrice { env.taskPricePerHour = v }
            env.dispatchDelaySeconds = dispatchDelay
            env.alarmDelaySeconds = alarmDelay
            env.sqsMetricLagSeconds = sqsMetricLag
            env.capacityProviderReactionSeconds = capacityProviderReaction
            env.initialTasks = initialTasks
            let report = try Simulator.run(jobs: jobs, policy: p, environment: env, startTime: startTime)
            runs.append((name, p, report))
        }

        if let path = plot {
            let series = runs.map { SVGPlot.Series(label: $0.0, report: $0.2) }
            let goal = runs.first?.1.targetTracking.acceptableLatencySeconds
            let svg: String
            if let file = trace {
                svg = SVGPlot.render(series, title: "refvision scaling: \(URL(fileURLWithPath: file).lastPathComponent)",
                                     acceptableLatency: goal, xLabel: "hours since the trace's first minute")
            } else {
                // Skip the quiet night: start the plot on the hour, at least 30 minutes before the first upload.
                let first = uploads.first?.time ?? 0
                let from = max(0, ((first - 1800) / 3600).rounded(.down) * 3600)
                svg = SVGPlot.render(series, title: "refvision scaling: simulated meet day (seed \(seed))",
                                     acceptableLatency: goal, from: from, xLabel: "hour of the meet day")
            }
            try ScalingCLIFile.write(svg, to: path)
        }

        if let path = timeline, let first = runs.first {
            try ScalingCLIFile.write(first.2.timelineCSV(), to: path)
        }

        if json {
            if runs.count == 2 {
                print("{\"a\":\(runs[0].2.json()),\"b\":\(runs[1].2.json())}")
            } else {
                print(runs[0].2.json())
            }
            return
        }
        if runs.count == 2 {
            print(compareTable((runs[0].0, runs[0].2), (runs[1].0, runs[1].2)), terminator: "")
        } else {
            print(runs[0].2.text(label: runs[0].0))
        }
        if actions {
            for (name, _, report) in runs {
                print("scaling actions (\(name)):")
                for a in report.actions {
                    print(String(format: "  %8.1f h  %3d → %3d  %@", (a.time - report.startTime) / 3600, a.from, a.to, a.cause.rawValue))
                }
            }
        }
    }

    private func loadPolicy(_ name: String) throws -> ScalingPolicy {
        if name == "deployed" { return try ScalingPolicy.deployed() }
        let text = try ScalingCLIFile.readText(name, limit: ScalingPolicy.maxDocumentBytes, what: "policy")
        return try ScalingPolicy.decode(text)
    }
}

/// File access for the scaling commands, bounded so a huge or endless file can't exhaust memory.
enum ScalingCLIFile {
    static let traceLimit = 256 << 20

    enum Failure: Error, CustomStringConvertible {
        case cannotOpen(path: String, what: String)
        case tooLarge(path: String, what: String, limit: Int)
        case cannotWrite(path: String, reason: String)

        var description: String {
            switch self {
            case let .cannotOpen(path, what): return "cannot open \(what) file \(path)"
            case let .tooLarge(path, what, limit): return "\(what) file \(path) is larger than \(limit >> 20) MiB"
            case let .cannotWrite(path, reason): return "cannot write \(path): \(reason)"
            }
        }
    }

    static func readText(_ path: String, limit: Int, what: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw Failure.cannotOpen(path: path, what: what) }
        defer { try? handle.close() }
        var data = Data()
        while data.count <= limit {
            let chunk: Data?
            do {
                chunk = try handle.read(upToCount: min(1 << 20, limit + 1 - data.count))
            } catch {
                throw Failure.cannotOpen(path: path, what: what)
            }
            guard let chunk, !chunk.isEmpty else { break }
            data.append(chunk)
        }
        if data.count > limit { throw Failure.tooLarge(path: path, what: what, limit: limit) }
        return String(decoding: data, as: UTF8.self)
    }

    static func write(_ text: String, to path: String) throws {
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw Failure.cannotWrite(path: path, reason: error.localizedDescription)
        }
    }
}
