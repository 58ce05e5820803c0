import AWSSigner
import Fleet
import Foundation
import Testing

@Suite("Intake events")
struct IntakeEventTests {
    static let s3Direct = """
        {"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"eu-west-1","eventTime":"2026-11-21T09:00:00.000Z",
        "eventName":"ObjectCreated:Put","s3":{"s3SchemaVersion":"1.0","bucket":{"name":"raw","arn":"arn:aws:s3:::raw"},
        "object":{"key":"nationals+2026/j.+doe/squat-2.mp4","size":1048576,"eTag":"0123abcd","sequencer":"0055"}}}]}
        """

    @Test func directS3NotificationDecodesTheKeyTheS3Way() throws {
        let events = try IntakeEvent.parse(Self.s3Direct)
        guard case .objectCreated(let object, let source) = try #require(events.first) else { Issue.record("not objectCreated"); return }
        #expect(events.count == 1)
        #expect(source == "s3")
        #expect(object.bucket == "raw")
        #expect(object.key == "nationals 2026/j. doe/squat-2.mp4")
        #expect(object.rawKey == "nationals+2026/j.+doe/squat-2.mp4")
        #expect(object.size == 1_048_576)
        #expect(object.eTag == "0123abcd")
    }

    @Test func plusAndPercentInKeys() throws {
        let body = Self.s3Direct.replacingOccurrences(of: "nationals+2026/j.+doe/squat-2.mp4", with: "a%2Bb/c%25d/%C3%A9t%C3%A9+1.mp4")
        guard case .objectCreated(let object, _) = try #require(try IntakeEvent.parse(body).first) else { Issue.record("shape"); return }
        #expect(object.key == "a+b/c%d/été 1.mp4")
    }

    @Test func snsWrappedNotification() throws {
        let envelope: [String: Any] = ["Type": "Notification", "MessageId": "m-1", "TopicArn": "arn:aws:sns:eu-west-1:1:uploads",
                                       "Message": Self.s3Direct, "Timestamp": "2026-11-21T09:00:01.000Z"]
        let body = String(decoding: try JSONSerialization.data(withJSONObject: envelope), as: UTF8.self)
        guard case .objectCreated(let object, _) = try #require(try IntakeEvent.parse(body).first) else { Issue.record("shape"); return }
        #expect(object.key == "nationals 2026/j. doe/squat-2.mp4")
    }

    @Test func s3TestEventIsSkipped() throws {
        let body = #"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-21T09:00:00.000Z","Bucket":"raw","RequestId":"x","HostId":"y"}"#
        #expect(try IntakeEvent.parse(body) == [.test])
    }

    @Test func removedObjectsAreIgnoredNotFailed() throws {
        let body = Self.s3Direct.replacingOccurrences(of: "ObjectCreated:Put", with: "ObjectRemoved:Delete")
        guard case .ignored(let why) = try #require(try IntakeEvent.parse(body).first) else { Issue.record("shape"); return }
        #expect(why.contains("ObjectRemoved"))
    }

    @Test func eventBridgeObjectCreated() throws {
        let body = """
            {"version":"0","id":"17793124-05d4-b198-2fde-7ededc63b103","detail-type":"Object Created","source":"aws.s3",
            "account":"111122223333","time":"2026-11-21T09:00:00Z","region":"eu-west-1","resources":["arn:aws:s3:::raw"],
            "detail":{"version":"0","bucket":{"name":"raw"},"object":{"key":"meet/ath/bench-3.mov","size":5242880,
            "etag":"b1946ac92492d2347c6235b4d2611184","version-id":"IYV3p45BT0ac8hjHg1houSdS1a.Mro8e","sequencer":"617f0837b476e463"},
            "request-id":"N4N7GDK58NMKJ12R","requester":"123456789012","reason":"PutObject"}}
            """
        guard case .objectCreated(let object, let source) = try #require(try IntakeEvent.parse(body).first) else { Issue.record("shape"); return }
        #expect(source == "eventbridge")
        #expect(object.key == "meet/ath/bench-3.mov")
        #expect(object.versionId == "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e")
        #expect(object.eTag == "b1946ac92492d2347c6235b4d2611184")
    }

    @Test func scheduledEventIsASweep() throws {
        let body = #"{"version":"0","id":"x","detail-type":"Scheduled Event","source":"aws.events","time":"2026-11-21T09:05:00Z","resources":["arn:aws:events:eu-west-1:1:rule/sweep"],"detail":{}}"#
        #expect(try IntakeEvent.parse(body) == [.sweep])
    }

    @Test func submitRoundTrip() throws {
        let request = SubmitRequest(bucket: "raw", key: "m/a/squat-1.mp4", lift: "squat", meet: "m", athlete: "a", attempt: 1)
        #expect(try IntakeEvent.parse(try request.eventBody()) == [.submit(request)])
    }

