import Foundation
import Imaging
import Media
import Scaling
import Testing
import TestSupport

/// Reads every frame, returning the count and the last frame's time.
private func decodeAll(_ path: String, options: ReaderOptions = ReaderOptions()) throws
    -> (info: VideoInfo, frames: Int, lastTime: Double, first: RGBImage?) {
    let reader = try VideoReader(path: path, options: options)
    var n = 0, last = 0.0
    var first: RGBImage?
    while let f = try reader.next() {
        #expect(f.index == n)
        #expect(f.image.width == reader.info.width && f.image.height == reader.info.height)
        if first == nil { first = f.image }
        n += 1
        last = f.time
    }
    return (reader.info, n, last, first)
}

/// Makes an MP4 of landscape pixels portrait the way phones do: a quarter turn in the track header's
/// display matrix (`b`, `c` are its off-diagonal entries in 16.16).
private func setQuarterTurn(_ path: String, b: UInt32 = 0x0001_0000, c: UInt32 = 0xFFFF_0000) throws {
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    let tkhd = try #require((0..<(bytes.count - 4)).first { bytes[$0..<$0 + 4].elementsEqual("tkhd".utf8) })
    let matrix = tkhd + 4 + 40 // tag, then version/flags, times, track id, duration, layer, volume (v0)
    func put(_ v: UInt32, at i: Int) {
        for k in 0..<4 { bytes[matrix + i * 4 + k] = UInt8(truncatingIfNeeded: v >> (24 - 8 * UInt32(k))) }
    }
    #expect(bytes[matrix..<matrix + 4].elementsEqual([0, 1, 0, 0]), "expected an identity matrix to patch")
    put(0, at: 0); put(b, at: 1); put(c, at: 3); put(0, at: 4)
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

@Suite("Decoding real and generated media", .enabled(if: TestPaths.hasFFmpegCLI, "needs the ffmpeg CLI (scripts/bootstrap)"))
struct DecodeTests {
    @Test("vtest.avi from Debian's opencv-doc: 795 frames of 768×576",
          .enabled(if: TestPaths.exists(TestPaths.media("vtest.avi")), "needs .deps/media/vtest.avi (scripts/bootstrap)"))
    func vtest() throws {
        let r = try decodeAll(TestPaths.media("vtest.avi"))
        #expect(r.frames == 795)
        #expect(r.info.width == 768 && r.info.height == 576)
        #expect(abs(r.info.fps - 10) < 0.01)
        #expect(abs(r.lastTime - 79.4) < 0.01)
        #expect(!r.info.isStillImage)
    }

    @Test("generated clips in several codecs and sizes decode with the right size and frame count",
          arguments: [
            ("h264.mp4", ["-c:v", "libx264", "-pix_fmt", "yuv420p"], "640x360", 15),
            ("hevc.mkv", ["-c:v", "libx265", "-pix_fmt", "yuv420p", "-x265-params", "log-level=error"], "640x360", 15),
            ("vp9.webm", ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"], "640x360", 15),
            ("fullhd.mp4", ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"], "1920x1080", 12),
            ("mpeg4.avi", ["-c:v", "mpeg4"], "352x288", 15),
          ])
    func codecs(name: String, codecArgs: [String], size: String, frames: Int) throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.path(name)
        try ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=\(size):rate=30", "-frames:v", String(frames)] + codecArgs + [path])
        let r = try decodeAll(path)
        let dims = size.split(separator: "x").map { Int($0)! }
        #expect(r.info.width == dims[0] && r.info.height == dims[1])
        #expect(r.frames == frames)
        #expect(abs(r.info.fps - 30) < 0.01)
    }

    @Test("a phone-style portrait video (landscape pixels + rotation matrix) comes out upright",
          arguments: [(0x0001_0000 as UInt32, 0xFFFF_0000 as UInt32), (0xFFFF_0000, 0x0001_0000)])
    func rotation(b: UInt32, c: UInt32) throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.path("portrait.mp4")
        try ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-frames:v", "5", "-c:v", "libx264",
                    "-pix_fmt", "yuv420p", path])
        try setQuarterTurn(path, b: b, c: c)

        let r = try decodeAll(path)
        #expect(r.info.width == 240 && r.info.height == 320)
        #expect(r.info.clockwiseQuarterTurns % 2 == 1)
        #expect(r.frames == 5)
        // The ffmpeg CLI autorotates: our upright frame must match its first frame (± codec noise).
        let raw = try ffmpeg(["-i", path, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        let reference = try #require(RGBImage(width: 240, height: 320, pixels: [UInt8](raw)))
        let first = try #require(r.first)
        let diff = first.meanAbsoluteDifference(reference) ?? 255
        #expect(diff < 3, "upright frame differs from ffmpeg's autorotated frame by \(diff)")
        // …and not by accident: the frame turned the other way round is far off.
        let wrong = first.rotatedClockwise(quarterTurns: 2).meanAbsoluteDifference(reference) ?? 0
        #expect(wrong > 20, "a half-turned frame matched too (\(wrong))")
    }

    @Test("still images are one-frame sources, odd sizes included",
          arguments: ["still.png", "still.jpg", "still.tif"])
    func stills(name: String) throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.path(name)
        try ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x240", "-vf", "scale=321:243", "-frames:v", "1", path])
        let r = try decodeAll(path)
        #expect(r.info.isStillImage)
        #expect(r.frames == 1)
        #expect(r.info.width == 321 && r.info.height == 243)
    }

    @Test("file names are literal: a '%d' in a name is not an image-sequence pattern")
    func literalNames() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.path("lift%d.png")
        try ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=64x48", "-frames:v", "1", "-update", "1", path])
        #expect(try decodeAll(path).frames == 1)
    }
}

