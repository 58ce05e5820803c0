import Embedded
import Fleet
import Foundation
import Testing
import TestSupport

/// Runs `refvision ARGS` to completion; returns (status, stdout, stderr).
func refvision(_ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment,
               temp: TempDir, timeout: Double = 300) async throws -> (Int32, String, String) {
    let name = "cli-\(UUID().uuidString.prefix(6))"
    let process = try Subprocess(arguments, environment: environment, logs: temp, name: name)
    guard let status = await process.wait(seconds: timeout) else {
        process.signal(SIGKILL)
        throw FleetTestError.timeout("refvision \(arguments.joined(separator: " "))")
    }
    return (status, process.outputText, process.errorText)
}

@Suite("refvision run / status / submit / dlq / health, as a user runs them", .serialized,
       .enabled(if: LiftClips.available && Binary.available, "needs .build/debug/refvision, ../shared/fixtures/lifts, the models and ffmpeg"))
struct RunCLITests {
    @Test func runJudgesTheRawFolderAndStatusReportsIt() async throws {
        let temp = try TempDir()
        defer { temp.remove() }
        let data = temp.path("var")
        try FileManager.default.createDirectory(atPath: data + "/raw/open-2026/a-lee", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: try LiftClips.goodSquat(in: temp), toPath: data + "/raw/open-2026/a-lee/squat-1.mp4")
        try Data("not a video".utf8 + [UInt8](repeating: 7, count: 4096)).write(to: URL(fileURLWithPath: data + "/raw/open-2026/a-lee/squat-2.mp4"))
        try Data("notes".utf8).write(to: URL(fileURLWithPath: data + "/raw/readme.txt"))

        let port = try freeTCPPort()
        let (status, out, err) = try await refvision(["run", "--data", data, "--until-idle", "--http", "127.0.0.1:\(port)"], temp: temp)
        #expect(status == 0, "\(err.suffix(1500))")
        #expect(out.contains("GOOD LIFT"))
        #expect(out.contains("FAILED (undecodable)"))
        #expect(out.contains("replay: \(data)/annotated/open-2026/a-lee/squat-1."))
        #expect(out.contains("replay service on http://127.0.0.1:\(port)"))
        #expect(out.components(separatedBy: "link:   http://127.0.0.1:\(port)/r/v1.k1.").count - 1 == 2, "each decision printed with its link")
        // The notifier mailed both decisions to the (default) staff address; the links in the mails are the printed ones.
        let outbox = try FileManager.default.contentsOfDirectory(atPath: data + "/outbox").filter { $0.hasSuffix(".eml") }
        #expect(outbox.count == 2)
        #expect(outbox.allSatisfy { $0.hasSuffix("-meet-staff@localhost.eml") })
        let mails = try outbox.map { try String(contentsOfFile: data + "/outbox/" + $0, encoding: .utf8) }
        #expect(mails.contains { $0.contains("NO LIFT") || $0.contains("GOOD LIFT") })
        #expect(mails.contains { $0.contains("Not judged: unreadable video.") })
        let mailedLinks = mails.compactMap { mail in mail.components(separatedBy: "\r\n").first { $0.hasPrefix("http://127.0.0.1:\(port)/r/") } }
        #expect(mailedLinks.count == 2, "the failed job's page says why it was not judged")
        #expect(mailedLinks.allSatisfy { out.contains($0) })
        let secrets = try FileManager.default.attributesOfItem(atPath: data + "/secrets/link-keys.json")
        #expect((secrets[.posixPermissions] as? NSNumber)?.intValue == 0o600)

        let (jsonStatus, json, _) = try await refvision(["status", "--data", data, "--json"], temp: temp)
        #expect(jsonStatus == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let queues = try #require(object["queues"] as? [String: [String: Int]])
        #expect(queues["jobs"]?["visible"] == 0 && queues["jobs"]?["inFlight"] == 0)
        #expect(queues["results"]?["visible"] == 0 && queues["results"]?["inFlight"] == 0)
        let decisions = try #require(object["decisions"] as? [[String: Any]])
        #expect(decisions.count == 2)
        let good = try #require(decisions.first { $0["key"] as? String == "open-2026/a-lee/squat-1.mp4" })
        #expect(good["state"] as? String == "notified")
        #expect(good["decision"] as? String == "good_lift")
        let replay = try #require(good["replay"] as? String)
        #expect(TestPaths.exists(replay))
        let bad = try #require(decisions.first { $0["key"] as? String == "open-2026/a-lee/squat-2.mp4" })
        #expect(bad["state"] as? String == "notified")
        #expect(bad["failure"] as? String == "undecodable")
        #expect((bad["reason"] as? String)?.isEmpty == false)

        // A second run has nothing to do: nothing is judged twice.
        let (again, againOut, _) = try await refvision(["run", "--data", data, "--until-idle", "--no-http"], temp: temp)
        #expect(again == 0)
        #expect(!againOut.contains("GOOD LIFT\u{20}") || againOut.components(separatedBy: "GOOD LIFT").count == 2)
        let records = try await EmbeddedState(directory: data).decisions.list(meet: nil, limit: 10)
        #expect(records.count == 2)
        #expect(records.allSatisfy { $0.attempts == 1 })
        #expect(try FileManager.default.contentsOfDirectory(atPath: data + "/outbox").filter { $0.hasSuffix(".eml") }.count == 2)
    }

