import Dispatcher
import Fleet
import Foundation
import Logging
import Testing
import TestSupport
import AWS
import Worker

func makeWorker(_ fleet: TestFleet, judge: any LiftJudge = sharedJudge, visibility: Int = TestFleet.jobsVisibility) -> Worker {
    var configuration = WorkerConfiguration(annotatedBucket: fleet.annotatedBucket, scratchDirectory: fleet.temp.path("scratch"))
    configuration.receiveWaitSeconds = 1
    configuration.visibilityTimeoutSeconds = visibility
    return Worker(configuration: configuration, jobs: fleet.jobs, results: fleet.results, objects: fleet.objects,
                  decisions: fleet.decisions, judges: [judge], logger: quietLogger("refvision.worker"))
}

/// Service logs at error level only (the outcomes are asserted; the logs would drown the test output).
func quietLogger(_ label: String) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = .error
    return logger
}

/// One model for the whole test process (loading it takes a second).
let sharedJudge = PipelineLiftJudge(modelsDirectory: TestPaths.models, threads: 2)

/// Uploads `file` under `key` and dispatches it; returns the job message as received from the jobs queue.
func queueJob(_ fleet: TestFleet, file: String, key: String) async throws -> QueueMessage {
    try await fleet.upload(file, key: key)
    try await fleet.intake.send(body: eventBridgeEvent(bucket: fleet.rawBucket, key: key))
    _ = try await dispatchAll(makeDispatcher(fleet), fleet)
    let received = try await fleet.jobs.receive(maxMessages: 1, waitSeconds: 2, visibilityTimeout: nil)
    return try #require(received.first)
}

@Suite("Worker, in process, on both backends", .serialized,
       .enabled(if: LiftClips.available, "needs ../shared/fixtures/lifts, the models and ffmpeg (make test fetches the models)"))
