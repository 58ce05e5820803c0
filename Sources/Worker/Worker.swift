import AWS
import Fleet
import Foundation
import Logging
import Pipeline
import Pose
import ServiceLifecycle
import ServiceSupport

/// How a worker behaves (flags and environment variables set it; docs/configuration.md).
public struct WorkerConfiguration: Sendable {
    /// Where replays go.
    public var annotatedBucket: String
    /// Jobs processed at the same time (one receive per free slot; never prefetches).
    public var slots = 1
    /// Long-poll wait (0...20 s).
    public var receiveWaitSeconds = 20
    /// The jobs queue's visibility timeout; heartbeats extend a running job's message by this much.
    public var visibilityTimeoutSeconds = 300
    /// How often a running job's heartbeat fires (default a third of the visibility timeout).
    public var heartbeatSeconds: Double?
    /// On SIGTERM, how long a running job may take to finish before it is released to another worker
    /// (keep below the task's `stopTimeout`, 120 s).
    public var drainSeconds: Double = 100
    /// Downloads and replays are written here (one folder per job, removed afterwards).
    public var scratchDirectory: String
    /// Names this worker in lease tokens and logs.
    public var hostLabel = ProcessInfo.processInfo.hostName
    /// CloudWatch namespace of the EMF metrics (`REFVISION_METRICS_NAMESPACE`).
    public var metricsNamespace = "Refvision"

    public init(annotatedBucket: String, scratchDirectory: String) {
        self.annotatedBucket = annotatedBucket
        self.scratchDirectory = scratchDirectory
    }

    var heartbeatInterval: Double { heartbeatSeconds ?? max(1, Double(visibilityTimeoutSeconds) / 3) }
}

/// Turns ECS task scale-in protection on while a job runs and off when idle.
public protocol TaskProtector: Sendable {
    func setProtected(_ protected: Bool) async throws
}

/// ECS task scale-in protection through the agent endpoint (`ECS_AGENT_URI`).
public struct ECSAgentTaskProtector: TaskProtector {
    let client: ECSTaskProtectionClient
    /// Protection expires on its own after this, in case the worker dies without clearing it.
    let expiresInMinutes: Int

    public init(client: ECSTaskProtectionClient, expiresInMinutes: Int = 60) {
        self.client = client
        self.expiresInMinutes = expiresInMinutes
    }

    public func setProtected(_ protected: Bool) async throws {
        _ = try await client.setProtection(enabled: protected, expiresInMinutes: protected ? expiresInMinutes : nil)
    }
}

/// What became of one received job message.
public enum JobOutcome: Sendable, Equatable {
    case judged(decision: String)
    case failed(kind: String)
    /// The job was already decided (a duplicate or redelivered message); the result was re-sent if needed.
    case alreadyDone
    /// Another worker holds a live lease on the job; the message comes back later.
    case heldElsewhere
    /// A transient failure; the message comes back after its visibility timeout.
    case retry(String)
    /// Released on shutdown (visibility 0) for another worker.
    case released
    /// The message is not a job; it goes to the DLQ after maxReceiveCount.
    case poison(String)
}

/// Long-polls the jobs queue and turns each job into a decision: download → judge → upload the replay →
/// record the decision (conditional on this worker's lease) → result message → delete the job.
public final class Worker: Service, Sendable {
    public let configuration: WorkerConfiguration
    let jobs: any JobQueue
    let results: any JobQueue
    let objects: any ObjectStore
    let decisions: any DecisionStore
    let judges: [any LiftJudge]
    let protector: (any TaskProtector)?
    let metrics: EMFWriter?
    let heartbeat: Heartbeat?
    let logger: Logger
    /// Jobs running now, across slots.
    let busy = LockedBox(0)
    /// Called with each finished job (the embedded `run` prints decisions as they land).
    let onOutcome: @Sendable (JobMessage?, JobOutcome) -> Void

