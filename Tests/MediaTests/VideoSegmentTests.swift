import Foundation
import Imaging
@testable import Media
import Testing
import TestSupport

/// The end of a video encoded by a second encoder on another thread (`VideoWriter.makeSegment()`,
/// `append(_:)`), as the replay's tail is.
@Suite("A video continued by a second encoder", .enabled(if: TestPaths.hasFFmpegCLI, "needs the ffmpeg CLI (scripts/bootstrap)"))
struct VideoSegmentTests {
    static let lossless = WriterOptions(preset: "ultrafast", rateControl: .qp(0), threads: 1)

    /// Frame `k`: a moving square and a band of grey levels, so that every frame differs.
    private static func image(_ k: Int) -> RGBImage {
        var image = RGBImage(width: 160, height: 96)
        image.fillRect(x: 0, y: 80, width: 160, height: 16, RGB(UInt8(10 * k % 256), 128, UInt8(255 - 9 * k % 256)))
        image.fillRect(x: 4 + 9 * k, y: 10 + 3 * k, width: 24, height: 24, .white)
        image.drawText("\(k)", x: 120, y: 20, scale: 2, .yellow)
        return image
    }

    /// Every decoded frame: its time and its pixels.
    private static func decode(_ path: String) throws -> [(time: Double, pixels: [UInt8])] {
        let reader = try VideoReader(path: path)
        var out: [(Double, [UInt8])] = []
        while let f = try reader.next() { out.append((f.time, f.image.pixels)) }
        return out
    }

    /// Holds: after frame 4 for 3 more periods, after frame 9 for 5.
    private static let holds = [4: 3, 9: 5]

    @Test("frames 7… encoded by a second encoder on another thread: the same pictures at the same times, a key frame where it starts, the holds of both parts kept")
    func continues() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let one = try VideoWriter(path: dir.path("one.mp4"), width: 160, height: 96, frameRate: FrameRate(30), options: Self.lossless)
        for k in 0..<12 {
            try one.write(Self.image(k))
            try one.hold(count: Self.holds[k] ?? 0)
        }
        try one.finish()

        let two = try VideoWriter(path: dir.path("two.mp4"), width: 160, height: 96, frameRate: FrameRate(30), options: Self.lossless)
        let segment = try two.makeSegment()
        let done = DispatchSemaphore(value: 0)
        let failure = LockedErrors()
        Thread {
            do {
                for k in 7..<12 {
                    try segment.write(Self.image(k))
                    try segment.hold(count: Self.holds[k] ?? 0)
                }
            } catch { failure.record(error) }
            done.signal()
        }.start()
        for k in 0..<7 {
            try two.write(Self.image(k))
            try two.hold(count: Self.holds[k] ?? 0)
        }
        done.wait()
        #expect(failure.errors.isEmpty, "\(failure.errors)")
        #expect(segment.framesWritten == 5 && segment.nextPTS == 10)
        try two.append(segment)
        #expect(two.framesWritten == one.framesWritten && two.nextPTS == one.nextPTS)
        #expect(throws: MediaError.self) { try two.write(Self.image(0)) }
        try two.finish()

        let a = try Self.decode(dir.path("one.mp4")), b = try Self.decode(dir.path("two.mp4"))
        #expect(a.count == 12 && b.count == 12)
        for (x, y) in zip(a, b) {
            #expect(abs(x.time - y.time) < 1e-9)
            let same = x.pixels == y.pixels
            #expect(same, "frame at \(x.time) s differs")
        }
        let packets = try probePackets(dir.path("two.mp4"))
        #expect(packets.map { $0.key } == (0..<12).map { $0 == 0 || $0 == 7 })
        let single = try probePackets(dir.path("one.mp4"))
        #expect(packets.map { $0.pts } == single.map { $0.pts } && packets.map { $0.duration } == single.map { $0.duration })
        #expect(zip(packets, packets.dropFirst()).allSatisfy { $0.dts < $1.dts })
    }

    @Test("refused: B-frames, a segment of other settings, a finished writer; an empty segment adds nothing; the writer goes on after a refused one")
    func refusals() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let reordering = try VideoWriter(path: dir.path("b.mp4"), width: 160, height: 96, frameRate: FrameRate(30),
                                         options: WriterOptions(preset: "veryfast", threads: 1))
        #expect(throws: MediaError.self) { try reordering.makeSegment() }
        reordering.abandon()

        let writer = try VideoWriter(path: dir.path("w.mp4"), width: 160, height: 96, frameRate: FrameRate(30),
                                     options: WriterOptions(preset: "ultrafast", rateControl: .qp(20), threads: 1))
        try writer.write(Self.image(0))
        let empty = try writer.makeSegment()
        #expect(throws: MediaError.self) { try empty.hold(count: 2) }
        try writer.append(empty)
        try writer.write(Self.image(1)) // nothing was appended: the writer's own stream goes on
        let otherSettings = try H264Encoder(path: writer.path, width: 160, height: 96, frameRate: FrameRate(30),
                                            options: WriterOptions(preset: "ultrafast", rateControl: .qp(30), threads: 1),
                                            globalHeader: true)
        let foreign = VideoSegment(encoder: otherSettings)
        try foreign.write(Self.image(2))
        #expect(throws: MediaError.self) { try writer.append(foreign) }
        try writer.write(Self.image(3))
        try writer.finish()
        #expect(throws: MediaError.self) { try writer.append(try writer.makeSegment()) }
        #expect(try Self.decode(dir.path("w.mp4")).count == 3)
    }
}

/// Errors a helper thread hit, for the test to check.
private final class LockedErrors: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [any Error] = []
    func record(_ error: any Error) { lock.withLock { list.append(error) } }
    var errors: [any Error] { lock.withLock { list } }
}
