import Fleet
import ServiceSupport
import Foundation
import Logging
import ServiceLifecycle

/// How the dispatcher behaves (flags and environment variables set it; docs/configuration.md).
public struct DispatcherConfiguration: Sendable {
    /// The bucket uploads land in; sweeps list it.
    public var rawBucket: String
    public var rules = DispatchRules()
    /// Long-poll wait on the intake queue (0...20 s).
    public var receiveWaitSeconds = 20
    /// A `queued` job older than this with no worker progress is sent again by a sweep (its message may
    /// have been lost between the claim and the send). Duplicates are harmless: workers skip done jobs.
    public var staleQueuedSeconds: TimeInterval = 900
    /// How often the scaling metrics are published.
    public var metricsIntervalSeconds: TimeInterval = 60

    public init(rawBucket: String) { self.rawBucket = rawBucket }
}

/// What one batch of intake messages did.
public struct DispatchReport: Sendable, Equatable {
    /// Job messages sent to the jobs queue.
    public var jobsSent = 0
    /// Events naming a version that already has a job.
    public var duplicates = 0
    /// Objects the rules filtered out, or that no longer exist.
    public var skipped = 0
    /// Bodies moved to the intake DLQ.
    public var deadLettered = 0
    /// Messages left on the intake queue to retry (a send failed).
    public var retried = 0
    public init() {}

    public static func + (a: Self, b: Self) -> Self {
        var r = a
        r.jobsSent += b.jobsSent
        r.duplicates += b.duplicates
        r.skipped += b.skipped
        r.deadLettered += b.deadLettered
        r.retried += b.retried
        return r
    }
}

/// Turns intake events (S3 notifications, EventBridge events, schedules, submits) into exactly one job
/// per object version on the jobs queue. Runs until graceful shutdown (SIGTERM/SIGINT).
public final class Dispatcher: Service, Sendable {
    public let configuration: DispatcherConfiguration
    let intake: any JobQueue
    let intakeDeadLetter: any JobQueue
    let jobs: any JobQueue
    let objects: any ObjectStore
    let decisions: any DecisionStore
    let fleetSize: (any FleetSizeSource)?
    let metrics: (any ScalingMetricsSink)?
    let logger: Logger
    let heartbeat: Heartbeat?
    let clock: @Sendable () -> Date

    public init(configuration: DispatcherConfiguration, intake: any JobQueue, intakeDeadLetter: any JobQueue,
                jobs: any JobQueue, objects: any ObjectStore, decisions: any DecisionStore,
                fleetSize: (any FleetSizeSource)? = nil, metrics: (any ScalingMetricsSink)? = nil,
                heartbeat: Heartbeat? = nil, logger: Logger = Logger(label: "refvision.dispatcher"),
                clock: @escaping @Sendable () -> Date = { Date() }) {
        self.configuration = configuration
        self.intake = intake
        self.intakeDeadLetter = intakeDeadLetter
        self.jobs = jobs
        self.objects = objects
        self.decisions = decisions
        self.fleetSize = fleetSize
        self.metrics = metrics
        self.heartbeat = heartbeat
        self.logger = logger
        self.clock = clock
    }

    // MARK: Service

    public func run() async throws {
        logger.info("dispatcher started", metadata: ["intake": "\(intake.name)", "jobs": "\(jobs.name)"])
        try await withThrowingTaskGroup(of: Void.self) { group in
            if metrics != nil {
                group.addTask { [self] in
                    while !Task.isCancelled && !Task.isShuttingDownGracefully {
                        await publishMetrics()
                        try? await cancelWhenGracefulShutdown {
                            try await Task.sleep(for: .seconds(self.configuration.metricsIntervalSeconds))
                        }
                    }
                }
            }
            group.addTask { [self] in
                await pollUntilShutdown(what: "intake", heartbeat: heartbeat, logger: logger) { _ = try await pollOnce() }
            }
            try await group.waitForAll()
        }
        logger.info("dispatcher stopped")
    }

    /// One long poll of the intake queue and the handling of what arrived.
    public func pollOnce(waitSeconds: Int? = nil) async throws -> DispatchReport {
        let wait = waitSeconds ?? configuration.receiveWaitSeconds
        let messages = try await cancelWhenGracefulShutdown { [intake] in
            try await intake.receive(maxMessages: 10, waitSeconds: wait, visibilityTimeout: nil)
        }
        guard !messages.isEmpty else { return DispatchReport() }
        return try await handle(messages)
    }