    /// - Parameter judges: one per slot (each holds its own model).
    public init(configuration: WorkerConfiguration, jobs: any JobQueue, results: any JobQueue, objects: any ObjectStore,
                decisions: any DecisionStore, judges: [any LiftJudge], protector: (any TaskProtector)? = nil,
                metrics: EMFWriter? = nil, heartbeat: Heartbeat? = nil, logger: Logger = Logger(label: "refvision.worker"),
                onOutcome: @escaping @Sendable (JobMessage?, JobOutcome) -> Void = { _, _ in }) {
        precondition(!judges.isEmpty, "a worker needs at least one judge")
        var configuration = configuration
        configuration.slots = judges.count
        self.configuration = configuration
        self.jobs = jobs
        self.results = results
        self.objects = objects
        self.decisions = decisions
        self.judges = judges
        self.protector = protector
        self.metrics = metrics
        self.heartbeat = heartbeat
        self.logger = logger
        self.onOutcome = onOutcome
    }

    // MARK: Service

    public func run() async throws {
        logger.info("worker started", metadata: ["slots": "\(judges.count)", "queue": "\(jobs.name)"])
        try FileManager.default.createDirectory(atPath: configuration.scratchDirectory, withIntermediateDirectories: true)
        await withTaskGroup(of: Void.self) { group in
            for slot in judges.indices {
                group.addTask { await self.slotLoop(slot) }
            }
        }
        if let protector { try? await protector.setProtected(false) }
        logger.info("worker stopped")
    }

