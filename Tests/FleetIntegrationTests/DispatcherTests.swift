import AWSSigner
import Dispatcher
import Fleet
import Foundation
import Logging
import Testing
import TestSupport

func makeDispatcher(_ fleet: TestFleet, staleQueuedSeconds: TimeInterval = 900) -> Dispatcher {
    var configuration = DispatcherConfiguration(rawBucket: fleet.rawBucket)
    configuration.receiveWaitSeconds = 0
    configuration.staleQueuedSeconds = staleQueuedSeconds
    return Dispatcher(configuration: configuration, intake: fleet.intake, intakeDeadLetter: fleet.intakeDLQ, jobs: fleet.jobs,
                      objects: fleet.objects, decisions: fleet.decisions, logger: quietLogger("refvision.dispatcher"))
}

/// Polls the intake queue until it is empty; returns the summed report.
func dispatchAll(_ dispatcher: Dispatcher, _ fleet: TestFleet) async throws -> DispatchReport {
    var total = DispatchReport()
    var emptyPolls = 0
    while emptyPolls < 2 {
        let report = try await dispatcher.pollOnce(waitSeconds: 1)
        total = total + report
        if report == DispatchReport(), try await fleet.intake.depth().total == 0 { emptyPolls += 1 } else { emptyPolls = 0 }
    }
    return total
}

func s3Event(bucket: String, key: String, eTag: String?) -> String {
    let encoded = AWSURIEncoding.encode(key, keepSlash: true).replacingOccurrences(of: "%20", with: "+")
    let object: [String: Any] = ["key": encoded, "size": 4096, "eTag": eTag ?? "", "sequencer": "01"]
    let record: [String: Any] = ["eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                                 "eventTime": "2026-11-21T09:00:00.000Z", "eventName": "ObjectCreated:Put",
                                 "s3": ["bucket": ["name": bucket], "object": object]]
    return String(decoding: try! JSONSerialization.data(withJSONObject: ["Records": [record]]), as: UTF8.self)
}

func eventBridgeEvent(bucket: String, key: String) -> String {
    let encoded = AWSURIEncoding.encode(key, keepSlash: true).replacingOccurrences(of: "%20", with: "+")
    let event: [String: Any] = ["version": "0", "source": "aws.s3", "detail-type": "Object Created", "time": "2026-11-21T09:00:00Z",
                                "detail": ["bucket": ["name": bucket], "object": ["key": encoded, "size": 4096]]]
    return String(decoding: try! JSONSerialization.data(withJSONObject: event), as: UTF8.self)
}

let scheduledEvent = #"{"version":"0","source":"aws.events","detail-type":"Scheduled Event","time":"2026-11-21T09:05:00Z","detail":{}}"#

/// A file that passes the dispatch rules (the dispatcher never decodes videos).
func fakeVideo(_ temp: TempDir, _ name: String, seed: UInt8 = 1) throws -> String {
    let path = temp.path(name)
    try Data((0..<4096).map { UInt8(truncatingIfNeeded: Int($0) &* Int(seed) &+ 3) }).write(to: URL(fileURLWithPath: path))
    return path
}