    /// Handles received intake messages: jobs out in batches of 10, bad bodies to the intake DLQ, and
    /// each message deleted once everything it asked for is done.
    public func handle(_ messages: [QueueMessage]) async throws -> DispatchReport {
        var report = DispatchReport()
        var planned: [(message: QueueMessage, jobs: [JobMessage])] = []
        var done: [QueueMessage] = []
        for message in messages {
            let events: [IntakeEvent]
            do {
                events = try IntakeEvent.parse(message.body)
            } catch {
                if try await deadLetter(message, reason: "\(error)") {
                    report.deadLettered += 1
                    done.append(message)
                } else {
                    report.retried += 1
                }
                continue
            }
            do {
                var jobsForMessage: [JobMessage] = []
                for event in events {
                    let (jobs, eventReport) = try await plan(event)
                    jobsForMessage += jobs
                    report = report + eventReport
                }
                planned.append((message, jobsForMessage))
            } catch {
                logger.error("intake event failed; it will be retried", metadata: ["error": "\(error)", "messageId": "\(message.messageId)"])
                report.retried += 1
            }
        }

        // Send every planned job in batches of 10; a message is done when all its jobs went out.
        var failedJobs = Set<String>()
        let allJobs = planned.flatMap(\.jobs)
        var index = 0
        while index < allJobs.count {
            let chunk = Array(allJobs[index..<min(index + 10, allJobs.count)])
            index += chunk.count
            let outgoing = try chunk.enumerated().map { offset, job in
                OutgoingMessage(id: "j\(offset)", body: try FleetJSON.string(job), attributes: ["jobId": job.jobId])
            }
            let failures: [BatchEntryFailure]
            do {
                failures = try await jobs.send(outgoing)
            } catch {
                logger.error("sending jobs failed", metadata: ["error": "\(error)"])
                failures = outgoing.map { BatchEntryFailure(id: $0.id, code: "SendFailed", message: "\(error)", senderFault: false) }
            }
            for failure in failures {
                if let offset = Int(failure.id.dropFirst()), offset < chunk.count { failedJobs.insert(chunk[offset].jobId) }
                logger.error("job not sent", metadata: ["failure": "\(failure)"])
            }
            report.jobsSent += chunk.count - failures.count
            for job in chunk where !failedJobs.contains(job.jobId) {
                logger.info("job queued", metadata: ["jobId": "\(job.jobId)", "key": "\(job.key)", "source": "\(job.source)"])
            }
        }
        for (message, jobsOfMessage) in planned {
            if jobsOfMessage.contains(where: { failedJobs.contains($0.jobId) }) {
                report.retried += 1
            } else {
                done.append(message)
            }
        }
        if !done.isEmpty {
            var start = 0
            while start < done.count {
                let chunk = done[start..<min(start + 10, done.count)]
                let failures = try await intake.deleteBatch(chunk.enumerated().map { ("d\($0.offset)", $0.element.receiptHandle) })
                for failure in failures { logger.warning("intake delete failed", metadata: ["failure": "\(failure)"]) }
                start += 10
            }
        }
        return report
    }

    /// The jobs one event creates (claimed in the decision store, not yet sent).
    func plan(_ event: IntakeEvent) async throws -> ([JobMessage], DispatchReport) {
        var report = DispatchReport()
        switch event {
        case .test:
            logger.info("S3 test event skipped")
            return ([], report)
        case .ignored(let why):
            logger.debug("event ignored", metadata: ["reason": "\(why)"])
            report.skipped += 1
            return ([], report)
        case .objectCreated(let object, let source):
            guard object.bucket == configuration.rawBucket else {
                logger.warning("event for a bucket that is not the raw bucket; skipped",
                               metadata: ["bucket": "\(object.bucket)", "rawBucket": "\(configuration.rawBucket)"])
                report.skipped += 1
                return ([], report)
            }
            guard let stored = try await headEither(bucket: object.bucket, key: object.key, rawKey: object.rawKey) else {
                logger.info("object no longer exists; skipped", metadata: ["key": "\(object.key)"])
                report.skipped += 1
                return ([], report)
            }
            return try await claim(stored, details: LiftDetails.from(key: stored.key, metadata: stored.metadata), source: source, report: report)
        case .submit(let request):
            // Workers read only the raw bucket (their task role allows nothing else).
            guard request.bucket == configuration.rawBucket else {
                logger.warning("submit for a bucket that is not the raw bucket; skipped",
                               metadata: ["bucket": "\(request.bucket)", "rawBucket": "\(configuration.rawBucket)"])
                report.skipped += 1
                return ([], report)
            }
            guard let stored = try await headEither(bucket: request.bucket, key: request.key, rawKey: request.key) else {
                logger.warning("submitted object does not exist", metadata: ["bucket": "\(request.bucket)", "key": "\(request.key)"])
                report.skipped += 1
                return ([], report)
            }
            var details = LiftDetails.from(key: stored.key, metadata: stored.metadata)
            if let lift = request.lift { details.lift = lift }
            if let meet = request.meet { details.meet = meet }
            if let athlete = request.athlete { details.athlete = athlete }
            if let attempt = request.attempt { details.attempt = attempt }
            if let team = request.team.flatMap(LiftDetails.clean) { details.team = team }
            return try await claim(stored, details: details, source: "submit", report: report)
        case .sweep:
            return try await sweep()
        }
    }

