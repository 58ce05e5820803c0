import CFFmpeg
import Foundation
import Imaging
@testable import Media
import Scaling
import Testing
import TestSupport

/// Drawing on a decoded picture itself (`SourcePicture.paint`) and encoding it as it is
/// (`VideoWriter.write(_:)`).
@Suite("Drawing on the decoded picture", .enabled(if: TestPaths.hasFFmpegCLI, "needs the ffmpeg CLI (scripts/bootstrap)"))
struct PicturePaintingTests {
    /// The visible samples of one plane.
    private func plane(_ p: SourcePicture, _ i: Int32) -> [UInt8] {
        let (w, h) = i == 0 ? (p.width, p.height) : ((p.width + 1) / 2, (p.height + 1) / 2)
        let base = refv_frame_plane(p.frame, i)!, stride = Int(refv_frame_linesize(p.frame, i))
        return (0..<h).flatMap { y in Array(UnsafeBufferPointer(start: base + y * stride, count: w)) }
    }

    private func planes(_ p: SourcePicture) -> [[UInt8]] { (0..<3).map { plane(p, Int32($0)) } }

    /// Converts x0..<x1 × y0..<y1 of `image` into `planes` (tightly packed: luma `image.width` wide,
    /// chroma half that).
    private func toYUV(_ image: RGBImage, into planes: inout [[UInt8]], x0: Int = 0, y0: Int = 0, x1: Int? = nil,
                       y1: Int? = nil, simd: Bool = true) {
        let w = image.width
        planes.withUnsafeMutableBufferPointer { p in
            p[0].withUnsafeMutableBufferPointer { y in p[1].withUnsafeMutableBufferPointer { u in p[2].withUnsafeMutableBufferPointer { v in
                convertRGBToYUV420(image, x0: x0, y0: y0, x1: x1 ?? w, y1: y1 ?? image.height, y: y.baseAddress!, yStride: w,
                                   u: u.baseAddress!, uStride: w / 2, v: v.baseAddress!, vStride: w / 2, simd: simd)
            } } }
        }
    }

    /// Every frame of a short generated clip, read to the end (so the decoder holds none of them).
    private func pictures(_ dir: TempDir, size: String = "320x240", frames: Int = 6) throws -> [SourcePicture] {
        let source = dir.path("src-\(size).mp4")
        try ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=\(size):rate=30", "-frames:v", String(frames),
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", source])
        let reader = try VideoReader(path: source, options: ReaderOptions(keepSource: true))
        var out: [SourcePicture] = []
        while let f = try reader.next() { out.append(try #require(f.source)) }
        #expect(out.count == frames)
        return out
    }

    private func overlay(_ k: Int) -> (inout RGBImage) -> Void {
        { img in
            img.drawLine(20 + 10 * Double(k), 200, 150, 40 + 5 * Double(k), .red, thickness: 5)
            img.fillRect(x: 181, y: 9 + k * 7, width: 91, height: 31, .black, alpha: 0.6)
            img.drawText("FRAME \(k)", x: 185, y: 17 + k * 7, scale: 2, .yellow)
            img.fillCircle(61, 59, radius: 9.5, .green)
        }
    }

    @Test("outside what is drawn the planes keep the decoder's samples; inside, they are what drawing on the whole picture in RGB and converting it whole gives")
    func paintMatchesWholeConversion() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        for (k, picture) in try pictures(dir).enumerated() {
            let before = planes(picture)
            // The reference: the whole picture to RGB, drawn on, the whole image back to YUV.
            var whole = picture.rgbImage()
            overlay(k)(&whole)
            var expected = before
            toYUV(whole, into: &expected)
            var canvas = RGBImage(width: 320, height: 240)
            let damage = try picture.paint(using: &canvas, overlay(k))
            #expect(damage.coverage > 0.05 && damage.coverage < 0.6, "coverage \(damage.coverage)")
            #expect(!picture.copied)
            let after = planes(picture)
            var inside = 0, outside = 0, drawn = 0
            var wrongInside: [(Int, Int, Int)] = [], wrongOutside: [(Int, Int, Int)] = [] // (plane, x, y)
            for p in 0..<3 {
                let (w, h, s) = p == 0 ? (320, 240, 1) : (160, 120, 2)
                for y in 0..<h {
                    for x in 0..<w {
                        let i = y * w + x
                        let damaged = damage.rectangles.contains { r in
                            (r.x0 & ~1)..<((r.x1 + 1) & ~1) ~= x * s && (r.y0 & ~1)..<((r.y1 + 1) & ~1) ~= y * s
                        }
                        if damaged {
                            if after[p][i] != expected[p][i] { wrongInside.append((p, x, y)) }
                            inside += 1
                            if after[p][i] != before[p][i] { drawn += 1 }
                        } else {
                            if after[p][i] != before[p][i] { wrongOutside.append((p, x, y)) }
                            outside += 1
                        }
                    }
                }
            }
            #expect(wrongInside.isEmpty, "drawn samples unlike the whole conversion's: \(wrongInside.prefix(5))")
            #expect(wrongOutside.isEmpty, "samples changed outside the drawing: \(wrongOutside.prefix(5))")
            #expect(inside > 4000 && outside > 30000 && drawn > 2000, "\(inside) \(outside) \(drawn)")
        }
    }

    @Test("a picture something else still references is copied before it is drawn on; the other reference sees no change")
    func sharedPictureIsCopied() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let picture = try pictures(dir, frames: 1)[0]
        let shared = try #require(SourcePicture(referencing: picture.frame))
        let before = planes(shared)
        var canvas = RGBImage(width: 320, height: 240)
        _ = try picture.paint(using: &canvas, overlay(0))
        #expect(picture.copied)
        #expect(planes(shared) == before, "the other reference was written to")
        #expect(planes(picture) != before)
        // Nothing references the copy: the next drawing goes straight into it.
        let copy = try picture.copy()
        let drawnOnce = planes(picture)
        _ = try copy.paint(using: &canvas) { $0.fillRect(x: 0, y: 0, width: 64, height: 64, .white) }
        #expect(!copy.copied)
        #expect(planes(picture) == drawnOnce, "drawing on a copy changed the original")
        #expect(plane(copy, 0)[0] == 235, "white in limited range")
    }

