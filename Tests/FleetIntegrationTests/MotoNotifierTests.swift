import AWS
import AWSSigner
import Fleet
import FleetAWS
import FleetFixtures
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import Notifier
import ReplayLinks
import Testing
import TestSupport

/// The notifier on AWS (moto): DynamoDB decisions, the results queue, the coaches SNS topic with e-mail
/// subscriptions and filter policies, and an SQS queue subscribed to the topic to see what SNS delivers.
@Suite("The notifier on AWS (moto)", .serialized,
       .enabled(if: Backend.motoEndpoint != nil, "needs moto_server (make test starts it)"))
struct MotoNotifierTests {
    static let keys = try! LinkKeys(json: #"{"active":"k1","k1":"moto-test-secret-moto-test-secret-123"}"#)

    struct Setup {
        /// A moto of the suite's own: the shared one's data.json breaks once any test deletes a bucket that
        /// held objects (see PrivateMotoServer).
        let moto: PrivateMotoServer
        let fleet: TestFleet
        let client: AWSClient
        let sns: SNSClient
        let topicArn: String
        let observerURL: String
        let resultsDLQ: SQSJobQueue
        let coaches: SNSCoachDirectory

        func notifier(sink: (any NotificationSink)? = nil) throws -> Notifier {
            var configuration = NotifierConfiguration()
            configuration.retryBaseSeconds = 0
            configuration.coachCacheSeconds = 0
            return Notifier(
                configuration: configuration, results: fleet.results, resultsDeadLetter: resultsDLQ, decisions: fleet.decisions,
                sink: sink ?? SNSNotificationSink(sns: sns, topicArn: topicArn), coaches: coaches,
                links: try SignedReplayLinks(signer: LinkSigner(keys: MotoNotifierTests.keys), baseURL: "https://replay.example.com"))
        }

        func send(_ record: DecisionRecord) async throws {
            try await fleet.results.send(body: try FleetJSON.string(ResultMessage(record: record, decidedAt: SampleDecisions.now)))
        }

        /// What the observer queue (subscribed to the topic, no filter) received: SNS envelopes.
        func delivered(wait: Int = 2) async throws -> [[String: Any]] {
            let sqs = SQSClient(client: client)
            var all: [[String: Any]] = []
            while true {
                let batch = try await sqs.receiveMessages(queueURL: observerURL, maxMessages: 10, waitTimeSeconds: all.isEmpty ? wait : 0)
                if batch.isEmpty { return all }
                for message in batch {
                    try await sqs.deleteMessage(queueURL: observerURL, receiptHandle: message.receiptHandle)
                    all.append(try #require(try JSONSerialization.jsonObject(with: Data(message.body.utf8)) as? [String: Any]))
                }
            }
        }

        /// The e-mail-protocol copies moto recorded for the topic (`/moto-api/data.json`): one per publish,
        /// as `[messageId, message, subject, attributes, groupId]`.
        func sentNotifications() async throws -> [[Any]] {
            let endpoint = moto.endpoint
            let (data, _) = try await URLSession.shared.data(from: try #require(URL(string: endpoint + "/moto-api/data.json")))
            let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let topics = (root["sns"] as? [String: Any])?["Topic"] as? [[String: Any]] ?? []
            // moto lists a topic once per CreateTopic call; the copies sharing the ARN are merged.
            return topics.filter { $0["arn"] as? String == topicArn }.flatMap { $0["sent_notifications"] as? [[Any]] ?? [] }
        }

        func close() async {
            await fleet.close()
            moto.stop()
        }

        static func make() async throws -> Setup {
            let moto = try await PrivateMotoServer.start()
            let fleet = try await TestFleet.make(.moto, motoEndpoint: moto.endpoint)
            let client = try #require(fleet.client)
            let sns = SNSClient(client: client)
            let topicArn = try #require(fleet.environment["REFVISION_COACHES_TOPIC_ARN"])
            let sqs = SQSClient(client: client)
            let observerURL = try await sqs.createQueue(name: "obs-" + UUID().uuidString.prefix(8).lowercased())
            let observerArn = try #require(try await sqs.getQueueAttributes(queueURL: observerURL, names: ["QueueArn"])["QueueArn"])
            _ = try await sns.subscribe(topicArn: topicArn, protocol: "sqs", endpoint: observerArn)
            let resultsDLQ = try #require(try await (fleet.results as? SQSJobQueue)?.deadLetterQueue())
            return Setup(moto: moto, fleet: fleet, client: client, sns: sns, topicArn: topicArn, observerURL: observerURL, resultsDLQ: resultsDLQ,
                         coaches: SNSCoachDirectory(sns: sns, topicArn: topicArn))
        }
    }

    @Test func aResultIsPublishedOnceWithTheAttributesTheCoachesFilterOn() async throws {
        let s = try await Setup.make()
        defer { Task { await s.close() } }
        _ = try await s.coaches.add(try CoachSubscription.coach(email: "coach@lions.example", team: "lions", athlete: nil))
        _ = try await s.coaches.add(try CoachSubscription.staffMember(email: "desk@meet.example"))
        let record = SampleDecisions.squat(.noLift)
        #expect(try await s.fleet.decisions.create(record))
        try await s.send(record)

        #expect(try await s.notifier().pollOnce(waitSeconds: 1) == [.sent(audience: "coaches")])

        let stored = try #require(try await s.fleet.decisions.get(jobId: record.jobId))
        #expect(stored.state == .notified)
        #expect(stored.notification?.delivery == .sent)

        // What SNS delivered to a subscribed queue: the body, the subject and the filterable attributes.
        let envelopes = try await s.delivered()
        #expect(envelopes.count == 1)
        let envelope = try #require(envelopes.first)
        #expect(envelope["Type"] as? String == "Notification")
        #expect(envelope["MessageId"] as? String == stored.notification?.messageId)
        #expect(envelope["Subject"] as? String == "Squat — J. Doe — attempt 2 — NO LIFT (depth)")
        let body = try #require(envelope["Message"] as? String)
        #expect(body.contains("Decision: NO LIFT"))
        #expect(body.contains("[FAIL] Depth"))
        let link = try #require(body.split(separator: "\n").first { $0.hasPrefix("https://replay.example.com/r/") })
        #expect(try LinkSigner(keys: Self.keys).verify(String(link.dropFirst("https://replay.example.com/r/".count))).jobId == record.jobId)
        let attributes = try #require(envelope["MessageAttributes"] as? [String: [String: String]])
        #expect(attributes.mapValues { $0["Value"] ?? "" } == [
            "audience": "coaches", "decision": "no_lift", "meet": "nationals-2026", "team": "lions", "athlete": "jane-doe", "lift": "squat",
        ])
        #expect(attributes["team"]?["Type"] == "String")

        // The e-mail-protocol copy moto keeps.
        let sent = try await s.sentNotifications()
        #expect(sent.count == 1)
        #expect(sent.first?[1] as? String == body)
        #expect(sent.first?[2] as? String == "Squat — J. Doe — attempt 2 — NO LIFT (depth)")

        // A duplicated result (SQS delivers at least once; the worker may re-send): still one e-mail.
        try await s.send(record)
        try await s.send(record)
        #expect(try await s.notifier().pollOnce(waitSeconds: 1) == [.duplicate, .duplicate])
        #expect(try await s.sentNotifications().count == 1)
        #expect(try await s.delivered(wait: 1).isEmpty)
        #expect(try await s.fleet.results.depth().total == 0)
    }

    @Test func unmatchedDecisionsGoToTheStaffAudience() async throws {
        let s = try await Setup.make()
        defer { Task { await s.close() } }
        _ = try await s.coaches.add(try CoachSubscription.coach(email: "coach@lions.example", team: "lions", athlete: nil))
        let record = SampleDecisions.failed(team: "tigers")
        #expect(try await s.fleet.decisions.create(record))
        try await s.send(record)
        #expect(try await s.notifier().pollOnce(waitSeconds: 1) == [.sent(audience: "staff")])
        let envelope = try #require(try await s.delivered().first)
        let attributes = try #require(envelope["MessageAttributes"] as? [String: [String: String]])
        #expect(attributes["audience"]?["Value"] == "staff")
        #expect(attributes["decision"]?["Value"] == "failed")
        #expect((envelope["Subject"] as? String)?.hasSuffix("NOT JUDGED (unreadable video)") == true)
    }

    @Test func aPublishThatSNSRefusesIsRetriedAndEndsInTheDLQ() async throws {
        let s = try await Setup.make()
        defer { Task { await s.close() } }
        let record = SampleDecisions.squat(.goodLift)
        #expect(try await s.fleet.decisions.create(record))
        try await s.send(record)
        // A topic that does not exist: SNS answers 404 NotFound, so nothing was published.
        let missing = SNSNotificationSink(sns: s.sns, topicArn: s.topicArn + "-missing")
        let notifier = try s.notifier(sink: missing)
        var retries = 0
        for _ in 0..<8 {
            let outcomes = try await notifier.pollOnce(waitSeconds: 1)
            if outcomes.isEmpty { break }
            for outcome in outcomes {
                guard case .retryLater(let why) = outcome else {
                    Issue.record("expected a retry, got \(outcome)")
                    return
                }
                #expect(why.contains("NotFound"))
                retries += 1
            }
        }
        #expect(retries == 5, "the results queue's maxReceiveCount")
        let stored = try #require(try await s.fleet.decisions.get(jobId: record.jobId))
        #expect(stored.state == .judged)
        #expect(stored.notification?.delivery == .failed)
        #expect(stored.notification?.failedAttempts == 5)
        try await eventually("the result in the results DLQ", seconds: 10) { try await s.resultsDLQ.depth().total == 1 }
        #expect(try await s.sentNotifications().isEmpty)
    }

    @Test func aPublishWithAnUnknownOutcomeIsNeverRepeated() async throws {
        let s = try await Setup.make()
        defer { Task { await s.close() } }
        let record = SampleDecisions.squat(.noLift)
        #expect(try await s.fleet.decisions.create(record))
        try await s.send(record)
        // SNS behind a server that accepts the connection and never answers: the request went out, and
        // whether it was published is unknown.
        let silent = try SilentServer()
        defer { silent.close() }
        var configuration = try AWSConfiguration.local(endpoint: "http://127.0.0.1:\(silent.port)", region: "us-east-1")
        configuration.timeouts.request = .milliseconds(800)
        configuration.timeouts.read = .milliseconds(800)
        configuration.retry = AWSRetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(10), maxBackoff: .milliseconds(50))
        let blackHole = AWSClient(configuration: configuration, credentialProvider: StaticCredentialProvider(
            AWSCredentials(accessKeyId: "testing", secretAccessKey: "testing")))
        defer { Task { try? await blackHole.shutdown() } }
        let notifier = try s.notifier(sink: SNSNotificationSink(sns: SNSClient(client: blackHole), topicArn: s.topicArn))
        let outcomes = try await notifier.pollOnce(waitSeconds: 1)
        guard case .deliveryUnknown? = outcomes.first else {
            Issue.record("expected an unknown delivery, got \(outcomes)")
            return
        }
        #expect(silent.connections == 1, "a publish is not retried after an ambiguous failure")
        let stored = try #require(try await s.fleet.decisions.get(jobId: record.jobId))
        #expect(stored.state == .notified)
        #expect(stored.notification?.delivery == .unknown)
        // The same result again (redelivered): no second attempt.
        try await s.send(record)
        #expect(try await s.notifier().pollOnce(waitSeconds: 1) == [.duplicate])
        #expect(try await s.sentNotifications().isEmpty)
        // Ops decide to send it anyway (`refvision resend`): one publish, now recorded as sent.
        let receipt = try await s.notifier().resend(jobId: record.jobId)
        #expect(try await s.sentNotifications().count == 1)
        let resent = try #require(try await s.fleet.decisions.get(jobId: record.jobId))
        #expect(resent.notification?.delivery == .sent)
        #expect(resent.notification?.messageId == receipt.messageId)
    }

