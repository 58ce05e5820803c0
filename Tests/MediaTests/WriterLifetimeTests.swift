import Foundation
import Imaging
import Media
import Testing
import TestSupport

/// When a writer's file is deleted, and that it is never a later writer's file at the same path.
@Suite("A writer's file and its end", .enabled(if: TestPaths.hasFFmpegCLI, "needs the ffmpeg CLI (scripts/bootstrap)"))
struct WriterLifetimeTests {
    @Test("abandon deletes the unfinished file at once; the writer's end later leaves a new file at that path alone")
    func abandonThenReuse() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.path("replay.mp4")
        var image = RGBImage(width: 64, height: 48)
        image.fillRect(x: 8, y: 8, width: 20, height: 20, .white)
        var first: VideoWriter? = try VideoWriter(path: path, width: 64, height: 48, frameRate: FrameRate(30))
        try first?.write(image)
        first?.abandon()
        #expect(!TestPaths.exists(path), "abandon left the file")
        #expect(throws: MediaError.self) { try first?.finish() }
        let second = try VideoWriter(path: path, width: 64, height: 48, frameRate: FrameRate(30))
        for _ in 0..<3 { try second.write(image) }
        try second.finish()
        first = nil
        let reader = try VideoReader(path: path)
        var n = 0
        while try reader.next() != nil { n += 1 }
        #expect(n == 3, "the second writer's file lost or damaged: \(n) frames")
    }
}