@Suite("Encoding", .enabled(if: TestPaths.hasFFmpegCLI, "needs the ffmpeg CLI (scripts/bootstrap)"))
struct EncodeTests {
    @Test("decode → encode → decode keeps frame count, duration and picture", arguments: [
        ("25fps", "25"), ("ntsc", "30000/1001"),
    ])
    func roundTrip(label: String, rate: String) throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let source = dir.path("src.mp4"), output = dir.path("out.mp4")
        try ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=\(rate)", "-frames:v", "48",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", source])
        let reader = try VideoReader(path: source)
        let writer = try VideoWriter(path: output, width: reader.info.width, height: reader.info.height,
                                     frameRate: reader.info.frameRate)
        var originals: [RGBImage] = []
        while let f = try reader.next() {
            try writer.write(f.image)
            originals.append(f.image)
        }
        try writer.finish()
        #expect(writer.framesWritten == 48)

        let src = try probe(source), out = try probe(output)
        #expect(out.frames == 48)
        #expect(out.width == 320 && out.height == 240)
        #expect(abs(out.duration - src.duration) < 0.05, "duration \(out.duration) vs \(src.duration)")
        let again = try decodeAll(output)
        #expect(again.frames == 48)
        let diff = try #require(again.first?.meanAbsoluteDifference(originals[0]))
        #expect(diff < 6, "re-encoded frame differs by \(diff)")
    }

    @Test("hold keeps a picture on screen without encoding it again, with and without B-frames",
          arguments: ["ultrafast", "medium"])
    func hold(preset: String) throws {
        let pictures = 4
        let dir = try TempDir()
        defer { dir.remove() }
        let output = dir.path("hold-\(preset).mp4")
        let writer = try VideoWriter(path: output, width: 64, height: 48, frameRate: FrameRate(30),
                                     options: WriterOptions(preset: preset))
        #expect(throws: MediaError.self) { try writer.hold(count: 3) } // nothing written yet
        func frame(_ shade: UInt8) -> RGBImage {
            var img = RGBImage(width: 64, height: 48)
            img.fillRect(x: 0, y: 0, width: 64, height: 48, RGB(shade, shade, shade))
            return img
        }
        try writer.write(frame(20))
        try writer.write(frame(120))
        try writer.hold(count: 15)  // a freeze: 16 periods in all
        try writer.write(frame(60))
        try writer.write(frame(220))
        try writer.hold(count: 15)  // a closing card
        try writer.finish()
        #expect(writer.nextPTS == 34)
        #expect(writer.framesWritten == pictures)
        let p = try probe(output)
        #expect(p.frames == pictures)
        #expect(abs(p.duration - 34.0 / 30) < 0.02, "duration \(p.duration)")
        let reader = try VideoReader(path: output)
        var decoded: [RGBImage] = []
        while let f = try reader.next() { decoded.append(f.image) }
        #expect(decoded.count == pictures)
        let shown = try runProgram("/usr/bin/ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries",
                                                         "packet=pts_time", "-of", "csv=p=0", output])
        let times = String(decoding: shown, as: UTF8.self).split(separator: "\n").compactMap { Double($0) }.sorted()
        #expect(times.count == 4)
        #expect(times.count == 4 && abs(times[2] - 17.0 / 30) < 0.002, "the frame after the freeze starts at period 17: \(times)")
        #expect(decoded.last.map { abs(Int($0.pixels[0]) - 220) < 8 } == true, "the last picture is the card")
    }

    @Test("pictures the writer cannot reuse are not kept: full-range JPEG, RGB PNG, rotated video")
    func sourceOnlyWhenUsable() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let jpeg = dir.path("a.jpg"), png = dir.path("a.png"), rotated = dir.path("r.mp4")
        try ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=64x48", "-frames:v", "1", "-update", "1", jpeg])
        try ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=64x48", "-frames:v", "1", "-update", "1", png])
        try ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=30", "-frames:v", "3", "-c:v", "libx264",
                    "-pix_fmt", "yuv420p", rotated])
        try setQuarterTurn(rotated)
        for path in [jpeg, png, rotated] {
            let reader = try VideoReader(path: path, options: ReaderOptions(keepSource: true))
            if path == rotated { #expect(reader.info.clockwiseQuarterTurns != 0, "the clip is not rotated") }
            let f = try #require(try reader.next())
            #expect(f.source == nil, "\(path) kept a picture")
        }
        let plain = try VideoReader(path: rotated)
        #expect(try #require(try plain.next()).source == nil, "not asked for")
    }

    @Test("the MP4 is faststart: the moov index comes before the media data")
    func faststart() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let output = dir.path("fs.mp4")
        let writer = try VideoWriter(path: output, width: 64, height: 48, frameRate: FrameRate(30))
        for i in 0..<10 {
            var img = RGBImage(width: 64, height: 48)
            img.fillRect(x: i * 4, y: 0, width: 8, height: 48, .white)
            try writer.write(img)
        }
        try writer.finish()
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: output)))
        func find(_ tag: String) -> Int? {
            let t = Array(tag.utf8)
            return (0..<(bytes.count - 4)).first { bytes[$0..<$0 + 4].elementsEqual(t) }
        }
        let moov = try #require(find("moov")), mdat = try #require(find("mdat"))
        #expect(moov < mdat)
    }

    @Test("bad writer arguments are typed errors and leave no file behind")
    func badWriter() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        #expect(throws: MediaError.self) { try VideoWriter(path: dir.path("a.mp4"), width: 0, height: 10, frameRate: FrameRate(30)) }
        #expect(throws: MediaError.self) { try VideoWriter(path: dir.path("b.mp4"), width: 64, height: 48, frameRate: FrameRate(0)) }
        #expect(throws: MediaError.self) {
            try VideoWriter(path: dir.path("no/such/dir/c.mp4"), width: 64, height: 48, frameRate: FrameRate(30))
        }
        #expect(throws: MediaError.self) {
            try VideoWriter(path: dir.path("d.mp4"), width: 64, height: 48, frameRate: FrameRate(30),
                            options: WriterOptions(preset: "no-such-preset"))
        }
        #expect(!TestPaths.exists(dir.path("d.mp4")))
    }
}

