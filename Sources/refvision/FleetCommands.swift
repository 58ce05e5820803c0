import AWS
import ArgumentParser
import Embedded
import Fleet
import FleetAWS
import Foundation
import Logging

/// One decision as `status` shows it.
struct DecisionSummary: Codable, Equatable {
    var jobId: String
    var key: String
    var state: String
    var decision: String?
    var reason: String?
    var failure: String?
    var replay: String?
    var lift: String?
    var meet: String?
    var athlete: String?
    var attempt: Int?
    var attempts: Int
    var updatedAt: String
    var team: String?
    /// The e-mail: `sending`, `sent`, `unknown` (may or may not have gone out; check by hand), `failed`.
    var mail: String?
    var mailAudience: String?
    var mailError: String?

    init(_ record: DecisionRecord, objects: any ObjectStore) {
        jobId = record.jobId
        key = record.key
        state = record.state.rawValue
        decision = record.decision
        reason = record.reason
        failure = record.failure
        replay = record.replayKey.map { objects.location(bucket: record.replayBucket ?? "", key: $0) }
        lift = record.lift
        meet = record.meet
        athlete = record.athlete
        attempt = record.attempt
        attempts = record.attempts
        updatedAt = AWSDate.formatISO8601(record.updatedAt)
        team = record.team
        mail = record.notification?.delivery.rawValue
        mailAudience = record.notification?.audience
        mailError = record.notification?.lastError
    }
}

struct StatusReport: Codable {
    var backend: String
    var queues: [String: QueueDepth]
    var decisions: [DecisionSummary]
}

func fleetStatus(_ ports: FleetPorts, meet: String? = nil, limit: Int = 1000) async throws -> StatusReport {
    var queues: [String: QueueDepth] = [:]
    for name in ["intake", "intake-dlq", "jobs", "jobs-dlq", "results", "results-dlq"] {
        let queue = try ports.queue(named: name)
        if queue is UnconfiguredQueue { continue }  // AWS: a queue this task was not given
        queues[name] = try await queue.depth()
    }
    let records = try await ports.decisions.list(meet: meet, limit: limit)
    return StatusReport(
        backend: ports.dataDirectory.map { "embedded \($0)" } ?? "aws",
        queues: queues, decisions: records.map { DecisionSummary($0, objects: ports.objects) })
}

func printStatusTable(_ report: StatusReport) {
    print("queues (visible / in flight):")
    for name in ["intake", "jobs", "results", "intake-dlq", "jobs-dlq", "results-dlq"] {
        if let depth = report.queues[name] {
            print("  \(name.padding(toLength: 12, withPad: " ", startingAt: 0)) \(depth.visible) / \(depth.inFlight)")
        }
    }
    if report.decisions.isEmpty {
        print("decisions: none yet")
        return
    }
    print("decisions (\(report.decisions.count)):")
    for d in report.decisions {
        let verdict = d.decision.map { $0.replacingOccurrences(of: "_", with: " ").uppercased() } ?? d.failure.map { "FAILED (\($0))" } ?? d.state.uppercased()
        print("  \(verdict.padding(toLength: 22, withPad: " ", startingAt: 0)) \(d.key)")
        if let reason = d.reason, !reason.isEmpty { print("      \(reason)") }
        if let replay = d.replay { print("      replay: \(replay)") }
        switch d.mail {
        case "sent": print("      mailed to \(d.mailAudience ?? "coaches")")
        case "unknown": print("      MAIL UNKNOWN: \(d.mailError ?? "the publish may not have gone out") (not repeated; `refvision resend \(d.jobId)` sends it again)")
        case "failed": print("      mail failed, will retry: \(d.mailError ?? "")")
        case "sending": print("      mail being sent")
        default: break
        }
    }
}

/// `refvision status`: queue depths, in-flight jobs and decisions.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show queue depths, in-flight jobs and decisions.")

    @OptionGroup var fleet: FleetOptions

    @Flag(help: "Print JSON: {\"queues\":{…},\"decisions\":[…]}.")
    var json = false

    @Option(help: "Only this meet's decisions.")
    var meet: String?

    @Option(help: "At most this many decisions (newest first).")
    var limit = 1000

    func run() async throws {
        do {
            let ports = try await FleetPorts.open(fleet, logger: quietLogger())
            let report = try await fleetStatus(ports, meet: meet, limit: max(1, limit))
            await ports.shutdown()
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                printStatusTable(report)
            }
        } catch {
            failAndExit(error)
        }
    }
}

