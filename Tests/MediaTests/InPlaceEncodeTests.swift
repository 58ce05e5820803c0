import CFFmpeg
import Foundation
import Imaging
@testable import Media
import Testing
import TestSupport

/// `VideoWriter.write(_:over:)` converts the overlay into the decoded picture's own planes when
/// nothing else references them, and copies the picture first when something does.
@Suite("Encoding an overlay into the decoded picture itself", .enabled(if: TestPaths.hasFFmpegCLI, "needs the ffmpeg CLI (scripts/bootstrap)"))
struct InPlaceEncodeTests {
    /// The luma plane's visible bytes.
    private func luma(_ p: SourcePicture) -> [UInt8] {
        let base = refv_frame_plane(p.frame, 0)!, stride = Int(refv_frame_linesize(p.frame, 0))
        return (0..<p.height).flatMap { y in Array(UnsafeBufferPointer(start: base + y * stride, count: p.width)) }
    }

    @Test("a picture nothing else references gets the overlay written into it, and the file is byte for byte the one a copy gives; a shared picture is left alone")
    func inPlace() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let source = dir.path("src.mp4")
        try ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-frames:v", "8",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", source])
        // Every frame read first: with the reader gone, the decoder holds none of the pictures.
        var frames: [VideoFrame] = []
        do {
            let reader = try VideoReader(path: source, options: ReaderOptions(keepSource: true))
            while let f = try reader.next() { frames.append(f) }
        }
        #expect(frames.count == 8)
        let options = WriterOptions(preset: "ultrafast", threads: 1)
        let copied = try VideoWriter(path: dir.path("copied.mp4"), width: 320, height: 240, frameRate: FrameRate(30), options: options)
        let inPlace = try VideoWriter(path: dir.path("in-place.mp4"), width: 320, height: 240, frameRate: FrameRate(30), options: options)
        for f in frames {
            let picture = try #require(f.source)
            var img = f.image
            img.trackDamage()
            img.drawLine(10, 200, 150 + 10 * Double(f.index), 30, .red, thickness: 5)
            img.fillRect(x: 200, y: 20 + 9 * f.index, width: 100, height: 24, .black, alpha: 0.6)
            img.drawText("FRAME \(f.index)", x: 204, y: 26 + 9 * f.index, scale: 2, .yellow)
            let before = luma(picture)
            do {
                // A second reference to the same decoded picture: the writer must not touch it.
                let shared = try #require(SourcePicture(referencing: picture.frame))
                try copied.write(img, over: picture)
                withExtendedLifetime(shared) {}
            }
            #expect(luma(picture) == before, "a shared picture was written to")
            try inPlace.write(img, over: picture)
            let after = luma(picture)
            let changed = zip(before, after).filter { $0 != $1 }.count
            #expect(changed > 500 && changed < after.count / 2, "\(changed) luma samples changed")
        }
        try copied.finish()
        try inPlace.finish()
        #expect(copied.inPlaceFrames == 0)
        #expect(inPlace.inPlaceFrames == 8)
        let same = try Data(contentsOf: URL(fileURLWithPath: dir.path("copied.mp4")))
            == Data(contentsOf: URL(fileURLWithPath: dir.path("in-place.mp4")))
        #expect(same, "the two files differ")
    }
}