    @Test("drawing nothing leaves the picture alone and copies nothing; a canvas of another size is a typed error")
    func nothingAndWrongCanvas() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let picture = try pictures(dir, frames: 1)[0]
        let shared = try #require(SourcePicture(referencing: picture.frame))
        let before = planes(picture)
        var canvas = RGBImage(width: 320, height: 240)
        let damage = try picture.paint(using: &canvas) { $0.drawLine(-50, -50, -10, -10, .red) }
        #expect(damage.isEmpty && !picture.copied && planes(picture) == before)
        var small = RGBImage(width: 32, height: 24)
        #expect(throws: MediaError.self) { _ = try picture.paint(using: &small, overlay(0)) }
        withExtendedLifetime(shared) {}
    }

    @Test("odd sizes: drawing reaches the even part, the last column and row stay the decoder's")
    func oddSize() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let source = dir.path("odd.mkv")
        // The ffmpeg CLI's filters round 4:2:0 sizes to even; raw input keeps 161×121 as it is.
        let raw = dir.path("odd.yuv")
        let bytes = 161 * 121 + 2 * 81 * 61
        try Data((0..<bytes).map { UInt8(truncatingIfNeeded: 40 + ($0 * 7) % 160) }).write(to: URL(fileURLWithPath: raw))
        try ffmpeg(["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", "161x121", "-i", raw, "-c:v", "ffv1", source])
        let reader = try VideoReader(path: source, options: ReaderOptions(keepSource: true))
        let picture = try #require(try reader.next()?.source)
        #expect(picture.width == 161 && picture.height == 121)
        let before = plane(picture, 0)
        var canvas = RGBImage(width: 161, height: 121)
        _ = try picture.paint(using: &canvas) { $0.fillRect(x: 0, y: 0, width: 161, height: 121, .white) }
        let after = plane(picture, 0)
        for y in 0..<121 {
            for x in 0..<161 {
                let i = y * 161 + x
                if x < 160 && y < 120 { #expect(after[i] == 235) } else { #expect(after[i] == before[i], "(\(x), \(y))") }
            }
        }
        #expect(picture.rgbImage().pixel(x: 10, y: 10) == RGB(255, 255, 255))
    }

    @Test("the writer encodes a drawn picture's planes as they are (lossless round trip), the card after it from RGB")
    func writesPlanes() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let output = dir.path("out.mp4")
        let writer = try VideoWriter(path: output, width: 320, height: 240, frameRate: FrameRate(30),
                                     options: WriterOptions(preset: "ultrafast", rateControl: .qp(0), threads: 1))
        var canvas = RGBImage(width: 320, height: 240)
        var written: [[[UInt8]]] = []
        for (k, picture) in try pictures(dir).enumerated() {
            _ = try picture.paint(using: &canvas, overlay(k))
            try writer.write(picture)
            written.append(planes(picture))
        }
        try writer.write(RGBImage(width: 320, height: 240))
        try writer.finish()
        let reader = try VideoReader(path: output, options: ReaderOptions(keepSource: true))
        var n = 0
        while let f = try reader.next() {
            let p = try #require(f.source)
            if n < written.count { #expect(planes(p) == written[n], "frame \(n)") } else { #expect(plane(p, 0).allSatisfy { $0 == 16 }) }
            n += 1
        }
        #expect(n == written.count + 1)
        let tooSmall = try VideoWriter(path: dir.path("big.mp4"), width: 640, height: 480, frameRate: FrameRate(30))
        #expect(throws: MediaError.self) { try tooSmall.write(try pictures(dir, frames: 1)[0]) }
        tooSmall.abandon()
    }

    @Test("YUV → RGB of a rectangle gives what the whole conversion gives there, and leaves the rest alone; RGB → YUV → RGB comes back within a few levels")
    func conversions() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let picture = try pictures(dir, frames: 1)[0]
        let whole = picture.rgbImage()
        var part = RGBImage(width: 320, height: 240)
        let yuv = planes(picture)
        yuv[0].withUnsafeBufferPointer { y in yuv[1].withUnsafeBufferPointer { u in yuv[2].withUnsafeBufferPointer { v in
            convertYUV420ToRGB(x0: 34, y0: 18, x1: 200, y1: 150, y: y.baseAddress!, yStride: 320, u: u.baseAddress!, uStride: 160,
                               v: v.baseAddress!, vStride: 160, into: &part)
        } } }
        var same = true, untouched = true
        for y in 0..<240 {
            for x in 0..<320 {
                if (34..<200).contains(x) && (18..<150).contains(y) {
                    same = same && part.pixel(x: x, y: y) == whole.pixel(x: x, y: y)
                } else {
                    untouched = untouched && part.pixel(x: x, y: y) == RGB(0, 0, 0)
                }
            }
        }
        #expect(same && untouched)

        // Random colours, one per 2×2 block (so 4:2:0 loses nothing), to YUV and back.
        var g = SystemRandomNumberGenerator()
        var rgb = RGBImage(width: 64, height: 32)
        for by in 0..<16 {
            for bx in 0..<32 {
                let c = RGB(.random(in: 0...255, using: &g), .random(in: 0...255, using: &g), .random(in: 0...255, using: &g))
                for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] { rgb.setPixel(x: 2 * bx + dx, y: 2 * by + dy, c) }
            }
        }
        var yuv420 = [64 * 32, 32 * 16, 32 * 16].map { [UInt8](repeating: 0, count: $0) }
        toYUV(rgb, into: &yuv420)
        var back = RGBImage(width: 64, height: 32)
        convertYUV420ToRGB(x0: 0, y0: 0, x1: 64, y1: 32, y: yuv420[0], yStride: 64, u: yuv420[1], uStride: 32, v: yuv420[2],
                           vStride: 32, into: &back)
        let worst = zip(rgb.pixels, back.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
        // Limited range keeps 220 of 256 luma levels and 225 of chroma: a round trip may miss by ~3.
        #expect(worst <= 4, "worst \(worst)")
    }

    @Test("the SIMD path and the plain C path give the same bytes, both ways, for rectangles of every alignment (200 seeded)")
    func simdMatchesPlain() throws {
        var g = SeededRandom(seed: 7)
        let (w, h) = (198, 66)
        var rgb = RGBImage(width: w, height: h)
        for i in rgb.pixels.indices { rgb.pixels[i] = .random(in: 0...255, using: &g) }
        let planes = (0..<3).map { k in (0..<(k == 0 ? w * h : w * h / 4)).map { _ in UInt8.random(in: 0...255, using: &g) } }
        for _ in 0..<200 {
            let x0 = 2 * Int.random(in: 0...(w / 2 - 1), using: &g), y0 = 2 * Int.random(in: 0...(h / 2 - 1), using: &g)
            let x1 = 2 * Int.random(in: (x0 / 2 + 1)...(w / 2), using: &g), y1 = 2 * Int.random(in: (y0 / 2 + 1)...(h / 2), using: &g)
            var outs: [[[UInt8]]] = []
            var images: [RGBImage] = []
            for simd in [true, false] {
                var p = planes
                toYUV(rgb, into: &p, x0: x0, y0: y0, x1: x1, y1: y1, simd: simd)
                outs.append(p)
                var image = rgb
                convertYUV420ToRGB(x0: x0, y0: y0, x1: x1, y1: y1, y: planes[0], yStride: w, u: planes[1], uStride: w / 2,
                                   v: planes[2], vStride: w / 2, into: &image, simd: simd)
                images.append(image)
            }
            #expect(outs[0] == outs[1], "RGB → YUV differs for \(x0)..<\(x1) × \(y0)..<\(y1)")
            #expect(images[0].pixels == images[1].pixels, "YUV → RGB differs for \(x0)..<\(x1) × \(y0)..<\(y1)")
            #expect(outs[0] != planes && images[0].pixels != rgb.pixels)
        }
    }

    @Test("rgbBesideSource false: frames that keep their decoded picture come without RGB, frames that cannot keep one still have it")
    func noRGBBesideSource() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let clip = dir.path("c.mp4"), still = dir.path("s.png")
        try ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=30", "-frames:v", "3", "-c:v", "libx264", "-pix_fmt", "yuv420p", clip])
        try ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=64x48", "-frames:v", "1", still])
        let options = ReaderOptions(keepSource: true, rgbBesideSource: false)
        var n = 0
        let reader = try VideoReader(path: clip, options: options)
        while let f = try reader.next() {
            #expect(f.source != nil && f.image.width == 0 && f.image.pixels.isEmpty)
            n += 1
        }
        #expect(n == 3)
        let png = try #require(try VideoReader(path: still, options: options).next())
        #expect(png.source == nil && png.image.width == 64 && png.image.height == 48)
    }
}
