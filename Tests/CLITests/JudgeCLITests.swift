import Foundation
import Testing
import TestSupport

@Suite("refvision judge, as a user runs it", .enabled(if: CLI.available, "needs .build/debug/refvision (swift build)"))
struct JudgeCLITests {
    static var hasSquat: Bool { TestPaths.hasModels && TestPaths.hasSharedLifts }

    @Test("a rendered squat clip: verdict JSON, replay with freeze and card, pose track that re-judges the same",
          .enabled(if: hasSquat, "needs .deps and ../shared/fixtures/lifts (internal clips, absent here)"))
    func squatEndToEnd() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let clip = TestPaths.sharedLifts.appendingPathComponent("squat_m-30.mp4").path
        let r = try refvision(["judge", clip, "--replay", dir.path("r.mp4"), "--json", dir.path("v.json"),
                               "--pose-json", dir.path("p.json")])
        #expect(r.code == 0, "stderr: \(r.err)")
        #expect(r.out.contains("Squat: NO LIFT"))
        let verdict = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: dir.path("v.json")))) as? [String: Any])
        #expect(verdict["decision"] as? String == "no_lift")
        #expect(verdict["lift"] as? String == "squat")
        let rules = try #require(verdict["rules"] as? [[String: Any]])
        let depth = try #require(rules.first { $0["id"] as? String == "squat_depth" })
        #expect(depth["status"] as? String == "failed")
        // The replay: every source frame, the bottom frame held (one picture, one second) and the
        // verdict card (one picture, three seconds).
        let replay = try probe(dir.path("r.mp4")), source = try probe(clip)
        #expect(replay.width == 1280 && replay.height == 720)
        #expect(replay.frames == source.frames + 2)
        #expect(abs(replay.duration - (source.duration + 4)) < 0.1, "\(replay.duration) s vs \(source.duration) s + 4")
        // Re-judging the saved track gives the same verdict without the model.
        let again = try refvision(["judge", "--from-pose", dir.path("p.json"), "--json", "-"])
        #expect(again.code == 0, "stderr: \(again.err)")
        let v2 = try #require(try JSONSerialization.jsonObject(with: Data(again.out.utf8)) as? [String: Any])
        #expect(v2["decision"] as? String == "no_lift")
        #expect((v2["rules"] as? [[String: Any]])?.count == rules.count)
    }

    @Test("a photo: needs review or an error, never a crash; exit 0 for a verdict",
          .enabled(if: TestPaths.hasModels && TestPaths.exists(TestPaths.media("bus.jpg")), "needs .deps"))
    func stillImage() throws {
        let r = try refvision(["judge", TestPaths.media("bus.jpg"), "--json", "-"])
        #expect(r.code == 0, "stderr: \(r.err)")
        let v = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        #expect(v["decision"] as? String == "needs_review")
    }

    @Test("bad input and bad usage")
    func bad() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        #expect(try refvision(["judge", "/nonexistent.mp4"]).code == 2)
        #expect(try refvision(["judge"]).code == 64)
        #expect(try refvision(["judge", "x.mp4", "--from-pose", "p.json"]).code == 64)
        #expect(try refvision(["judge", "x.mp4", "--lift", "curl"]).code == 64)
        #expect(try refvision(["judge", "--from-pose", "p.json", "--replay", "r.mp4"]).code == 64)
        for (name, body) in [("empty.json", ""), ("trunc.json", #"{"source":"x","width":1"#),
                             ("wrong.json", #"{"source":"x","width":1,"height":1,"fps":30,"frames":[{"index":0,"time":0,"people":[{"score":1,"landmarks":[[1,2,3]]}]}]}"#)] {
            try Data(body.utf8).write(to: dir.url.appendingPathComponent(name))
            let r = try refvision(["judge", "--from-pose", dir.path(name)])
            #expect(r.code == 2, "\(name): exit \(r.code) \(r.err)")
            #expect(r.err.hasPrefix("refvision: error: "))
        }
        try Data(#"{"depth_band": -1}"#.utf8).write(to: dir.url.appendingPathComponent("cfg.json"))
        let empty = #"{"source":"x","width":640,"height":480,"fps":30,"frames":[]}"#
        try Data(empty.utf8).write(to: dir.url.appendingPathComponent("empty-track.json"))
        #expect(try refvision(["judge", "--from-pose", dir.path("empty-track.json"), "--config", dir.path("cfg.json")]).code == 2)
        // An empty but valid track is a verdict (needs review), not an error.
        let r = try refvision(["judge", "--from-pose", dir.path("empty-track.json"), "--json", "-"])
        #expect(r.code == 0, "stderr: \(r.err)")
        #expect(r.out.contains("\"needs_review\""))
    }
}