func quietLogger() -> Logger {
    var logger = Logger(label: "refvision.cli")
    logger.logLevel = .error
    return logger
}

/// `refvision submit FILE|s3://bucket/key`: queue a video for judging.
struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Queue a video for judging: upload FILE to the raw bucket, or name an object already there.",
        discussion: """
            The dispatcher turns the submit event into a job (one per object version: submitting the same \
            content twice judges it once). Key convention: MEET/ATHLETE/LIFT-ATTEMPT.EXT (docs/messages.md).
            """)

    @OptionGroup var fleet: FleetOptions

    @Argument(help: "A local video file (uploaded to the raw bucket), or s3://RAW_BUCKET/key of an upload.")
    var source: String

    @Option(help: "Object key for an uploaded FILE (default: its file name).")
    var key: String?

    @Option(help: "squat, bench or deadlift (default: from the key, else inferred).")
    var lift: String?

    @Option var meet: String?
    @Option var athlete: String?
    @Option var attempt: Int?
    @Option(help: "The athlete's team (coaches subscribe by team; stored as the upload's metadata `team`).")
    var team: String?

    func validate() throws {
        if let lift, !["squat", "bench", "deadlift"].contains(lift) { throw ValidationError("--lift must be squat, bench or deadlift") }
        if let attempt, !LiftDetails.attempts.contains(attempt) { throw ValidationError("--attempt must be 1...4") }
    }

    func run() async throws {
        do {
            let ports = try await FleetPorts.open(fleet, logger: quietLogger())
            var bucket = ports.rawBucket
            let objectKey: String
            if source.hasPrefix("s3://") {
                let uri = try S3URI.parse(source)
                guard uri.bucket == ports.rawBucket else {
                    throw CLIError(description: "\(source) is not in the raw bucket (\(ports.rawBucket.isEmpty ? "REFVISION_RAW_BUCKET is not set" : ports.rawBucket)); workers judge only uploads there", code: Exit.badInput)
                }
                bucket = uri.bucket
                objectKey = uri.key
            } else {
                try await ports.require(buckets: [("REFVISION_RAW_BUCKET", bucket)], table: false)
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory), !isDirectory.boolValue else {
                    throw CLIError(description: "\(source): no such file", code: Exit.badInput)
                }
                objectKey = key ?? (source as NSString).lastPathComponent
                let type = ["mp4": "video/mp4", "mov": "video/quicktime", "m4v": "video/mp4", "mkv": "video/x-matroska",
                            "webm": "video/webm", "avi": "video/x-msvideo"][(source as NSString).pathExtension.lowercased()] ?? "application/octet-stream"
                try await ports.objects.upload(file: source, bucket: bucket, key: objectKey, contentType: type,
                                               metadata: team.map { ["team": $0] } ?? [:])
            }
            let request = SubmitRequest(bucket: bucket, key: objectKey, lift: lift, meet: meet, athlete: athlete, attempt: attempt, team: team)
            try await ports.intake.send(body: try request.eventBody())
            print("submitted \(ports.objects.location(bucket: bucket, key: objectKey))")
            await ports.shutdown()
        } catch {
            failAndExit(error)
        }
    }
}