@Suite("Dispatcher, on both backends", .serialized)
struct DispatcherTests {
    @Test(arguments: Backend.available)
    func duplicateEventsMakeOneJob(backend: Backend) async throws {
        let fleet = try await TestFleet.make(backend)
        defer { Task { await fleet.close() } }
        let key = "nationals 2026/j+doe/squat-2.mp4"
        try await fleet.upload(try fakeVideo(fleet.temp, "a.mp4"), key: key)
        let eTag = try await fleet.objects.head(bucket: fleet.rawBucket, key: key).eTag
        for _ in 0..<3 { try await fleet.intake.send(body: s3Event(bucket: fleet.rawBucket, key: key, eTag: eTag)) }
        try await fleet.intake.send(body: eventBridgeEvent(bucket: fleet.rawBucket, key: key))
        try await fleet.intake.send(body: try SubmitRequest(bucket: fleet.rawBucket, key: key).eventBody())
        let report = try await dispatchAll(makeDispatcher(fleet), fleet)
        #expect(report.jobsSent == 1)
        #expect(report.duplicates == 4)
        let jobs = try await fleet.drain(fleet.jobs)
        #expect(jobs.count == 1)
        let job = try JobMessage.parse(try #require(jobs.first).body)
        #expect(job.key == key)
        #expect(job.meet == "nationals 2026" && job.athlete == "j+doe" && job.lift == "squat" && job.attempt == 2)
        let record = try #require(try await fleet.decisions.get(jobId: job.jobId))
        #expect(record.state == .queued)
        #expect(try await fleet.intakeDLQ.depth().total == 0)
    }

    @Test(arguments: Backend.available)
    func badBodiesGoToTheIntakeDLQAndTheDispatcherCarriesOn(backend: Backend) async throws {
        let fleet = try await TestFleet.make(backend)
        defer { Task { await fleet.close() } }
        let bad = ["not json", "{}", #"{"Records":[{"eventName":"ObjectCreated:Put"}]}"#,
                   "{\"x\":\"" + String(repeating: "A", count: 200_000) + "\"}", #"{"source":"evil","detail-type":"x"}"#]
        for body in bad { try await fleet.intake.send(body: body) }
        try await fleet.upload(try fakeVideo(fleet.temp, "b.mp4"), key: "m/a/deadlift-1.mp4")
        try await fleet.intake.send(body: eventBridgeEvent(bucket: fleet.rawBucket, key: "m/a/deadlift-1.mp4"))
        let report = try await dispatchAll(makeDispatcher(fleet), fleet)
        #expect(report.deadLettered == bad.count)
        #expect(report.jobsSent == 1)
        let dead = try await fleet.drain(fleet.intakeDLQ)
        #expect(dead.count == bad.count)
        #expect(dead.allSatisfy { !($0.attributes["reason"] ?? "").isEmpty })
        #expect(Set(dead.map(\.body)).isSuperset(of: ["not json", "{}"]))
        #expect(try await fleet.intake.depth().total == 0)
    }

    @Test(arguments: Backend.available)
    func sweepOverlappingLiveEventsMakesNoDuplicates(backend: Backend) async throws {
        let fleet = try await TestFleet.make(backend)
        defer { Task { await fleet.close() } }
        let keys = ["m/a/squat-1.mp4", "m/a/squat-2.mp4", "m/b/bench-1.mov"]
        for (i, key) in keys.enumerated() { try await fleet.upload(try fakeVideo(fleet.temp, "v\(i).mp4", seed: UInt8(i + 2)), key: key) }
        try await fleet.upload(try fakeVideo(fleet.temp, "notes.txt"), key: "m/a/notes.txt", contentType: "text/plain")
        try await fleet.intake.send(body: eventBridgeEvent(bucket: fleet.rawBucket, key: keys[0]))
        try await fleet.intake.send(body: scheduledEvent)
        try await fleet.intake.send(body: eventBridgeEvent(bucket: fleet.rawBucket, key: keys[1]))
        try await fleet.intake.send(body: scheduledEvent)
        let dispatcher = makeDispatcher(fleet)
        let report = try await dispatchAll(dispatcher, fleet)
        #expect(report.jobsSent == 3)
        let jobs = try await fleet.drain(fleet.jobs)
        #expect(Set(try jobs.map { try JobMessage.parse($0.body).key }) == Set(keys))
        #expect(jobs.count == 3)
        // Once more, later: still nothing new.
        try await fleet.intake.send(body: scheduledEvent)
        #expect(try await dispatchAll(dispatcher, fleet).jobsSent == 0)
        #expect(try await fleet.decisions.list(meet: "m", limit: 10).count == 3)
    }

    @Test(arguments: Backend.available)
    func eventsAndSubmitsForOtherBucketsAreSkipped(backend: Backend) async throws {
        let fleet = try await TestFleet.make(backend)
        defer { Task { await fleet.close() } }
        // The annotated bucket exists and holds a video-like object; workers may not read it.
        try await fleet.objects.upload(file: try fakeVideo(fleet.temp, "x.mp4"), bucket: fleet.annotatedBucket, key: "m/a/squat-1.mp4",
                                       contentType: "video/mp4", metadata: [:])
        try await fleet.intake.send(body: eventBridgeEvent(bucket: fleet.annotatedBucket, key: "m/a/squat-1.mp4"))
        try await fleet.intake.send(body: s3Event(bucket: fleet.annotatedBucket, key: "m/a/squat-1.mp4", eTag: "e"))
        try await fleet.intake.send(body: try SubmitRequest(bucket: fleet.annotatedBucket, key: "m/a/squat-1.mp4").eventBody())
        let report = try await dispatchAll(makeDispatcher(fleet), fleet)
        #expect(report.skipped == 3)
        #expect(report.jobsSent == 0 && report.deadLettered == 0)
        #expect(try await fleet.jobs.depth().total == 0)
        #expect(try await fleet.decisions.list(meet: nil, limit: 10).isEmpty)
    }

    @Test(arguments: Backend.available)
    func aSweepResendsJobsStuckInQueued(backend: Backend) async throws {
        let fleet = try await TestFleet.make(backend)
        defer { Task { await fleet.close() } }
        try await fleet.upload(try fakeVideo(fleet.temp, "c.mp4"), key: "m/a/squat-3.mp4")
        try await fleet.intake.send(body: eventBridgeEvent(bucket: fleet.rawBucket, key: "m/a/squat-3.mp4"))
        _ = try await dispatchAll(makeDispatcher(fleet), fleet)
        // The job message is lost (say, the dispatcher died between claim and send).
        #expect(try await fleet.drain(fleet.jobs).count == 1)
        try await fleet.intake.send(body: scheduledEvent)
        #expect(try await dispatchAll(makeDispatcher(fleet, staleQueuedSeconds: 0), fleet).jobsSent == 1)
        #expect(try await fleet.drain(fleet.jobs).count == 1)
    }

    @Test(arguments: Backend.available)
    func testEventsMissingObjectsAndFilteredFilesAreSkipped(backend: Backend) async throws {
        let fleet = try await TestFleet.make(backend)
        defer { Task { await fleet.close() } }
        try await fleet.intake.send(body: #"{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"raw"}"#)
        try await fleet.intake.send(body: eventBridgeEvent(bucket: fleet.rawBucket, key: "m/a/gone.mp4"))
        try await fleet.upload(try fakeVideo(fleet.temp, "d.txt"), key: "m/a/readme.txt", contentType: "text/plain")
        try await fleet.intake.send(body: eventBridgeEvent(bucket: fleet.rawBucket, key: "m/a/readme.txt"))
        let report = try await dispatchAll(makeDispatcher(fleet), fleet)
        #expect(report.jobsSent == 0 && report.deadLettered == 0)
        #expect(report.skipped == 2)
        #expect(try await fleet.jobs.depth().total == 0)
    }
}
