import Foundation
import Hummingbird
import HummingbirdTesting
@testable import ReplayServer
import Testing
import TestSupport

/// The replay page rendered by a real browser: headless Chromium (Debian's `chromium`, installed by
/// `scripts/bootstrap --test`) loads the page from the live server, with a real H.264 replay made by the
/// ffmpeg CLI. `--dump-dom` must show the video element, the verdict and the rule rows; a screenshot is
/// kept in out/test-artifacts/replay-page.png.
@Suite struct ChromiumTests {
    static let chromium = ["/usr/lib/chromium/chromium", "/usr/bin/chromium"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Runs headless Chromium (bounded by `timeout` and `--timeout`, which also ends a page that never
    /// finishes loading) and returns its stdout. A cold start on a busy two-core machine (the whole
    /// test suite running beside it) has taken over 20 s, and `--timeout` counts from the start: it is
    /// generous, and an empty document (the page stopped before it loaded) is tried once more.
    static func runChromium(_ arguments: [String], profile: String) throws -> String {
        let first = try runChromiumOnce(arguments, profile: profile)
        if arguments.contains("--dump-dom"), !first.contains("<body>") || first.contains("<body></body>") {
            return try runChromiumOnce(arguments, profile: profile)
        }
        return first
    }

    private static func runChromiumOnce(_ arguments: [String], profile: String) throws -> String {
        let chromium = try #require(chromium)
        let output = try runProgram("/usr/bin/timeout", [
            "90", chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
            "--disable-extensions", "--disable-background-networking", "--log-level=3", "--hide-scrollbars",
            "--user-data-dir=\(profile)", "--timeout=40000",
        ] + arguments)
        return String(decoding: output, as: UTF8.self)
    }

    @Test(.enabled(if: chromium != nil, "chromium is not installed (scripts/bootstrap --test installs it)"),
          .enabled(if: TestPaths.hasFFmpegCLI, "the ffmpeg CLI is not installed"))
    func theReplayPageRendersInHeadlessChromium() async throws {
        let temp = try TempDir()
        defer { temp.remove() }
        let clip = temp.path("clip.mp4")
        _ = try ffmpeg(["-y", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25:duration=2", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                        "-movflags", "+faststart", clip])
        let h = try await ReplayHarness(video: try Data(contentsOf: URL(fileURLWithPath: clip)))
        defer { h.temp.remove() }
        let token = try h.token()
        let artifacts = TestPaths.repo.appendingPathComponent("out/test-artifacts")
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        let screenshot = artifacts.appendingPathComponent("replay-page.png").path
        try? FileManager.default.removeItem(atPath: screenshot)

        try await h.app.test(.live) { client in
            let port = try #require(client.port)
            let url = "http://localhost:\(port)/r/\(token)"
            let dom = try Self.runChromium(["--dump-dom", url], profile: temp.path("profile"))
            #expect(!dom.isEmpty, "chromium could not load \(url)")
            #expect(dom.contains("<video id=\"replay\""))
            #expect(dom.contains("src=\"/v/\(token)\""))
            #expect(dom.contains("data-decision=\"no_lift\""))
            #expect(dom.contains(">NO LIFT<"))
            #expect(dom.components(separatedBy: "<tr class=\"rule\"").count - 1 == 3)
            #expect(dom.contains("<svg id=\"chart\""))

            _ = try Self.runChromium(["--screenshot=\(screenshot)", "--window-size=1100,1500", url], profile: temp.path("profile"))
            let png = try Data(contentsOf: URL(fileURLWithPath: screenshot))
            #expect(png.count > 10_000)
            #expect(png.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))

            // The 403 page of a tampered link renders too, and says so.
            let tampered = token.dropLast() + (token.hasSuffix("A") ? "B" : "A") // a different last character
            let forbidden = try Self.runChromium(["--dump-dom", "http://localhost:\(port)/r/\(tampered)"],
                                                 profile: temp.path("profile"))
            #expect(forbidden.contains("Link not valid"))
            #expect(!forbidden.contains("<video"))
        }
    }
}
