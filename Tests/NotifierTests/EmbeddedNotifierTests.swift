import Embedded
import Fleet
import FleetFixtures
import Foundation
import Judging
@testable import Notifier
import ReplayLinks
import Testing

/// The notifier on the embedded parts: SQLite results queue and decisions, the outbox folder, the
/// SQLite coach list. Everything real; nothing mocked.
struct EmbeddedNotifierHarness {
    let directory: String
    let state: EmbeddedState
    let results: SQLiteQueue
    let resultsDLQ: SQLiteQueue
    let outbox: String
    let notifier: Notifier
    let keys: LinkKeys

    init(label: String = #function, maxReceive: Int = 3) throws {
        directory = (NSTemporaryDirectory() as NSString).appendingPathComponent("refvision-notifier-\(label.filter(\.isLetter).prefix(30))-\(UUID().uuidString.prefix(8))")
        state = try EmbeddedState(directory: directory)
        resultsDLQ = try state.queue(named: "results-dlq")
        results = try state.queue(named: "results", visibilityTimeout: 30, maxReceiveCount: maxReceive, deadLetterQueue: "results-dlq")
        outbox = (directory as NSString).appendingPathComponent("outbox")
        keys = try LinkKeys(json: #"{"active":"k1","k1":"0123456789abcdef0123456789abcdef-test-secret"}"#)
        var configuration = NotifierConfiguration()
        configuration.retryBaseSeconds = 0
        configuration.coachCacheSeconds = 0
        notifier = Notifier(
            configuration: configuration, results: results, resultsDeadLetter: resultsDLQ, decisions: state.decisions,
            sink: try OutboxSink(directory: outbox, coaches: state.coaches, staffAddress: "staff@meet.example"),
            coaches: state.coaches,
            links: try SignedReplayLinks(signer: LinkSigner(keys: keys), baseURL: "http://127.0.0.1:8080"))
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }

    func store(_ record: DecisionRecord) async throws {
        #expect(try await state.decisions.create(record))
    }

    func sendResult(for record: DecisionRecord) async throws {
        try await results.send(body: try FleetJSON.string(ResultMessage(record: record, decidedAt: SampleDecisions.now)))
    }

    func outboxFiles() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: outbox)) ?? []).filter { $0.hasSuffix(".eml") }.sorted()
    }

    func read(_ name: String) throws -> String {
        try String(contentsOfFile: (outbox as NSString).appendingPathComponent(name), encoding: .utf8)
    }
}

@Suite(.serialized) struct EmbeddedNotifierTests {
    @Test func aResultBecomesOneEmailToTheMatchingCoach() async throws {
        let h = try EmbeddedNotifierHarness()
        defer { h.remove() }
        _ = try await h.state.coaches.add(try CoachSubscription.coach(email: "coach@lions.example", team: "lions", athlete: nil))
        _ = try await h.state.coaches.add(try CoachSubscription.coach(email: "other@tigers.example", team: "tigers", athlete: nil))
        let record = SampleDecisions.squat(.noLift)
        try await h.store(record)
        try await h.sendResult(for: record)

        #expect(try await h.notifier.pollOnce(waitSeconds: 0) == [.sent(audience: "coaches")])
        #expect(h.outboxFiles() == ["\(record.jobId.prefix(12))-coach@lions.example.eml"])
        let mail = try h.read(h.outboxFiles()[0])
        #expect(mail.contains("To: <coach@lions.example>\r\n"))
        #expect(mail.contains("X-Refvision-Team: lions\r\n"))
        #expect(mail.contains("X-Refvision-Audience: coaches\r\n"))
        let body = EmailTests.decodeBody(mail)
        // The link in the e-mail verifies with the service's keys and names this job.
        let link = try #require(body.split(separator: "\n").first { $0.hasPrefix("http://127.0.0.1:8080/r/") })
        let token = String(link.dropFirst("http://127.0.0.1:8080/r/".count))
        #expect(try LinkSigner(keys: h.keys).verify(token).jobId == record.jobId)

        let stored = try #require(try await h.state.decisions.get(jobId: record.jobId))
        #expect(stored.state == .notified)
        #expect(stored.notification?.delivery == .sent)
        #expect(stored.notification?.audience == "coaches")
        #expect(try await h.results.depth().total == 0)
    }

    @Test func duplicateResultsSendOneEmail() async throws {
        let h = try EmbeddedNotifierHarness()
        defer { h.remove() }
        let record = SampleDecisions.squat(.goodLift)
        try await h.store(record)
        try await h.sendResult(for: record)
        try await h.sendResult(for: record)
        try await h.sendResult(for: record)
        let outcomes = try await h.notifier.pollOnce(waitSeconds: 0)
        #expect(outcomes.filter { if case .sent = $0 { true } else { false } }.count == 1)
        #expect(outcomes.filter { $0 == .duplicate }.count == 2)
        #expect(h.outboxFiles().count == 1)
        #expect(h.outboxFiles()[0].hasSuffix("staff@meet.example.eml"), "no coach matches: the staff address gets it")
        #expect(try await h.results.depth().total == 0)
    }