    /// Lists the raw bucket and claims every object version that has no decision record; re-sends jobs
    /// stuck in `queued` for longer than `staleQueuedSeconds`.
    public func sweep() async throws -> ([JobMessage], DispatchReport) {
        var report = DispatchReport()
        var jobs: [JobMessage] = []
        let listed = try await objects.list(bucket: configuration.rawBucket, prefix: configuration.rules.prefix)
        for object in listed {
            if configuration.rules.rejection(key: object.key, size: object.size, contentType: nil) != nil {
                report.skipped += 1
                continue
            }
            let version = Self.version(of: object)
            let id = jobIdentifier(bucket: object.bucket, key: object.key, version: version)
            if let existing = try await decisions.get(jobId: id) {
                if existing.state == .queued, clock().timeIntervalSince(existing.updatedAt) > configuration.staleQueuedSeconds {
                    jobs.append(Self.job(for: existing))
                    logger.notice("re-sending a job stuck in queued", metadata: ["jobId": "\(id)"])
                } else {
                    report.duplicates += 1
                }
                continue
            }
            // The listing lacks metadata and content type: head the object for them.
            let stored = (try? await objects.head(bucket: object.bucket, key: object.key)) ?? object
            let (claimed, r) = try await claim(stored, details: LiftDetails.from(key: stored.key, metadata: stored.metadata),
                                               source: "sweep", report: DispatchReport())
            jobs += claimed
            report = report + r
        }
        logger.info("sweep done", metadata: ["objects": "\(listed.count)", "new": "\(jobs.count)"])
        return (jobs, report)
    }

    func claim(_ object: StoredObject, details: LiftDetails, source: String, report: DispatchReport) async throws
        -> ([JobMessage], DispatchReport) {
        var report = report
        if let why = configuration.rules.rejection(key: object.key, size: object.size, contentType: object.contentType) {
            logger.info("object skipped", metadata: ["key": "\(object.key)", "reason": "\(why)"])
            report.skipped += 1
            return ([], report)
        }
        var job = JobMessage(
            bucket: object.bucket, key: object.key, version: Self.version(of: object), size: object.size,
            lift: details.lift, meet: details.meet, athlete: details.athlete, attempt: details.attempt,
            source: source, createdAt: clock())
        job.team = details.team
        if try await decisions.create(DecisionRecord(job: job, now: clock())) {
            return ([job], report)
        }
        report.duplicates += 1
        logger.debug("duplicate event for a version that already has a job", metadata: ["jobId": "\(job.jobId)"])
        return ([], report)
    }

    static func version(of object: StoredObject) -> String {
        object.versionId ?? object.eTag ?? "size-\(object.size)"
    }

    static func job(for record: DecisionRecord) -> JobMessage {
        var job = JobMessage(
            bucket: record.bucket, key: record.key, version: record.version, size: nil, lift: record.lift,
            meet: record.meet, athlete: record.athlete, attempt: record.attempt, source: record.source ?? "sweep",
            createdAt: record.createdAt)
        job.jobId = record.jobId
        job.team = record.team
        return job
    }

    func headEither(bucket: String, key: String, rawKey: String) async throws -> StoredObject? {
        for candidate in rawKey == key ? [key] : [key, rawKey] {
            do {
                return try await objects.head(bucket: bucket, key: candidate)
            } catch FleetError.objectNotFound {
                continue
            } catch FleetError.invalidKey(let why) {
                logger.warning("object key refused", metadata: ["key": "\(candidate)", "reason": "\(why)"])
                return nil
            }
        }
        return nil
    }

    /// Moves an unreadable body to the intake DLQ with the reason; false if that failed (the message
    /// stays on the intake queue and SQS's own redrive catches it later).
    func deadLetter(_ message: QueueMessage, reason: String) async throws -> Bool {
        logger.warning("unreadable intake message sent to the DLQ",
                       metadata: ["messageId": "\(message.messageId)", "reason": "\(reason)", "bytes": "\(message.body.utf8.count)"])
        let body = message.body.utf8.count <= maximumMessageBytes ? message.body : String(message.body.prefix(maximumMessageBytes / 4))
        do {
            let failures = try await intakeDeadLetter.send([
                OutgoingMessage(id: "dl", body: body.isEmpty ? "(empty)" : body,
                                attributes: ["reason": String(reason.prefix(1000)), "sourceMessageId": message.messageId]),
            ])
            if let failure = failures.first {
                logger.error("intake DLQ refused the message", metadata: ["failure": "\(failure)"])
                return false
            }
            return true
        } catch {
            logger.error("intake DLQ send failed", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// Publishes `BacklogPerTask` and `DesiredTasks` (scaling/worker-policy.json).
    public func publishMetrics() async {
        guard let metrics else { return }
        do {
            let depth = try await jobs.depth()
            let counts = try await fleetSize?.workerCounts() ?? (running: 1, desired: 1)
            let backlog = backlogPerTask(visible: depth.visible, running: counts.running)
            try await metrics.publish(backlogPerTask: backlog, desiredTasks: counts.desired, visible: depth.visible)
            logger.debug("scaling metrics published", metadata: ["backlogPerTask": "\(backlog)", "desired": "\(counts.desired)"])
        } catch {
            logger.error("publishing scaling metrics failed", metadata: ["error": "\(error)"])
        }
    }
}