    @Test func runKilledMidJobFinishesOnRestartAndJudgesOnce() async throws {
        let temp = try TempDir()
        defer { temp.remove() }
        let data = temp.path("var")
        try FileManager.default.createDirectory(atPath: data + "/raw/m/a", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: try LiftClips.goodSquat(in: temp), toPath: data + "/raw/m/a/squat-1.mp4")
        let first = try Subprocess(["run", "--data", data, "--visibility-timeout", "5", "--no-http"], environment: ProcessInfo.processInfo.environment,
                                   logs: temp, name: "run1")
        let state = try EmbeddedState(directory: data)
        try await eventually("job processing", seconds: 120, every: 0.05) {
            try await state.decisions.list(meet: nil, limit: 1).first?.state == .processing
        }
        first.signal(SIGKILL)
        _ = await first.wait(seconds: 10)
        #expect(try await state.decisions.list(meet: nil, limit: 1).first?.state == .processing)

        let (status, out, err) = try await refvision(["run", "--data", data, "--until-idle", "--visibility-timeout", "5", "--no-http"], temp: temp)
        #expect(status == 0, "\(err.suffix(1500))")
        #expect(out.contains("GOOD LIFT"))
        let records = try await state.decisions.list(meet: nil, limit: 10)
        #expect(records.count == 1)
        #expect(records.first?.state == .notified)
        #expect(records.first?.notification?.delivery == .sent)
        #expect(records.first?.attempts == 2)
        #expect(try await state.queue(named: "results").depth().total == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: data + "/outbox").filter { $0.hasSuffix(".eml") }.count == 1)
    }

    @Test func submitDlqAndHealth() async throws {
        let temp = try TempDir()
        defer { temp.remove() }
        let data = temp.path("var")
        let clip = try fakeVideo(temp, "clip.mp4")
        let (status, out, err) = try await refvision(["submit", "--data", data, clip, "--key", "m/a/bench-2.mp4", "--lift", "bench"], temp: temp)
        #expect(status == 0, "\(err)")
        #expect(out.contains("submitted \(data)/raw/m/a/bench-2.mp4"))
        let state = try EmbeddedState(directory: data)
        #expect(try await state.queue(named: "intake").depth().visible == 1)
        #expect(TestPaths.exists(data + "/raw/m/a/bench-2.mp4"))

        let (missing, _, missingErr) = try await refvision(["submit", "--data", data, temp.path("nope.mp4")], temp: temp)
        #expect(missing == 2)
        #expect(missingErr.contains("no such file"))
        let (badLift, _, _) = try await refvision(["submit", "--data", data, clip, "--lift", "curl"], temp: temp)
        #expect(badLift == 64)

        // A dead letter, listed, shown and redriven.
        let dlq = try state.queue(named: "jobs-dlq")
        try await dlq.send(body: "{\"poison\":true}", attributes: ["reason": "test"])
        let (listStatus, list, _) = try await refvision(["dlq", "list", "--data", data, "--json"], temp: temp)
        #expect(listStatus == 0)
        let line = try #require(try JSONSerialization.jsonObject(with: Data(list.split(separator: "\n").first.map(String.init)?.utf8 ?? "".utf8)) as? [String: Any])
        #expect(line["body"] as? String == "{\"poison\":true}")
        let id = try #require(line["messageId"] as? String)
        let (showStatus, shown, _) = try await refvision(["dlq", "show", "--data", data, id], temp: temp)
        #expect(showStatus == 0 && shown.contains("{\"poison\":true}"))
        let (redriveStatus, redriven, _) = try await refvision(["dlq", "redrive", "--data", data], temp: temp)
        #expect(redriveStatus == 0 && redriven.contains("moved 1 message(s)"))
        #expect(try await dlq.depth().total == 0)
        #expect(try await state.queue(named: "jobs").depth().visible == 1)
        let (badQueue, _, _) = try await refvision(["dlq", "list", "--data", data, "--queue", "nope"], temp: temp)
        #expect(badQueue == 64)

        let heartbeat = temp.path("hb")
        let (noFile, _, _) = try await refvision(["health", "--heartbeat", heartbeat], temp: temp)
        #expect(noFile == 1)
        FileManager.default.createFile(atPath: heartbeat, contents: nil)
        let (fresh, _, _) = try await refvision(["health", "--heartbeat", heartbeat, "--max-age", "90"], temp: temp)
        #expect(fresh == 0)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-600)], ofItemAtPath: heartbeat)
        let (stale, staleOut, _) = try await refvision(["health", "--heartbeat", heartbeat, "--max-age", "90"], temp: temp)
        #expect(stale == 1 && staleOut.contains("unhealthy"))
        let (noURL, _, _) = try await refvision(["health", "--url", "http://127.0.0.1:9/healthz", "--timeout", "1"], temp: temp)
        #expect(noURL == 1)
    }

    @Test func aCorruptStateFileIsAClearErrorNotACrash() async throws {
        let temp = try TempDir()
        defer { temp.remove() }
        let data = temp.path("var")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: data + "/state.sqlite"))
        let (status, _, err) = try await refvision(["status", "--data", data], temp: temp)
        #expect(status == 3)
        #expect(err.contains("refvision: error:"))
    }
}