    @Test func presignedModeLinksAreClampedToSevenDaysAndToTheCredentials() async throws {
        let s = try await Setup.make()
        defer { Task { await s.close() } }
        let record = SampleDecisions.squat(.goodLift, annotatedBucket: s.fleet.annotatedBucket)
        let file = s.fleet.temp.path("replay.mp4")
        try Data("replay bytes".utf8).write(to: URL(fileURLWithPath: file))
        try await s.fleet.objects.upload(file: file, bucket: s.fleet.annotatedBucket, key: try #require(record.replayKey),
                                         contentType: "video/mp4", metadata: [:])
        let now = Date()
        // Long-lived keys: the link is cut to S3's 7-day limit, and it fetches the replay.
        let long = try #require(try await PresignedReplayLinks(s3: S3Client(client: s.client), seconds: 30 * 86400).link(for: record, now: now))
        #expect(abs(long.expires.timeIntervalSince(now) - 7 * 86400) < 2)
        let (data, response) = try await URLSession.shared.data(from: try #require(URL(string: long.url)))
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        #expect(data == Data("replay bytes".utf8))
        // Session credentials that expire in an hour: the link dies with them, and says so.
        var configuration = try AWSConfiguration.local(endpoint: s.moto.endpoint, region: "us-east-1")
        configuration.retry = AWSRetryPolicy(maxAttempts: 1)
        let session = AWSClient(configuration: configuration, credentialProvider: StaticCredentialProvider(AWSCredentials(
            accessKeyId: "testing", secretAccessKey: "testing", sessionToken: "token", expiration: now.addingTimeInterval(3600))))
        defer { Task { try? await session.shutdown() } }
        let short = try #require(try await PresignedReplayLinks(s3: S3Client(client: session), seconds: 7 * 86400).link(for: record, now: now))
        #expect(short.expires <= now.addingTimeInterval(3600))
        #expect(short.url.contains("X-Amz-Security-Token="))
        // The e-mail carries that expiry.
        let mail = NotificationComposer.compose(record, link: short.url, linkExpires: short.expires, audience: "staff")
        #expect(mail.body.contains("link valid until \(HumanDate.utc(short.expires))"))
        var failed = record
        failed.replayKey = nil
        #expect(try await PresignedReplayLinks(s3: S3Client(client: s.client), seconds: 3600).link(for: failed, now: now) == nil)
    }

    @Test func coachesAreEmailSubscriptionsWithOneFilterPolicyPerAddress() async throws {
        let s = try await Setup.make()
        defer { Task { await s.close() } }
        let lions = try await s.coaches.add(try CoachSubscription.coach(email: "c@x.org", team: "lions", athlete: nil))
        let tigers = try await s.coaches.add(try CoachSubscription.coach(email: "c@x.org", team: "tigers", athlete: nil))
        #expect(lions.id == tigers.id, "one subscription per address and topic")
        var listed = try await s.coaches.list()
        #expect(listed.map { "\($0.email) \($0.team ?? "-")" } == ["c@x.org lions", "c@x.org tigers"])
        let policy = try await s.sns.getSubscriptionAttributes(subscriptionArn: try #require(lions.id))["FilterPolicy"]
        #expect(CoachFilterPolicy.entries(email: "c@x.org", policy: policy, id: nil, pending: false)?.compactMap(\.team).sorted() == ["lions", "tigers"])

        _ = try await s.coaches.add(try CoachSubscription.coach(email: "c@x.org", team: "bears", athlete: "b-lee"))
        _ = try await s.coaches.add(try CoachSubscription.staffMember(email: "desk@x.org"))
        listed = try await s.coaches.list()
        #expect(listed.count == 4)
        #expect(listed.contains { $0.team == "bears" && $0.athlete == "b-lee" })
        #expect(listed.contains { $0.staff && $0.email == "desk@x.org" })

        #expect(try await s.coaches.remove(email: "c@x.org", team: "lions") == 1)
        #expect(try await s.coaches.list().filter { $0.email == "c@x.org" }.compactMap(\.team).sorted() == ["bears", "tigers"])
        #expect(try await s.coaches.remove(email: "c@x.org", team: nil) == 2)
        #expect(try await s.coaches.list().map(\.email) == ["desk@x.org"])
        let remaining = try await s.sns.listSubscriptionsByTopic(topicArn: s.topicArn).filter { $0.protocolName == "email" }
        #expect(remaining.map(\.endpoint) == ["desk@x.org"])
    }
}

/// A TCP server that accepts connections and never answers (the request goes out; no response comes).
final class SilentServer: @unchecked Sendable {
    let port: Int
    private let fd: Int32
    private let lock = NSLock()
    private var accepted: [Int32] = []
    private var thread: Thread?

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = loopbackAddress()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0, listen(fd, 16) == 0 else { throw CommandFailed(description: "silent server: bind/listen failed") }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        port = Int(UInt16(bigEndian: address.sin_port))
        let listener = fd
        let thread = Thread { [weak self] in
            while true {
                let client = accept(listener, nil, nil)
                if client < 0 { return }
                self?.lock.withLock { self?.accepted.append(client) }
            }
        }
        thread.start()
        self.thread = thread
    }

    var connections: Int { lock.withLock { accepted.count } }

    func close() {
        shutdown(fd, Int32(SHUT_RDWR))
        Glibc.close(fd)
        lock.withLock { for client in accepted { Glibc.close(client) } }
    }
}