/// `refvision dlq list|show|redrive`: inspect and replay dead letters.
struct DLQCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "Inspect and redrive the dead-letter queues.",
        subcommands: [List.self, Show.self, Redrive.self])

    struct QueueChoice: ParsableArguments {
        @Option(help: "Which queue's DLQ: intake, jobs or results.")
        var queue: String = "jobs"

        func validate() throws {
            guard ["intake", "jobs", "results"].contains(queue) else { throw ValidationError("--queue must be intake, jobs or results") }
        }
    }

    /// Reads dead letters without consuming them where the backend allows it (embedded); on SQS a
    /// receive with visibility 0 (as the console does).
    static func peek(_ ports: FleetPorts, queue: String, limit: Int) async throws -> [QueueMessage] {
        let dlq = try ports.queue(named: queue + "-dlq")
        if let embedded = dlq as? SQLiteQueue { return try embedded.peek(limit: limit) }
        var seen: [String: QueueMessage] = [:]
        for _ in 0..<max(1, (limit + 9) / 10) {
            let batch = try await dlq.receive(maxMessages: 10, waitSeconds: 1, visibilityTimeout: 0)
            if batch.isEmpty { break }
            for message in batch { seen[message.messageId] = message }
            if seen.count >= limit { break }
        }
        return Array(seen.values.sorted { $0.sentAt < $1.sentAt }.prefix(limit))
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List dead letters.")
        @OptionGroup var fleet: FleetOptions
        @OptionGroup var choice: QueueChoice
        @Flag(help: "JSON lines.") var json = false
        @Option var limit = 100

        func run() async throws {
            do {
                let ports = try await FleetPorts.open(fleet, logger: quietLogger())
                let messages = try await DLQCommand.peek(ports, queue: choice.queue, limit: limit)
                await ports.shutdown()
                if messages.isEmpty && !json { print("\(choice.queue)-dlq is empty") }
                for m in messages {
                    if json {
                        let line: [String: Any] = ["messageId": m.messageId, "sentAt": AWSDate.formatISO8601(m.sentAt),
                                                   "receiveCount": m.receiveCount, "attributes": m.attributes, "body": m.body]
                        let data = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
                        print(String(decoding: data, as: UTF8.self))
                    } else {
                        let reason = m.attributes["reason"].map { " — \($0)" } ?? ""
                        print("\(m.messageId)  \(AWSDate.formatISO8601(m.sentAt))  \(m.body.prefix(80).replacingOccurrences(of: "\n", with: " "))\(reason)")
                    }
                }
            } catch {
                failAndExit(error)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print one dead letter's body and attributes.")
        @OptionGroup var fleet: FleetOptions
        @OptionGroup var choice: QueueChoice
        @Argument(help: "Message id (from dlq list).") var messageId: String

        func run() async throws {
            do {
                let ports = try await FleetPorts.open(fleet, logger: quietLogger())
                let messages = try await DLQCommand.peek(ports, queue: choice.queue, limit: 1000)
                await ports.shutdown()
                guard let m = messages.first(where: { $0.messageId == messageId }) else {
                    throw CLIError(description: "no message \(messageId) in \(choice.queue)-dlq", code: Exit.badInput)
                }
                print("message \(m.messageId), sent \(AWSDate.formatISO8601(m.sentAt)), received \(m.receiveCount)×")
                for (k, v) in m.attributes.sorted(by: { $0.key < $1.key }) { print("  \(k): \(v)") }
                print(m.body)
            } catch {
                failAndExit(error)
            }
        }
    }

    struct Redrive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Move every dead letter back to its source queue.")
        @OptionGroup var fleet: FleetOptions
        @OptionGroup var choice: QueueChoice

        func run() async throws {
            do {
                let ports = try await FleetPorts.open(fleet, logger: quietLogger())
                let moved = try await redrive(from: ports.queue(named: choice.queue + "-dlq"), to: ports.queue(named: choice.queue))
                await ports.shutdown()
                print("moved \(moved) message(s) from \(choice.queue)-dlq back to \(choice.queue)")
            } catch {
                failAndExit(error)
            }
        }
    }
}

/// Receive → send to the source → delete, until the DLQ is empty. A message is deleted only after its
/// copy was accepted, so a crash mid-way duplicates at worst (the fleet tolerates duplicates).
func redrive(from dlq: any JobQueue, to source: any JobQueue) async throws -> Int {
    var moved = 0
    while true {
        let batch = try await dlq.receive(maxMessages: 10, waitSeconds: 0, visibilityTimeout: 60)
        if batch.isEmpty { return moved }
        let outgoing = batch.enumerated().map { i, m in
            OutgoingMessage(id: "r\(i)", body: m.body, attributes: m.attributes.filter { $0.key != "reason" && $0.key != "sourceMessageId" })
        }
        let failures = Set(try await source.send(outgoing).map(\.id))
        let done = batch.enumerated().filter { !failures.contains("r\($0.offset)") }
        _ = try await dlq.deleteBatch(done.map { ("d\($0.offset)", $0.element.receiptHandle) })
        moved += done.count
        if !failures.isEmpty { throw FleetError.queueRejected(queue: source.name, "\(failures.count) message(s) not accepted") }
    }
}