    @Test func noMatchingCoachGoesToTheStaffList() async throws {
        let h = try EmbeddedNotifierHarness()
        defer { h.remove() }
        _ = try await h.state.coaches.add(try CoachSubscription.staffMember(email: "desk@meet.example"))
        _ = try await h.state.coaches.add(try CoachSubscription.coach(email: "c@bears.example", team: "bears", athlete: "b-lee"))
        let record = SampleDecisions.failed(team: "bears")  // athlete b-lee, team bears
        let other = SampleDecisions.squat(.needsReview, athlete: "x-ray", team: "bears")
        try await h.store(record)
        try await h.store(other)
        try await h.sendResult(for: record)
        try await h.sendResult(for: other)
        #expect(try await h.notifier.pollOnce(waitSeconds: 0) == [.sent(audience: "coaches"), .sent(audience: "staff")])
        #expect(h.outboxFiles().contains { $0.hasSuffix("c@bears.example.eml") && $0.hasPrefix(String(record.jobId.prefix(12))) })
        #expect(h.outboxFiles().contains { $0.hasSuffix("desk@meet.example.eml") && $0.hasPrefix(String(other.jobId.prefix(12))) })
        #expect(!h.outboxFiles().contains { $0.contains("staff@meet.example") }, "the staff list replaces the default address")
    }

    @Test(arguments: ["", "not json", #"{"schema":"refvision.job","schemaVersion":1}"#,
                      #"{"schema":"refvision.result","schemaVersion":99}"#, #"{"schema":"refvision.result","schemaVersion":1}"#,
                      String(repeating: "x", count: 200_000)])
    func malformedResultsGoToTheDLQWithTheReason(body: String) async throws {
        let h = try EmbeddedNotifierHarness()
        defer { h.remove() }
        try await h.results.send([OutgoingMessage(id: "1", body: body.isEmpty ? " " : body)])
        let outcomes = try await h.notifier.pollOnce(waitSeconds: 0)
        guard case .deadLettered(let reason)? = outcomes.first else {
            Issue.record("expected a dead letter, got \(outcomes)")
            return
        }
        #expect(!reason.isEmpty)
        let dead = try await h.resultsDLQ.receive(maxMessages: 10, waitSeconds: 0, visibilityTimeout: nil)
        #expect(dead.count == 1)
        #expect(dead.first?.attributes["reason"] == String(reason.prefix(1000)))
        #expect(try await h.results.depth().total == 0)
        #expect(h.outboxFiles().isEmpty)
    }