struct WorkerTests {
    @Test(arguments: Backend.available)
    func judgesAJobEndToEnd(backend: Backend) async throws {
        let fleet = try await TestFleet.make(backend)
        defer { Task { await fleet.close() } }
        let clip = try LiftClips.goodSquat(in: fleet.temp)
        let message = try await queueJob(fleet, file: clip, key: "open-2026/a-lee/squat-1.mp4")
        fleet.requests?.reset()
        let outcome = await makeWorker(fleet).process(message)
        #expect(outcome == .judged(decision: "good_lift"))
        let requests = fleet.requests?.snapshot() ?? [:]

        let job = try JobMessage.parse(message.body)
        let record = try #require(try await fleet.decisions.get(jobId: job.jobId))
        #expect(record.state == .judged)
        #expect(record.decision == "good_lift")
        #expect(record.attempts == 1)
        #expect(record.lease == nil)
        #expect(record.verdict?.contains("\"decision\":\"good_lift\"") == true)
        let replayKey = try #require(record.replayKey)
        #expect(replayKey == "open-2026/a-lee/squat-1.\(job.jobId.prefix(12)).replay.mp4")
        let replay = try await fleet.objects.head(bucket: fleet.annotatedBucket, key: replayKey)
        #expect(replay.size > 10_000)

        let results = try await fleet.drain(fleet.results)
        #expect(results.count == 1)
        let result = try ResultMessage.parse(try #require(results.first).body)
        #expect(result.state == .judged && result.decision == "good_lift" && result.replayKey == replayKey)
        #expect(try await fleet.jobs.depth().total == 0)

        if backend == .moto {
            // Receive (done above by the test) + 7 here: Get, Put (lease), GetObject, PutObject, Put (judged),
            // SendMessage, DeleteMessage. The brief's budget is ≤ 8 per job plus heartbeats.
            let total = requests.values.reduce(0, +)
            #expect(total + 1 <= 8, "requests: \(requests)")
        }
    }

    @Test(arguments: Backend.available)
    func anUndecodableVideoIsAFailedDecisionNotARetry(backend: Backend) async throws {
        let fleet = try await TestFleet.make(backend)
        defer { Task { await fleet.close() } }
        let message = try await queueJob(fleet, file: try LiftClips.garbage(in: fleet.temp), key: "m/a/squat-2.mp4")
        let outcome = await makeWorker(fleet).process(message)
        #expect(outcome == .failed(kind: "undecodable"))
        let job = try JobMessage.parse(message.body)
        let record = try #require(try await fleet.decisions.get(jobId: job.jobId))
        #expect(record.state == .failed && record.failure == "undecodable")
        #expect(record.reason?.isEmpty == false)
        let results = try await fleet.drain(fleet.results)
        #expect(try results.map { try ResultMessage.parse($0.body).state } == [.failed])
        #expect(try await fleet.jobs.depth().total == 0)
        #expect(try await fleet.jobsDLQ.depth().total == 0)
    }

    @Test(arguments: Backend.available)
    func aRedeliveredFinishedJobIsNotJudgedAgain(backend: Backend) async throws {
        let fleet = try await TestFleet.make(backend)
        defer { Task { await fleet.close() } }
        let message = try await queueJob(fleet, file: try LiftClips.garbage(in: fleet.temp), key: "m/a/bench-1.mp4")
        let worker = makeWorker(fleet)
        _ = await worker.process(message)
        _ = try await fleet.drain(fleet.results)
        // The same job again (a sweep re-send or a redelivery after a crash before the delete).
        try await fleet.jobs.send(body: message.body)
        let again = try #require(try await fleet.jobs.receive(maxMessages: 1, waitSeconds: 2, visibilityTimeout: nil).first)
        #expect(await worker.process(again) == .alreadyDone)
        let record = try #require(try await fleet.decisions.get(jobId: try JobMessage.parse(message.body).jobId))
        #expect(record.attempts == 1)
        // The result is re-sent (the first holder might have died before sending it); the notifier's
        // conditional write makes the duplicate harmless.
        #expect(try await fleet.drain(fleet.results).count == 1)
        #expect(try await fleet.jobs.depth().total == 0)
    }

    @Test(arguments: Backend.available)
    func heartbeatsKeepALongJobHiddenFromOtherWorkers(backend: Backend) async throws {
        // A 2 s visibility timeout and a job that takes longer: without heartbeats (every 2/3 s… here 1 s)
        // the message would reappear mid-job.
        let fleet = try await TestFleet.make(backend, jobsVisibility: 2)
        defer { Task { await fleet.close() } }
        let message = try await queueJob(fleet, file: try LiftClips.goodSquat(in: fleet.temp), key: "m/h/squat-1.mp4")
        let worker = makeWorker(fleet, visibility: 2)
        let job = Task { await worker.process(message) }
        var stolen = 0
        while !(try await fleet.decisions.get(jobId: try JobMessage.parse(message.body).jobId)?.state.isTerminal ?? false) {
            stolen += try await fleet.jobs.receive(maxMessages: 1, waitSeconds: 1, visibilityTimeout: 1).count
        }
        #expect(await job.value == .judged(decision: "good_lift"))
        #expect(stolen == 0)
        #expect(try await fleet.jobs.depth().total == 0)
    }

    /// Records what the worker asks of the ECS agent and the EMF lines it writes.
    final class Recorder: TaskProtector, @unchecked Sendable {
        let lock = NSLock()
        var protection: [Bool] = []
        var lines: [String] = []
        func setProtected(_ protected: Bool) async throws { lock.withLock { protection.append(protected) } }
        func line(_ text: String) { lock.lock(); lines.append(text); lock.unlock() }
    }

    @Test func protectionIsOnWhileAJobRunsAndMetricsAreEMF() async throws {
        let fleet = try await TestFleet.make(.embedded)
        defer { Task { await fleet.close() } }
        let message = try await queueJob(fleet, file: try LiftClips.garbage(in: fleet.temp), key: "m/a/squat-1.mp4")
        let recorder = Recorder()
        var configuration = WorkerConfiguration(annotatedBucket: fleet.annotatedBucket, scratchDirectory: fleet.temp.path("scratch"))
        configuration.metricsNamespace = "RefvisionTest"
        let worker = Worker(configuration: configuration, jobs: fleet.jobs, results: fleet.results, objects: fleet.objects,
                            decisions: fleet.decisions, judges: [sharedJudge], protector: recorder,
                            metrics: EMFWriter(sink: { recorder.line($0) }))
        #expect(await worker.process(message) == .failed(kind: "undecodable"))
        try await eventually("protection cleared", seconds: 5) { recorder.lock.withLock { recorder.protection.count == 2 } }
        #expect(recorder.protection == [true, false])
        let line = try #require(recorder.lines.first)
        let emf = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(emf["Outcome"] as? String == "failed")
        #expect(emf["FailureKind"] as? String == "undecodable")
        #expect(emf["Jobs"] as? Double == 1)
        let aws = try #require(emf["_aws"] as? [String: Any])
        let directives = try #require(aws["CloudWatchMetrics"] as? [[String: Any]])
        #expect(directives.first?["Namespace"] as? String == "RefvisionTest")
        #expect((emf["DownloadSeconds"] as? Double ?? -1) >= 0)
    }

    @Test(arguments: Backend.available)
    func aPoisonMessageEndsInTheDLQAfterMaxReceiveCount(backend: Backend) async throws {
        let fleet = try await TestFleet.make(backend, jobsMaxReceive: 3)
        defer { Task { await fleet.close() } }
        try await fleet.jobs.send(body: #"{"schema":"refvision.job","schemaVersion":1,"jobId":"x"}"#)
        let worker = makeWorker(fleet)
        var receives = 0
        for _ in 0..<6 {
            guard let message = try await fleet.jobs.receive(maxMessages: 1, waitSeconds: 1, visibilityTimeout: nil).first else { break }
            receives += 1
            if case .poison = await worker.process(message) {} else { Issue.record("not treated as poison") }
        }
        #expect(receives == 3)
        #expect(try await fleet.jobs.depth().total == 0)
        let dead = try await fleet.drain(fleet.jobsDLQ)
        #expect(dead.count == 1)
    }
}
