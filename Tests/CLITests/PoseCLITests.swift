import Foundation
import Testing
import TestSupport

/// Runs the built `refvision` binary and returns (exit code, stdout, stderr).
func refvision(_ args: [String]) throws -> (code: Int32, out: String, err: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: CLI.binary)
    p.arguments = args
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

enum CLI {
    static let binary = TestPaths.repo.appendingPathComponent(".build/debug/refvision").path
    static var available: Bool { TestPaths.exists(binary) }
}

@Suite("refvision pose, as a user runs it", .enabled(if: CLI.available, "needs .build/debug/refvision (swift build)"))
struct PoseCLITests {
    @Test("bad input: one clear line on stderr and exit code 2")
    func badInput() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        _ = FileManager.default.createFile(atPath: dir.path("empty.mp4"), contents: Data())
        _ = FileManager.default.createFile(atPath: dir.path("notes.txt"), contents: Data("hello\n".utf8))
        _ = FileManager.default.createFile(atPath: dir.path("random.mp4"),
                                           contents: Data((0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 7919) }))
        for file in ["/nonexistent/x.mp4", dir.path("empty.mp4"), dir.path("notes.txt"), dir.path("random.mp4")] {
            let r = try refvision(["pose", file])
            #expect(r.code == 2, "\(file): exit \(r.code), stderr \(r.err)")
            #expect(r.err.hasPrefix("refvision: error: "))
            #expect(r.err.split(separator: "\n").count == 1)
            #expect(r.out.isEmpty)
        }
    }

    @Test("bad options: usage error 64")
    func usage() throws {
        #expect(try refvision(["pose", "x.mp4", "--threads", "999"]).code == 64)
        #expect(try refvision(["pose"]).code == 64)
        #expect(try refvision(["pose", "x.mp4", "--max-people", "0"]).code == 64)
    }

    @Test("missing models: exit 3 naming the file",
          .enabled(if: TestPaths.exists(TestPaths.media("bus.jpg")), "needs bus.jpg"))
    func missingModels() throws {
        let r = try refvision(["pose", TestPaths.media("bus.jpg"), "--models", "/nonexistent"])
        #expect(r.code == 3)
        #expect(r.err.contains("pose_detection.tflite"))
    }

    @Test("a photo to JSON on stdout: the documented shape, summary on stderr",
          .enabled(if: TestPaths.hasModels && TestPaths.exists(TestPaths.media("bus.jpg")), "needs .deps"))
    func jsonToStdout() throws {
        let r = try refvision(["pose", TestPaths.media("bus.jpg"), "--json", "-"])
        #expect(r.code == 0, "stderr: \(r.err)")
        #expect(r.out.hasPrefix(#"{"source":"#))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        #expect(json["width"] as? Int == 810 && json["height"] as? Int == 1080)
        let frames = try #require(json["frames"] as? [[String: Any]])
        #expect(frames.count == 1)
        let people = try #require(frames[0]["people"] as? [[String: Any]])
        let landmarks = try #require(people.first?["landmarks"] as? [[Double]])
        #expect(landmarks.count == 33 && landmarks.allSatisfy { $0.count == 3 })
        #expect(r.err.contains("people found in 1 of 1 frames"))
    }

    @Test("a clip with --overlay: same frame count and duration; unwritable outputs exit 4",
          .enabled(if: TestPaths.hasModels && TestPaths.hasFFmpegCLI, "needs .deps and ffmpeg"))
    func overlay() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let clip = dir.path("clip.mp4"), overlay = dir.path("overlay.mp4")
        try ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-frames:v", "20", "-c:v", "libx264",
                    "-pix_fmt", "yuv420p", clip])
        let r = try refvision(["pose", clip, "--overlay", overlay, "--json", dir.path("p.json")])
        #expect(r.code == 0, "stderr: \(r.err)")
        let a = try probe(clip), b = try probe(overlay)
        #expect(b.frames == 20 && b.width == 320 && b.height == 240)
        #expect(abs(a.duration - b.duration) < 0.05)
        let bad = try refvision(["pose", clip, "--json", "/nonexistent/dir/p.json"])
        #expect(bad.code == 4, "stderr: \(bad.err)")
        let badOverlay = try refvision(["pose", clip, "--overlay", "/nonexistent/dir/o.mp4"])
        #expect(badOverlay.code == 4, "stderr: \(badOverlay.err)")
    }
}