    @Test(arguments: [
        ("", "empty body"),
        ("not json", "not JSON"),
        ("[1,2]", "not a JSON object"),
        ("42", "not a JSON object"),
        (#"{"hello":"world"}"#, "unknown event shape"),
        (#"{"Records":[]}"#, "no records"),
        (#"{"Records":[{"eventName":"ObjectCreated:Put"}]}"#, "lacks s3.bucket.name"),
        (#"{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"%zz"}}}]}"#, "URL encoding"),
        (#"{"source":"aws.s3","detail-type":"Object Created","detail":{"bucket":{}}}"#, "without detail.bucket.name"),
        (#"{"source":"aws.s3","detail-type":"Object Created","detail":{"bucket":{"name":"b"},"object":{"key":""}}}"#, "empty bucket or key"),
        (#"{"source":"refvision","detail-type":"Submit","detail":{"bucket":"b"}}"#, "valid detail"),
        (#"{"source":"evil","detail-type":"Boom","detail":{}}"#, "unknown EventBridge event"),
        (#"{"Type":"Notification","Message":"{not json"}"#, "not JSON"),
    ])
    func badBodiesGiveAReason(body: String, reason: String) {
        do {
            let events = try IntakeEvent.parse(body)
            Issue.record("parsed into \(events)")
        } catch let error as FleetError {
            #expect(error.description.contains(reason), "\(error)")
        } catch {
            Issue.record("untyped error \(error)")
        }
    }

    @Test func hugeAndDeeplyNestedBodiesAreRefused() {
        let huge = "{\"Records\":[" + String(repeating: "{},", count: 200_000) + "{}]}"
        #expect(throws: FleetError.self) { try IntakeEvent.parse(huge) }
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: FleetError.self) { try IntakeEvent.parse(deep) }
    }
}

@Suite("Job and result messages")
struct MessageTests {
    let job = JobMessage(bucket: "raw", key: "m/a/squat-2.mp4", version: "etag1", size: 10, lift: "squat", meet: "m",
                         athlete: "a", attempt: 2, source: "s3", createdAt: Date(timeIntervalSince1970: 1_790_000_000.25))

    @Test func jobRoundTripsWithSchemaAndVersion() throws {
        let body = try FleetJSON.string(job)
        #expect(body.contains(#""schema":"refvision.job""#))
        #expect(body.contains(#""schemaVersion":1"#))
        #expect(body.contains(#""createdAt":"2026-09-21T"#))
        #expect(try JobMessage.parse(body) == job)
    }

    @Test func jobIdIsDeterministicPerVersion() {
        #expect(job.jobId == jobIdentifier(bucket: "raw", key: "m/a/squat-2.mp4", version: "etag1"))
        #expect(job.jobId != jobIdentifier(bucket: "raw", key: "m/a/squat-2.mp4", version: "etag2"))
        #expect(job.jobId != jobIdentifier(bucket: "raw2", key: "m/a/squat-2.mp4", version: "etag1"))
        #expect(job.jobId.count == 32)
    }

    @Test func tamperedOrFutureJobsAreRefused() throws {
        let body = try FleetJSON.string(job)
        let tampered = body.replacingOccurrences(of: "squat-2.mp4", with: "squat-3.mp4")
        #expect(throws: FleetError.invalidMessage("jobId does not match bucket, key and version")) { try JobMessage.parse(tampered) }
        let future = body.replacingOccurrences(of: #""schemaVersion":1"#, with: #""schemaVersion":2"#)
        #expect(throws: FleetError.self) { try JobMessage.parse(future) }
        let other = body.replacingOccurrences(of: "refvision.job", with: "refvision.result")
        #expect(throws: FleetError.self) { try JobMessage.parse(other) }
        let missing = body.replacingOccurrences(of: #""bucket":"raw","#, with: "")
        do {
            _ = try JobMessage.parse(missing)
            Issue.record("parsed without bucket")
        } catch let error as FleetError {
            #expect(error.description.contains("bucket"))
        }
        #expect(throws: FleetError.self) { try JobMessage.parse(String(repeating: " ", count: 300_000)) }
        #expect(throws: FleetError.self) { try JobMessage.parse(#"{"schema":"refvision.job","schemaVersion":1,"createdAt":"yesterday"}"#) }
    }

    @Test func resultCarriesTheDecision() throws {
        var record = DecisionRecord(job: job, now: Date(timeIntervalSince1970: 1_790_000_000))
        record.state = .judged
        record.decision = "no_lift"
        record.reason = "depth: hip crease 0.05 thigh above the knee"
        record.replayBucket = "annotated"
        record.replayKey = OutputKeys.replay(rawKey: job.key, jobId: job.jobId)
        let message = ResultMessage(record: record, decidedAt: Date(timeIntervalSince1970: 1_790_000_100))
        let parsed = try ResultMessage.parse(try FleetJSON.string(message))
        #expect(parsed == message)
        #expect(parsed.replayKey == "m/a/squat-2.\(job.jobId.prefix(12)).replay.mp4")
    }

    @Test func outputKeysAreDeterministic() {
        #expect(OutputKeys.replay(rawKey: "a/b.c/squat.mov", jobId: "0123456789abcdef") == "a/b.c/squat.0123456789ab.replay.mp4")
        #expect(OutputKeys.replay(rawKey: "a/b.c/noext", jobId: "0123456789abcdef") == "a/b.c/noext.0123456789ab.replay.mp4")
        #expect(OutputKeys.verdict(rawKey: "lift.mp4", jobId: "0123456789abcdef") == "lift.0123456789ab.verdict.json")
        #expect(OutputKeys.replay(rawKey: ".hidden", jobId: "0123456789abcdef") == ".hidden.0123456789ab.replay.mp4")
    }

    @Test func wireDatesHaveMillisecondsAndSort() {
        #expect(AWSDate.formatISO8601(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(AWSDate.formatISO8601(Date(timeIntervalSince1970: 1_790_000_000.999)) == "2026-09-21T14:13:20.999Z")
        #expect(AWSDate.formatISO8601(Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59.500Z")
    }
}

@Suite("Key convention and dispatch rules")
struct DispatchRuleTests {
    @Test(arguments: [
        ("nationals-2026/j-doe/squat-2.mp4", LiftDetails(lift: "squat", meet: "nationals-2026", athlete: "j-doe", attempt: 2)),
        ("uploads/meet/ath/Bench_3.MOV", LiftDetails(lift: "bench", meet: "meet", athlete: "ath", attempt: 3)),
        ("meet/ath/deadlift1.mp4", LiftDetails(lift: "deadlift", meet: "meet", athlete: "ath", attempt: 1)),
        ("ath/squat-2.mp4", LiftDetails(lift: "squat", meet: nil, athlete: nil, attempt: 2)),
        ("clip.mp4", LiftDetails()),
        ("m/a/squat-9.mp4", LiftDetails(lift: "squat", meet: "m", athlete: "a", attempt: nil)),
        ("m/a/att2 squat.mp4", LiftDetails(lift: "squat", meet: "m", athlete: "a", attempt: 2)),
    ])
    func keyConvention(key: String, expected: LiftDetails) {
        #expect(LiftDetails.from(key: key) == expected)
    }

    @Test func metadataOverridesTheKey() {
        let details = LiftDetails.from(key: "m/a/squat-2.mp4", metadata: ["lift": "Bench", "attempt": "3", "athlete": " B. Lee ", "meet": "\u{7}"])
        #expect(details == LiftDetails(lift: "bench", meet: "m", athlete: "B. Lee", attempt: 3))
        let ignored = LiftDetails.from(key: "m/a/squat-2.mp4", metadata: ["lift": "curl", "attempt": "12"])
        #expect(ignored.lift == "squat" && ignored.attempt == 2)
    }

    @Test func rules() {
        let rules = DispatchRules()
        #expect(rules.rejection(key: "m/a/squat-1.mp4", size: 5_000_000, contentType: "video/mp4") == nil)
        #expect(rules.rejection(key: "m/a/squat-1.MOV", size: 5_000_000, contentType: nil) == nil)
        #expect(rules.rejection(key: "m/a/notes.txt", size: 5_000, contentType: "text/plain")?.contains("suffix") == true)
        #expect(rules.rejection(key: "m/a/squat.mp4", size: 5_000, contentType: "text/html")?.contains("content type") == true)
        #expect(rules.rejection(key: "m/a/squat.mp4", size: 10, contentType: nil)?.contains("smaller") == true)
        #expect(rules.rejection(key: "m/a/squat.mp4", size: 3 << 30, contentType: nil)?.contains("larger") == true)
        #expect(rules.rejection(key: "m/a/.squat.mp4", size: 5_000, contentType: nil) == "hidden file")
        var prefixed = DispatchRules()
        prefixed.prefix = "uploads/"
        #expect(prefixed.rejection(key: "other/squat.mp4", size: 5_000, contentType: nil)?.contains("prefix") == true)
    }

    @Test func backlogPerTaskNeverDividesByZero() {
        #expect(backlogPerTask(visible: 0, running: 0) == 0)
        #expect(backlogPerTask(visible: 7, running: 0) == 7)
        #expect(backlogPerTask(visible: 7, running: 2) == 4)
        #expect(backlogPerTask(visible: 6, running: 3) == 2)
        #expect(backlogPerTask(visible: 1, running: 10) == 1)
    }
}
