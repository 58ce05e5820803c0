import Fleet
import FleetFixtures
import Foundation
import Testing
import TestSupport

/// The built binary, run as ECS (or a user) runs it.
enum Binary {
    static let path = TestPaths.repo.appendingPathComponent(".build/debug/refvision").path
    static var available: Bool { TestPaths.exists(path) }
}

/// A `refvision` subprocess with its output captured to files.
final class Subprocess: @unchecked Sendable {
    let process = Process()
    let stdout: String
    let stderr: String

    init(_ arguments: [String], environment: [String: String], logs: TempDir, name: String) throws {
        stdout = logs.path("\(name).out")
        stderr = logs.path("\(name).err")
        FileManager.default.createFile(atPath: stdout, contents: nil)
        FileManager.default.createFile(atPath: stderr, contents: nil)
        process.executableURL = URL(fileURLWithPath: Binary.path)
        process.arguments = arguments
        process.environment = environment
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdout))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderr))
        try process.run()
    }

    func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits for the exit (up to `seconds`); returns the status, or nil if it is still running.
    func wait(seconds: Double) async -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(100)) }
        return process.isRunning ? nil : process.terminationStatus
    }

    var errorText: String { (try? String(contentsOfFile: stderr, encoding: .utf8)) ?? "" }
    var outputText: String { (try? String(contentsOfFile: stdout, encoding: .utf8)) ?? "" }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}

@Suite("Worker processes killed and stopped, on both backends", .serialized,
       .enabled(if: LiftClips.available && Binary.available, "needs .build/debug/refvision, ../shared/fixtures/lifts, the models and ffmpeg"))
struct ProcessTests {
    /// Waits until the job's record is `processing` under some worker's lease.
    func waitForProcessing(_ fleet: TestFleet, jobId: String) async throws {
        try await eventually("job processing", seconds: 120, every: 0.05) {
            try await fleet.decisions.get(jobId: jobId)?.state == .processing
        }
    }

    /// Uploads the squat clip under `key`, dispatches it and returns its job id.
    func dispatchClip(_ fleet: TestFleet, key: String) async throws -> String {
        try await fleet.upload(try LiftClips.goodSquat(in: fleet.temp), key: key)
        try await fleet.intake.send(body: eventBridgeEvent(bucket: fleet.rawBucket, key: key))
        _ = try await dispatchAll(makeDispatcher(fleet), fleet)
        #expect(try await fleet.jobs.depth().visible == 1)
        return try #require(try await fleet.decisions.list(meet: "m", limit: 1).first).jobId
    }

    /// Starts a worker on the fleet with `REFVISION_DRAIN_SECONDS = drain`, waits until it holds `jobId`, sends SIGTERM.
    func stopMidJob(_ fleet: TestFleet, jobId: String, drain: Int, visibility: Int) async throws -> Subprocess {
        var environment = fleet.environment
        environment["REFVISION_DRAIN_SECONDS"] = String(drain)
        let worker = try Subprocess(workerArguments(fleet, visibility: visibility), environment: environment, logs: fleet.temp, name: "w")
        try await waitForProcessing(fleet, jobId: jobId)
        worker.signal(SIGTERM)
        return worker
    }

    func workerArguments(_ fleet: TestFleet, visibility: Int) -> [String] {
        ["worker"] + fleet.backendArguments + ["--visibility-timeout", String(visibility)]
    }

    @Test(arguments: Backend.available)
    func killMinus9MidJobIsRedeliveredAndDecidedExactlyOnce(backend: Backend) async throws {
        let visibility = 6
        let fleet = try await TestFleet.make(backend, jobsVisibility: visibility)
        defer { Task { await fleet.close() } }
        let jobId = try await dispatchClip(fleet, key: "m/a/squat-1.mp4")
        var environment = fleet.environment
        environment["REFVISION_RECEIVE_WAIT_SECONDS"] = "1"

        let first = try Subprocess(workerArguments(fleet, visibility: visibility), environment: environment, logs: fleet.temp, name: "w1")
        try await waitForProcessing(fleet, jobId: jobId)
        first.signal(SIGKILL)
        _ = await first.wait(seconds: 10)
        let afterKill = try #require(try await fleet.decisions.get(jobId: jobId))
        #expect(afterKill.state == .processing, "the first worker finished before it was killed; \(first.errorText.suffix(500))")

        let second = try Subprocess(workerArguments(fleet, visibility: visibility), environment: environment, logs: fleet.temp, name: "w2")
        try await eventually("job judged by the second worker", seconds: 180) {
            try await fleet.decisions.get(jobId: jobId)?.state == .judged
        }
        second.signal(SIGTERM)
        let status = await second.wait(seconds: 30)
        #expect(status == 0, "worker exit: \(second.errorText.suffix(1000))")

        let record = try #require(try await fleet.decisions.get(jobId: jobId))
        #expect(record.attempts == 2)
        #expect(record.decision != nil)
        #expect(try await fleet.drain(fleet.results).count == 1)
        #expect(try await fleet.jobs.depth().total == 0)
        #expect(try await fleet.jobsDLQ.depth().total == 0)
    }