    @Test func unknownJobsAndUndecidedJobsGoToTheDLQ() async throws {
        let h = try EmbeddedNotifierHarness()
        defer { h.remove() }
        let unknown = SampleDecisions.squat(.noLift, athlete: "nobody")
        try await h.sendResult(for: unknown)
        var processing = SampleDecisions.squat(.noLift, athlete: "busy")
        processing.state = .processing
        try await h.store(processing)
        try await h.sendResult(for: processing)
        let outcomes = try await h.notifier.pollOnce(waitSeconds: 0)
        #expect(outcomes == [.deadLettered("no decision record for job \(unknown.jobId)"),
                             .deadLettered("job \(processing.jobId) is processing, not decided")])
        #expect(try await h.resultsDLQ.depth().total == 2)
    }

    @Test func aFailedDeliveryIsRetriedThenDeadLettered() async throws {
        let h = try EmbeddedNotifierHarness(maxReceive: 2)
        defer { h.remove() }
        let record = SampleDecisions.squat(.noLift)
        try await h.store(record)
        try await h.sendResult(for: record)
        // The outbox path is a file: every write fails before anything is written.
        try FileManager.default.createDirectory(atPath: h.directory, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: h.outbox))
        for _ in 0..<2 {
            let outcomes = try await h.notifier.pollOnce(waitSeconds: 0)
            guard case .retryLater(let reason)? = outcomes.first else {
                Issue.record("expected a retry, got \(outcomes)")
                return
            }
            #expect(reason.contains("writing the outbox"))
            let stored = try #require(try await h.state.decisions.get(jobId: record.jobId))
            #expect(stored.state == .judged, "the claim is given back")
            #expect(stored.notification?.delivery == .failed)
        }
        #expect(try await h.state.decisions.get(jobId: record.jobId)?.notification?.failedAttempts == 2)
        // The third receive finds the message past maxReceiveCount: the queue moves it to the DLQ.
        #expect(try await h.notifier.pollOnce(waitSeconds: 0).isEmpty)
        #expect(try await h.resultsDLQ.depth().total == 1)

        // Fixed and redriven: delivered once.
        try FileManager.default.removeItem(atPath: h.outbox)
        let dead = try await h.resultsDLQ.receive(maxMessages: 1, waitSeconds: 0, visibilityTimeout: nil)
        try await h.results.send(body: dead[0].body)
        #expect(try await h.notifier.pollOnce(waitSeconds: 0) == [.sent(audience: "staff")])
        #expect(h.outboxFiles().count == 1)
    }

    @Test func aClaimLeftByADeadNotifierIsDeliveredOnceByTheIdempotentOutbox() async throws {
        let h = try EmbeddedNotifierHarness()
        defer { h.remove() }
        var record = SampleDecisions.squat(.noLift)
        try await h.store(record)
        // A notifier claimed the job and was killed before confirming.
        record.state = .notified
        record.notification = NotificationStatus(delivery: .sending, claim: "dead-notifier", claimedAt: SampleDecisions.now)
        try await h.state.decisions.update(record, expectedRevision: 0)
        try await h.sendResult(for: record)
        #expect(try await h.notifier.pollOnce(waitSeconds: 0) == [.sent(audience: "staff")])
        #expect(h.outboxFiles().count == 1)
        #expect(try await h.state.decisions.get(jobId: record.jobId)?.notification?.delivery == .sent)
        try await h.sendResult(for: record)
        #expect(try await h.notifier.pollOnce(waitSeconds: 0) == [.duplicate])
        #expect(h.outboxFiles().count == 1)
    }

    @Test func aDuplicateWaitsForAClaimThatIsStillPublishing() async throws {
        let h = try EmbeddedNotifierHarness()
        defer { h.remove() }
        var record = SampleDecisions.squat(.noLift)
        try await h.store(record)
        record.state = .notified
        record.notification = NotificationStatus(delivery: .sending, claim: "busy-notifier", claimedAt: Date())
        try await h.state.decisions.update(record, expectedRevision: 0)
        try await h.sendResult(for: record)
        #expect(try await h.notifier.pollOnce(waitSeconds: 0) == [.retryLater("another notifier is publishing this decision")])
        #expect(h.outboxFiles().isEmpty)
        #expect(try await h.state.decisions.get(jobId: record.jobId)?.notification?.claim == "busy-notifier")
        #expect(try await h.results.depth().total == 1, "the result stays for the next look")
    }

    @Test func opsCanResendAnUnknownDeliveryAndOnlyForceASentOne() async throws {
        let h = try EmbeddedNotifierHarness()
        defer { h.remove() }
        var record = SampleDecisions.squat(.noLift)
        try await h.store(record)
        record.state = .notified
        record.notification = NotificationStatus(delivery: .unknown, claim: "old", claimedAt: SampleDecisions.now)
        try await h.state.decisions.update(record, expectedRevision: 0)

        let receipt = try await h.notifier.resend(jobId: record.jobId)
        #expect(receipt.audience == "staff" && receipt.recipients == ["staff@meet.example"])
        #expect(h.outboxFiles().count == 1)
        #expect(try await h.state.decisions.get(jobId: record.jobId)?.notification?.delivery == .sent)
        await #expect(throws: FleetError.self) { _ = try await h.notifier.resend(jobId: record.jobId) }
        _ = try await h.notifier.resend(jobId: record.jobId, force: true)
        await #expect(throws: FleetError.decisionNotFound("nope")) { _ = try await h.notifier.resend(jobId: "nope") }
        var queued = SampleDecisions.squat(.noLift, athlete: "later")
        queued.state = .queued
        try await h.store(queued)
        await #expect(throws: FleetError.self) { _ = try await h.notifier.resend(jobId: queued.jobId) }
    }

    @Test func coachDirectoryAddListRemove() async throws {
        let h = try EmbeddedNotifierHarness()
        defer { h.remove() }
        let coaches = h.state.coaches
        let added = try await coaches.add(try CoachSubscription.coach(email: "c@x.org", team: "lions", athlete: nil))
        _ = try await coaches.add(try CoachSubscription.coach(email: "c@x.org", team: "lions", athlete: nil))
        _ = try await coaches.add(try CoachSubscription.coach(email: "c@x.org", team: "tigers", athlete: "t-one"))
        _ = try await coaches.add(try CoachSubscription.staffMember(email: "s@x.org"))
        #expect(added.id != nil)
        let listed = try await coaches.list()
        #expect(listed.map { "\($0.email) \($0.team ?? "-") \($0.athlete ?? "*") \($0.staff)" } ==
                ["c@x.org lions * false", "c@x.org tigers t-one false", "s@x.org - * true"])
        #expect(try await coaches.remove(email: "c@x.org", team: "tigers") == 1)
        #expect(try await coaches.remove(email: "c@x.org", team: "nope") == 0)
        #expect(try await coaches.remove(email: "S@X.org", team: nil) == 1, "addresses match without case")
        #expect(try await coaches.list().map(\.email) == ["c@x.org"])
        await #expect(throws: FleetError.self) {
            _ = try await coaches.add(CoachSubscription(email: "c@x.org\r\nBcc: y@z", team: "lions"))
        }
    }
}