@Suite("Bad input: typed errors, never a crash or a hang", .enabled(if: TestPaths.hasFFmpegCLI, "needs the ffmpeg CLI"))
struct BadInputTests {
    private func expectError(_ path: String, options: ReaderOptions = ReaderOptions(),
                             _ matches: (MediaError) -> Bool) {
        do {
            _ = try decodeAll(path, options: options)
            Issue.record("\(path) decoded without an error")
        } catch let e as MediaError {
            #expect(matches(e), "unexpected error \(e)")
            #expect(!e.description.isEmpty)
        } catch {
            Issue.record("not a MediaError: \(error)")
        }
    }

    @Test func missingFile() {
        expectError("/nonexistent/clip.mp4") { if case .fileNotFound = $0 { true } else { false } }
    }

    @Test func directory() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        expectError(dir.url.path) { if case .notAFile = $0 { true } else { false } }
    }

    @Test func zeroBytes() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        _ = FileManager.default.createFile(atPath: dir.path("empty.mp4"), contents: Data())
        expectError(dir.path("empty.mp4")) { if case .emptyFile = $0 { true } else { false } }
    }

    @Test func randomBytesNamedMP4() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<100_000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        _ = FileManager.default.createFile(atPath: dir.path("random.mp4"), contents: Data(bytes))
        expectError(dir.path("random.mp4")) { if case .unrecognizedFormat = $0 { true } else { false } }
    }

    @Test func textFile() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        // FFmpeg has a demuxer that plays text files as "video" (tty); refvision refuses it.
        for name in ["notes.txt", "notes.mp4"] {
            _ = FileManager.default.createFile(atPath: dir.path(name), contents: Data("squat 1: good lift\n".utf8))
            expectError(dir.path(name)) { if case .unrecognizedFormat = $0 { true } else { false } }
        }
    }

    @Test("an MP4 truncated at half (index at the end, as cameras write) is refused")
    func truncatedMP4() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let full = dir.path("full.mp4"), half = dir.path("half.mp4")
        try ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-frames:v", "60",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", full])
        let data = try Data(contentsOf: URL(fileURLWithPath: full))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: half))
        expectError(half) { if case .unrecognizedFormat = $0 { true } else { false } }
    }

    @Test("a faststart MP4 truncated at half decodes what is there and says it ended early")
    func truncatedFaststart() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let full = dir.path("full.mp4"), half = dir.path("half.mp4")
        try ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-frames:v", "60",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart", full])
        let data = try Data(contentsOf: URL(fileURLWithPath: full))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: half))
        let reader = try VideoReader(path: half)
        var n = 0
        while try reader.next() != nil { n += 1 }
        #expect(n > 0 && n < 60)
        #expect(reader.endedEarly != nil || n < (reader.info.frameCount ?? 60))
    }

    @Test func audioOnly() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try ffmpeg(["-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "aac", dir.path("audio.m4a")])
        expectError(dir.path("audio.m4a")) { if case .noVideoStream = $0 { true } else { false } }
        try ffmpeg(["-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "aac", dir.path("audio.mp4")])
        expectError(dir.path("audio.mp4")) { if case .noVideoStream = $0 { true } else { false } }
    }

    @Test("over the frame-size limit (default 4096 px a side)")
    func tooLarge() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try ffmpeg(["-f", "lavfi", "-i", "color=c=gray:size=4100x64", "-frames:v", "1", dir.path("wide.png")])
        expectError(dir.path("wide.png")) { if case .frameTooLarge(_, 4100, 64, 4096) = $0 { true } else { false } }
    }

    @Test("over the duration limit, from the header and from timestamps")
    func tooLong() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10", "-t", "4", "-c:v", "libx264",
                    "-pix_fmt", "yuv420p", dir.path("long.mp4")])
        let limits = MediaLimits(maxDuration: 2)
        expectError(dir.path("long.mp4"), options: ReaderOptions(limits: limits)) {
            if case .tooLong = $0 { true } else { false }
        }
        // An MPEG-TS stream has no duration header to trust: the limit holds while decoding.
        try ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10", "-t", "4", "-c:v", "libx264",
                    "-pix_fmt", "yuv420p", "-f", "mpegts", dir.path("long.ts")])
        expectError(dir.path("long.ts"), options: ReaderOptions(limits: limits)) {
            if case .tooLong = $0 { true } else { false }
        }
    }

    @Test("over the file-size limit")
    func fileTooLarge() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        _ = FileManager.default.createFile(atPath: dir.path("big.mp4"), contents: Data(count: 2_000_000))
        expectError(dir.path("big.mp4"), options: ReaderOptions(limits: MediaLimits(maxFileBytes: 1_000_000))) {
            if case .fileTooLarge(_, 2_000_000, 1_000_000) = $0 { true } else { false }
        }
    }

    @Test("corrupt packets in the middle of a stream are skipped, the rest decodes")
    func corruptMiddle() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let ts = dir.path("ok.ts"), bad = dir.path("bad.ts")
        try ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-frames:v", "90", "-c:v", "libx264",
                    "-pix_fmt", "yuv420p", "-g", "15", "-f", "mpegts", ts])
        var data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: ts)))
        var rng = SeededRandom(seed: 7)
        for i in (data.count / 3)..<(data.count / 3 + 20_000) where i % 7 == 0 { data[i] = UInt8(truncatingIfNeeded: rng.next()) }
        try Data(data).write(to: URL(fileURLWithPath: bad))
        let reader = try VideoReader(path: bad)
        var n = 0
        do {
            while try reader.next() != nil { n += 1 }
        } catch let e as MediaError {
            // Acceptable only as a typed decode error after some frames.
            if case .decodeFailed = e {} else { Issue.record("unexpected \(e)") }
        }
        #expect(n > 30, "only \(n) frames survived")
    }
}