    @Test(arguments: Backend.available)
    func theDispatcherServiceQueuesJobsKeepsItsHeartbeatAndStopsOnSigterm(backend: Backend) async throws {
        let fleet = try await TestFleet.make(backend)
        defer { Task { await fleet.close() } }
        try await fleet.upload(try fakeVideo(fleet.temp, "d.mp4"), key: "m/d/squat-1.mp4")
        let dispatcher = try Subprocess(["dispatcher"] + fleet.backendArguments, environment: fleet.environment, logs: fleet.temp, name: "d")
        try await fleet.intake.send(body: "garbage")
        try await fleet.intake.send(body: eventBridgeEvent(bucket: fleet.rawBucket, key: "m/d/squat-1.mp4"))
        try await eventually("a job queued by the dispatcher process", seconds: 60) { try await fleet.jobs.depth().visible == 1 }
        try await eventually("the bad body in the intake DLQ", seconds: 30) { try await fleet.intakeDLQ.depth().visible == 1 }
        let heartbeat = try #require(fleet.environment["REFVISION_HEARTBEAT_FILE"])
        let (healthy, _, _) = try await refvision(["health", "--heartbeat", heartbeat, "--max-age", "60"], temp: fleet.temp)
        #expect(healthy == 0)
        // SIGTERM ends the 20 s long poll at once.
        let started = Date()
        dispatcher.signal(SIGTERM)
        let status = await dispatcher.wait(seconds: 30)
        #expect(status == 0, "\(dispatcher.errorText.suffix(1000))")
        #expect(Date().timeIntervalSince(started) < 15)
        #expect(dispatcher.errorText.contains("\"message\":\"dispatcher stopped\""))
    }

    @Test(arguments: Backend.available)
    func theNotifierServiceMailsADecisionOnceAndStopsOnSigterm(backend: Backend) async throws {
        let fleet = try await TestFleet.make(backend)
        defer { Task { await fleet.close() } }
        var environment = fleet.environment
        environment["REFVISION_LINK_KEYS"] = #"{"active":"k1","k1":"process-test-secret-process-test-secret"}"#
        environment["REFVISION_REPLAY_BASE_URL"] = "https://replay.example.com"
        if backend == .moto {
            // Only what the notifier's task definition gives it: no jobs or intake queue, no buckets.
            for name in ["REFVISION_JOBS_QUEUE_URL", "REFVISION_INTAKE_QUEUE_URL", "REFVISION_RAW_BUCKET", "REFVISION_ANNOTATED_BUCKET"] {
                environment.removeValue(forKey: name)
            }
            var missing = environment
            missing.removeValue(forKey: "REFVISION_RESULTS_QUEUE_URL")
            let (status, _, err) = try await refvision(["notifier"], environment: missing, temp: fleet.temp)
            #expect(status == 64)
            #expect(err.contains("REFVISION_RESULTS_QUEUE_URL is not set"))
        }
        let record = SampleDecisions.squat(.noLift, annotatedBucket: fleet.annotatedBucket)
        #expect(try await fleet.decisions.create(record))
        let result = try FleetJSON.string(ResultMessage(record: record, decidedAt: SampleDecisions.now))
        try await fleet.results.send(body: result)
        try await fleet.results.send(body: result)
        try await fleet.results.send(body: "{not a result")
        let notifier = try Subprocess(["notifier"] + fleet.backendArguments, environment: environment, logs: fleet.temp, name: "n")
        try await eventually("the decision notified", seconds: 60) {
            try await fleet.decisions.get(jobId: record.jobId)?.notification?.delivery == .sent
        }
        try await eventually("the results queue emptied", seconds: 60) { try await fleet.results.depth().total == 0 }
        let started = Date()
        notifier.signal(SIGTERM)
        let status = await notifier.wait(seconds: 30)
        #expect(status == 0, "\(notifier.errorText.suffix(1000))")
        #expect(Date().timeIntervalSince(started) < 15)
        #expect(notifier.errorText.contains("\"message\":\"notifier stopped\""))
        #expect(notifier.errorText.components(separatedBy: "\"outcome\":\"sent(audience: \\\"staff\\\")\"").count - 1 == 1,
                "\(notifier.errorText.suffix(2000))")
        #expect(notifier.errorText.components(separatedBy: "\"outcome\":\"duplicate\"").count - 1 == 1)
        #expect(notifier.errorText.contains("\"outcome\":\"deadLettered("))
        if backend == .embedded {
            let outbox = try FileManager.default.contentsOfDirectory(atPath: fleet.temp.path("data/outbox")).filter { $0.hasSuffix(".eml") }
            #expect(outbox.count == 1)
        }
    }

    @Test(arguments: Backend.available)
    func sigtermMidJobFinishesTheJobWhenItFits(backend: Backend) async throws {
        let fleet = try await TestFleet.make(backend)
        defer { Task { await fleet.close() } }
        let jobId = try await dispatchClip(fleet, key: "m/b/squat-2.mp4")
        let worker = try await stopMidJob(fleet, jobId: jobId, drain: 120, visibility: 60)
        let status = await worker.wait(seconds: 150)
        #expect(status == 0, "\(worker.errorText.suffix(1000))")
        let record = try #require(try await fleet.decisions.get(jobId: jobId))
        #expect(record.state == .judged)
        #expect(try await fleet.drain(fleet.results).count == 1)
        #expect(try await fleet.jobs.depth().total == 0)
    }

    @Test(arguments: Backend.available)
    func sigtermMidJobReleasesAJobThatWouldNotFit(backend: Backend) async throws {
        let fleet = try await TestFleet.make(backend)
        defer { Task { await fleet.close() } }
        let jobId = try await dispatchClip(fleet, key: "m/c/squat-3.mp4")
        let worker = try await stopMidJob(fleet, jobId: jobId, drain: 0, visibility: 300)
        let status = await worker.wait(seconds: 60)
        #expect(status == 0, "\(worker.errorText.suffix(1000))")
        let record = try #require(try await fleet.decisions.get(jobId: jobId))
        if record.state == .processing {
            // Released: no lease, and the message is visible at once (not after the 300 s timeout).
            #expect(record.lease == nil)
            #expect(try await fleet.jobs.depth().visible == 1)
            #expect(worker.errorText.contains("released"))
        } else {
            // The job was already past the point of no return (recording) when the signal came.
            #expect(record.state == .judged)
        }
    }
}