    func slotLoop(_ slot: Int) async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            heartbeat?.beat()
            do {
                let messages = try await cancelWhenGracefulShutdown { [jobs, configuration] in
                    try await jobs.receive(maxMessages: 1, waitSeconds: configuration.receiveWaitSeconds,
                                       visibilityTimeout: configuration.visibilityTimeoutSeconds)
                }
                for message in messages {
                    _ = await process(message, slot: slot)
                }
            } catch is CancellationError {
                break
            } catch {
                if Task.isShuttingDownGracefully { break }
                logger.error("receive failed; retrying in 5 s", metadata: ["error": "\(error)"])
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(5)) }
            }
        }
    }

    // MARK: One job

    /// Processes one received message to the end (or to a release on shutdown).
    public func process(_ message: QueueMessage, slot: Int = 0) async -> JobOutcome {
        let job: JobMessage
        do {
            job = try JobMessage.parse(message.body)
        } catch {
            logger.error("job message unreadable; it goes to the DLQ after maxReceiveCount",
                         metadata: ["messageId": "\(message.messageId)", "reason": "\(error)", "receiveCount": "\(message.receiveCount)"])
            try? await jobs.changeVisibility(receiptHandle: message.receiptHandle, seconds: 0)
            let outcome = JobOutcome.poison("\(error)")
            onOutcome(nil, outcome)
            return outcome
        }
        var log = logger
        log[metadataKey: "jobId"] = "\(job.jobId)"
        log[metadataKey: "key"] = "\(job.key)"
        let outcome: JobOutcome
        do {
            outcome = try await run(job, message: message, slot: slot, logger: log)
        } catch {
            log.error("job failed transiently; it will be retried", metadata: ["error": "\(error)", "receiveCount": "\(message.receiveCount)"])
            outcome = .retry("\(error)")
        }
        onOutcome(job, outcome)
        return outcome
    }

    func run(_ job: JobMessage, message: QueueMessage, slot: Int, logger: Logger) async throws -> JobOutcome {
        let started = ContinuousClock.now
        let token = "\(configuration.hostLabel)/\(ProcessInfo.processInfo.processIdentifier)/\(UUID().uuidString.prefix(8))"
        let now = Date()
        var record: DecisionRecord
        if let existing = try await decisions.get(jobId: job.jobId) {
            record = existing
        } else {
            // A job nobody claimed (sent straight to the queue): claim it here.
            _ = try await decisions.create(DecisionRecord(job: job, now: now))
            guard let created = try await decisions.get(jobId: job.jobId) else { throw FleetError.decisionNotFound(job.jobId) }
            record = created
        }

        if record.state.isTerminal {
            if record.state != .notified {
                // The previous holder may have died between recording and sending the result.
                try await sendResult(record)
            }
            try await jobs.delete(receiptHandle: message.receiptHandle)
            logger.info("job already decided; message deleted", metadata: ["state": "\(record.state.rawValue)"])
            return .alreadyDone
        }
        if record.state == .processing, let until = record.leaseUntil, until > now, record.lease != nil {
            let wait = Int(until.timeIntervalSince(now).rounded(.up)) + 2
            try await jobs.changeVisibility(receiptHandle: message.receiptHandle, seconds: min(wait, 43_200))
            logger.info("job held by another worker; message hidden until its lease ends", metadata: ["holder": "\(record.lease ?? "")"])
            return .heldElsewhere
        }

        // Take the lease (conditional on the revision we read).
        var mine = record
        mine.state = .processing
        mine.lease = token
        mine.leaseUntil = now.addingTimeInterval(Double(configuration.visibilityTimeoutSeconds))
        mine.attempts += 1
        mine.updatedAt = now
        mine.lastError = nil
        do {
            try await decisions.update(mine, expectedRevision: record.revision)
            mine.revision = record.revision + 1
        } catch FleetError.conditionFailed {
            // Someone else moved first; the message comes back and the next attempt sees their state.
            try await jobs.changeVisibility(receiptHandle: message.receiptHandle, seconds: 5)
            return .heldElsewhere
        }
        logger.info("job started", metadata: ["attempt": "\(mine.attempts)", "receiveCount": "\(message.receiveCount)"])

        let lease = LockedBox(mine)
        if busy.withLock({ $0 += 1; return $0 }) == 1, let protector { await setProtection(protector, true) }
        defer {
            if busy.withLock({ $0 -= 1; return $0 }) == 0, let protector { Task { await self.setProtection(protector, false) } }
        }
        let heartbeatTask = Task { [self] in
            await keepAlive(message: message, lease: lease, token: token, logger: logger)
        }
        defer { heartbeatTask.cancel() }

        let folder = (configuration.scratchDirectory as NSString).appendingPathComponent(job.jobId + "-" + token.split(separator: "/").last!)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let ext = (job.key as NSString).pathExtension
        let input = (folder as NSString).appendingPathComponent("input" + (ext.isEmpty ? "" : "." + ext.prefix(8)))
        let replay = (folder as NSString).appendingPathComponent("replay.mp4")

        var timings: [String: Double] = [:]
        let result: Result<JudgedLift, PermanentJobFailure>
        do {
            let t0 = ContinuousClock.now
            do {
                _ = try await objects.download(bucket: job.bucket, key: job.key, to: input)
            } catch FleetError.objectNotFound {
                throw PermanentJobFailure(kind: "not_found", message: "s3://\(job.bucket)/\(job.key) no longer exists")
            }
            timings["DownloadSeconds"] = (ContinuousClock.now - t0).seconds
            let t1 = ContinuousClock.now
            let progress = LockedBox(0.0)
            let judged = try await judgeOnThread(judges[slot], video: input, lift: job.lift, replay: replay, progress: progress,
                                                 logger: logger)
            guard let judged else {
                await stop(heartbeatTask)
                return try await release(message: message, lease: lease, logger: logger)
            }
            timings["JudgeSeconds"] = (ContinuousClock.now - t1).seconds
            let t2 = ContinuousClock.now
            try await objects.upload(
                file: replay, bucket: configuration.annotatedBucket, key: OutputKeys.replay(rawKey: job.key, jobId: job.jobId),
                contentType: "video/mp4", metadata: ["job-id": job.jobId, "decision": judged.decision])
            timings["UploadSeconds"] = (ContinuousClock.now - t2).seconds
            result = .success(judged)
        } catch let failure as PermanentJobFailure {
            result = .failure(failure)
        } catch {
            // Transient: clear the lease so the redelivered message can start at once, then back off.
            await stop(heartbeatTask)
            var failed = lease.value
            failed.lease = nil
            failed.leaseUntil = nil
            failed.lastError = String("\(error)".prefix(500))
            failed.updatedAt = Date()
            if (try? await decisions.update(failed, expectedRevision: failed.revision)) != nil { lease.withLock { $0 = failed; $0.revision += 1 } }
            let backoff = min(300, 30 << min(4, max(0, message.receiveCount - 1)))
            try? await jobs.changeVisibility(receiptHandle: message.receiptHandle, seconds: backoff)
            metrics.map { emit($0, job: job, outcome: "retry", failureKind: "transient", timings: timings, started: started) }
            throw error
        }

        // Record the decision, conditional on still holding the lease. The heartbeat is stopped first
        // (and an update it has in flight awaited), so the two never race on the record's revision.
        await stop(heartbeatTask)
        var decided = lease.value
        guard decided.lease == token else {
            logger.warning("lease lost before recording; another worker owns the job now")
            return .heldElsewhere
        }
        let decidedAt = Date()
        decided.updatedAt = decidedAt
        decided.decidedAt = decidedAt
        decided.lease = nil
        decided.leaseUntil = nil
        switch result {
        case .success(let judged):
            decided.state = .judged
            decided.decision = judged.decision
            decided.reason = judged.reason
            decided.verdict = judged.verdictJSON
            decided.chart = judged.chart
            if decided.lift == nil { decided.lift = judged.lift }
            decided.replayBucket = configuration.annotatedBucket
            decided.replayKey = OutputKeys.replay(rawKey: job.key, jobId: job.jobId)
        case .failure(let failure):
            decided.state = .failed
            decided.failure = failure.kind
            decided.reason = failure.message
        }
        do {
            try await decisions.update(decided, expectedRevision: lease.value.revision)
            decided.revision = lease.value.revision + 1
        } catch FleetError.conditionFailed {
            logger.warning("decision not recorded: the job changed hands meanwhile")
            return .heldElsewhere
        }
        try await sendResult(decided, at: decidedAt)
        try await jobs.delete(receiptHandle: message.receiptHandle)

        let outcome: JobOutcome
        switch result {
        case .success(let judged):
            outcome = .judged(decision: judged.decision)
            logger.info("job judged", metadata: ["decision": "\(judged.decision)", "seconds": "\(String(format: "%.2f", (ContinuousClock.now - started).seconds))"])
        case .failure(let failure):
            outcome = .failed(kind: failure.kind)
            logger.warning("job failed permanently; recorded as a decision", metadata: ["kind": "\(failure.kind)", "reason": "\(failure.message)"])
        }
        if let metrics {
            if case .failure(let failure) = result {
                emit(metrics, job: job, outcome: "failed", failureKind: failure.kind, timings: timings, started: started)
            } else {
                emit(metrics, job: job, outcome: "judged", failureKind: nil, timings: timings, started: started)
            }
        }
        return outcome
    }

    func sendResult(_ record: DecisionRecord, at date: Date = Date()) async throws {
        let result = ResultMessage(record: record, decidedAt: date)
        try await results.send(body: try FleetJSON.string(result), attributes: ["jobId": record.jobId, "state": record.state.rawValue])
    }

    /// Runs the judge on its own thread (it blocks for seconds). Returns nil when the worker is shutting
    /// down and the job will not finish within the drain time: the caller releases it.
    func judgeOnThread(_ judge: any LiftJudge, video: String, lift: String?, replay: String, progress: LockedBox<Double>,
                       logger: Logger) async throws -> JudgedLift? {
        let box = LockedBox<Result<JudgedLift, any Error>?>(nil)
        let started = ContinuousClock.now
        let thread = Thread {
            let result = Result { try judge.judge(video: video, lift: lift, replayPath: replay, progress: { progress.value = $0 }) }
            box.value = result
        }
        thread.stackSize = 8 << 20
        thread.start()
        var drainDeadline: ContinuousClock.Instant?
        while true {
            if let result = box.value { return try result.get() }
            if drainDeadline == nil && (Task.isShuttingDownGracefully || Task.isCancelled) {
                let fraction = progress.value
                let elapsed = (ContinuousClock.now - started).seconds
                // Remaining time estimated from the progress so far (the replay pass adds about half
                // again). Without enough progress to tell, try to finish and release at the deadline.
                let estimate = fraction > 0.05 ? elapsed / fraction * (1.5 - fraction) : nil
                if let estimate, estimate > configuration.drainSeconds {
                    logger.notice("shutting down: the job would not finish in time; releasing it",
                                  metadata: ["estimatedSeconds": "\(String(format: "%.0f", estimate))"])
                    return nil
                }
                if configuration.drainSeconds <= 0 {
                    logger.notice("shutting down with no drain time; releasing the job")
                    return nil
                }
                logger.notice("shutting down: finishing the running job first",
                              metadata: ["estimatedSeconds": "\(estimate.map { String(format: "%.0f", $0) } ?? "unknown")",
                                         "drainSeconds": "\(configuration.drainSeconds)"])
                drainDeadline = .now + .seconds(configuration.drainSeconds)
            }
            if let drainDeadline, ContinuousClock.now > drainDeadline {
                logger.notice("shutting down: drain time over; releasing the job")
                return nil
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Gives the job back at once (visibility 0, lease cleared) so another worker starts it.
    func release(message: QueueMessage, lease: LockedBox<DecisionRecord>, logger: Logger) async throws -> JobOutcome {
        var released = lease.value
        released.lease = nil
        released.leaseUntil = nil
        released.lastError = "released on shutdown"
        released.updatedAt = Date()
        try? await decisions.update(released, expectedRevision: released.revision)
        try await jobs.changeVisibility(receiptHandle: message.receiptHandle, seconds: 0)
        logger.notice("job released for another worker")
        return .released
    }

    /// Cancels the heartbeat and waits for it to finish what it was doing.
    func stop(_ heartbeat: Task<Void, Never>) async {
        heartbeat.cancel()
        await heartbeat.value
    }

    /// Extends the message's visibility and the lease every heartbeat until cancelled. Cancellation only
    /// interrupts the wait between beats: a beat runs in its own task, so a cancelled heartbeat never
    /// leaves a lease update half-done with its outcome unknown.
    func keepAlive(message: QueueMessage, lease: LockedBox<DecisionRecord>, token: String, logger: Logger) async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: .seconds(configuration.heartbeatInterval))
            } catch { return }
            heartbeat?.beat()
            let beat = Task { [self] in
                try await jobs.changeVisibility(receiptHandle: message.receiptHandle, seconds: configuration.visibilityTimeoutSeconds)
                var extended = lease.value
                guard extended.lease == token else { return }
                extended.leaseUntil = Date().addingTimeInterval(Double(configuration.visibilityTimeoutSeconds))
                extended.updatedAt = Date()
                try await decisions.update(extended, expectedRevision: extended.revision)
                lease.withLock { $0 = extended; $0.revision += 1 }
                logger.debug("heartbeat: visibility and lease extended")
            }
            do {
                try await beat.value
            } catch {
                logger.warning("heartbeat failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Scale-in protection follows the busy slots: on when the first job starts, off when the last ends.
    func setProtection(_ protector: any TaskProtector, _ on: Bool) async {
        do {
            try await protector.setProtected(on)
        } catch {
            logger.warning("task scale-in protection change failed", metadata: ["error": "\(error)", "protected": "\(on)"])
        }
    }

    func emit(_ writer: EMFWriter, job: JobMessage, outcome: String, failureKind: String?, timings: [String: Double],
              started: ContinuousClock.Instant) {
        var metrics = [EMFRecord.Metric(name: "Jobs", value: 1, unit: .count),
                       EMFRecord.Metric(name: "JobSeconds", value: (ContinuousClock.now - started).seconds, unit: .seconds)]
        for (name, value) in timings.sorted(by: { $0.key < $1.key }) { metrics.append(.init(name: name, value: value, unit: .seconds)) }
        var dimensions = ["Outcome": outcome]
        var sets = [["Outcome"]]
        if let failureKind {
            dimensions["FailureKind"] = failureKind
            sets.append(["FailureKind"])
        }
        try? writer.write(EMFRecord(namespace: configuration.metricsNamespace, dimensions: dimensions, dimensionSets: sets, metrics: metrics,
                                    properties: ["jobId": .string(job.jobId)]))
    }
}
