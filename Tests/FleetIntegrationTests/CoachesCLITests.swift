import Embedded
import Fleet
import FleetFixtures
import Foundation
import Testing
import TestSupport

/// `refvision coaches` and `refvision replay` as ops run them, on both backends.
@Suite("refvision coaches and replay, as ops run them", .serialized,
       .enabled(if: Binary.available, "needs .build/debug/refvision"))
struct CoachesCLITests {
    @Test(arguments: Backend.available)
    func coachesAddListRemove(backend: Backend) async throws {
        let fleet = try await TestFleet.make(backend)
        defer { Task { await fleet.close() } }
        var environment = fleet.environment
        if backend == .moto {
            // What ops need for the coach list on AWS: the topic (and credentials), nothing else.
            for name in ["REFVISION_TABLE", "REFVISION_JOBS_QUEUE_URL", "REFVISION_INTAKE_QUEUE_URL", "REFVISION_RESULTS_QUEUE_URL",
                         "REFVISION_RAW_BUCKET", "REFVISION_ANNOTATED_BUCKET"] {
                environment.removeValue(forKey: name)
            }
        }
        let env = environment
        func run(_ arguments: [String]) async throws -> (Int32, String, String) {
            try await refvision(["coaches"] + arguments + fleet.backendArguments, environment: env, temp: fleet.temp)
        }
        var (status, out, err) = try await run(["add", "coach@lions.example", "--team", "lions"])
        #expect(status == 0, "\(err)")
        #expect(out.contains("added coach@lions.example  team lions, every athlete"))
        (status, _, err) = try await run(["add", "coach@lions.example", "--team", "bears", "--athlete", "b-lee"])
        #expect(status == 0, "\(err)")
        (status, _, _) = try await run(["add", "desk@meet.example", "--staff"])
        #expect(status == 0)
        (status, out, _) = try await run(["list", "--json"])
        #expect(status == 0)
        let listed = try JSONDecoder().decode([CoachSubscription].self, from: Data(out.utf8))
        #expect(listed.map { "\($0.email) \($0.team ?? "-") \($0.athlete ?? "*") \($0.staff)" }.sorted() == [
            "coach@lions.example bears b-lee false", "coach@lions.example lions * false", "desk@meet.example - * true",
        ])
        (status, out, _) = try await run(["remove", "coach@lions.example", "--team", "bears"])
        #expect(status == 0)
        #expect(out.contains("removed 1 entry"))
        (status, _, err) = try await run(["remove", "nobody@x.org"])
        #expect(status == 2)
        #expect(err.contains("no subscription for nobody@x.org"))
        for bad in [["add", "not-an-address", "--team", "t"], ["add", "a@b.c\r\nBcc: x@y.z", "--team", "t"], ["add", "a@b.c", "--team", " "]] {
            (status, _, err) = try await run(bad)
            #expect(status == 2, "\(bad): \(err)")
        }
        (status, _, err) = try await run(["add", "a@b.c"])
        #expect(status == 64, "neither --team nor --staff")
        (status, _, _) = try await run(["add", "a@b.c", "--staff", "--team", "t"])
        #expect(status == 64)
    }

    @Test func resendMailsAnUnknownDeliveryOnce() async throws {
        let temp = try TempDir()
        defer { temp.remove() }
        let data = temp.path("var")
        let state = try EmbeddedState(directory: data)
        var record = SampleDecisions.squat(.noLift)
        #expect(try await state.decisions.create(record))
        record.state = .notified
        record.notification = NotificationStatus(delivery: .unknown, claim: "gone", claimedAt: SampleDecisions.now)
        try await state.decisions.update(record, expectedRevision: 0)
        var (status, out, err) = try await refvision(["resend", record.jobId, "--data", data], temp: temp)
        #expect(status == 0, "\(err)")
        #expect(out.contains("mailed \(record.jobId) to staff: meet-staff@localhost"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: data + "/outbox").filter { $0.hasSuffix(".eml") }.count == 1)
        (status, _, err) = try await refvision(["resend", record.jobId, "--data", data], temp: temp)
        #expect(status == 2)
        #expect(err.contains("--force"))
        (status, _, _) = try await refvision(["resend", "0000", "--data", data], temp: temp)
        #expect(status == 2)
    }

    @Test func theReplayServiceServesHealthAndRefusesBadLinks() async throws {
        let temp = try TempDir()
        defer { temp.remove() }
        let port = try freeTCPPort()
        let replay = try Subprocess(["replay", "--data", temp.path("var"), "--http", "127.0.0.1:\(port)"],
                                    environment: ProcessInfo.processInfo.environment, logs: temp, name: "replay")
        try await eventually("the replay service listening", seconds: 30) {
            let (status, _, _) = try await refvision(["health", "--url", "http://127.0.0.1:\(port)/healthz", "--timeout", "2"], temp: temp)
            return status == 0
        }
        #expect(replay.outputText.contains("replay service on http://127.0.0.1:\(port)"))
        let (status, out, _) = try await refvision(["health", "--url", "http://127.0.0.1:\(port)/r/v1.k1.abc.1.x", "--timeout", "2"], temp: temp)
        #expect(status == 1)
        #expect(out.contains("answered 403"))
        // Generated once, never printed: the keys and the dashboard password live in DATA/secrets (0600).
        for file in ["link-keys.json", "dashboard-auth.json"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: temp.path("var/secrets/\(file)"))
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            let secret = try String(contentsOfFile: temp.path("var/secrets/\(file)"), encoding: .utf8)
            #expect(!replay.outputText.contains(secret) && !replay.errorText.contains(secret))
        }
        replay.signal(SIGTERM)
        #expect(await replay.wait(seconds: 20) == 0, "\(replay.errorText.suffix(800))")
    }
}
