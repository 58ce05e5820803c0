import CFFmpeg
import Foundation
import Imaging
@testable import Media
import Scaling
import Testing
import TestSupport

/// Drawing on a decoded picture itself (`SourcePicture.draw`, `PlanarCanvas`), encoding it as it is
/// (`VideoWriter.write(_:)`), and the RGB ↔ YUV conversions.
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
    private func pictures(_ dir: TempDir, size: String = "320x240", frames: Int = 6, saturation: Double = 1) throws -> [SourcePicture] {
        let source = dir.path("src-\(size)-\(saturation).mp4")
        try ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=\(size):rate=30,hue=s=\(saturation)", "-frames:v", String(frames),
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", source])
        let reader = try VideoReader(path: source, options: ReaderOptions(keepSource: true))
        var out: [SourcePicture] = []
        while let f = try reader.next() { out.append(try #require(f.source)) }
        #expect(out.count == frames)
        return out
    }

    /// Boxes (half-open, with a pixel or two to spare) that hold everything `draw(k, on:)` draws: the
    /// line with its caps, the panel with its text and shadow, the circle.
    private func reach(_ k: Int) -> [(x0: Int, y0: Int, x1: Int, y1: Int)] {
        [(15 + 10 * k, 35 + 5 * k, 158, 207), (179, 7 + 7 * k, 275, 43 + 7 * k), (48, 46, 75, 74)]
    }

    /// Shapes at every parity: odd `k` puts the panel and the text on odd rows.
    private func draw<Canvas: OverlayCanvas>(_ k: Int, on img: inout Canvas) {
        img.drawLine(20 + 10 * Double(k), 200, 150, 40 + 5 * Double(k), .red, thickness: 5, alpha: 1)
        img.fillRect(x: 181, y: 9 + k * 7, width: 91, height: 31, .black, alpha: 0.6)
        img.drawText("FRAME \(k)", x: 185, y: 17 + k * 7, scale: 2, .yellow, shadow: true)
        img.fillCircle(61, 59, radius: 9.5, .green, alpha: 1)
    }

    @Test("the writer encodes a drawn picture's planes as they are (lossless round trip), the card after it from RGB")
    func writesPlanes() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let output = dir.path("out.mp4")
        let writer = try VideoWriter(path: output, width: 320, height: 240, frameRate: FrameRate(30),
                                     options: WriterOptions(preset: "ultrafast", rateControl: .qp(0), threads: 1))
        var written: [[[UInt8]]] = []
        for (k, picture) in try pictures(dir).enumerated() {
            try picture.draw { draw(k, on: &$0) }
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

    // MARK: Drawn on the planes (`SourcePicture.draw`, `PlanarCanvas`)

    @Test("drawn on the planes: where the RGB drawing changes a pixel, within a level of drawing in RGB and converting back; elsewhere the decoder's samples (within a level at a shape's faint edge, exactly away from the shapes)")
    func planarMatchesRGB() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        var worst = 0, compared = 0, untouchedMoved = 0, rtWorst = 0
        // Colours a camera gives: testsrc2's are saturated enough that converting them to RGB and
        // back moves some samples by 10 levels, which would measure the RGB route, not this one.
        for (k, picture) in try pictures(dir, saturation: 0.4).enumerated() {
            let before = planes(picture)
            let undrawn = picture.rgbImage()
            var whole = undrawn
            draw(k, on: &whole)
            var expected = before
            toYUV(whole, into: &expected)
            var roundTrip = before
            toYUV(undrawn, into: &roundTrip)
            try picture.draw { draw(k, on: &$0) }
            #expect(!picture.copied)
            let after = planes(picture)
            for p in 0..<3 {
                let (w, h, s) = p == 0 ? (320, 240, 1) : (160, 120, 2)
                for y in 0..<h {
                    for x in 0..<w {
                        let i = y * w + x
                        // The sample's pixels (a chroma sample's whole block).
                        let pixels = (y * s..<(y + 1) * s).flatMap { py in (x * s..<(x + 1) * s).map { (px: $0, py: py) } }
                        let touched = pixels.contains { whole.pixel(x: $0.px, y: $0.py) != undrawn.pixel(x: $0.px, y: $0.py) }
                        let reachable = reach(k).contains { r in
                            x * s < r.x1 && (x + 1) * s > r.x0 && y * s < r.y1 && (y + 1) * s > r.y0
                        }
                        if touched {
                            let d = abs(Int(after[p][i]) - Int(expected[p][i]))
                            worst = max(worst, d)
                            compared += 1
                            rtWorst = max(rtWorst, abs(Int(roundTrip[p][i]) - Int(before[p][i])))
                        } else if reachable {
                            if abs(Int(after[p][i]) - Int(before[p][i])) > 1 { untouchedMoved += 1 }
                        } else if after[p][i] != before[p][i] {
                            Issue.record("plane \(p) (\(x), \(y)) changed away from the shapes")
                        }
                    }
                }
            }
        }
        // The oracle is sound on these colours: converting the undrawn picture to RGB and back moves
        // no sample by more than a level.
        #expect(rtWorst <= 1, "the RGB route alone moved a sample by \(rtWorst)")
        #expect(compared > 20_000)
        #expect(worst <= 1, "worst difference \(worst)")
        #expect(untouchedMoved == 0, "\(untouchedMoved) samples the RGB drawing left alone moved by more than 1")
    }

    @Test("on the planes: a flat colour on whole 2×2 blocks is exactly its samples; a 1-pixel column covers half of each block's chroma")
    func planarExactColours() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let picture = try pictures(dir, frames: 1)[0]
        let before = planes(picture)
        try picture.draw {
            $0.fillRect(x: 10, y: 20, width: 8, height: 6, .white, alpha: 1)
            $0.fillRect(x: 40, y: 20, width: 8, height: 6, RGB(255, 0, 0), alpha: 1)
            $0.fillRect(x: 71, y: 20, width: 1, height: 6, RGB(0, 0, 255), alpha: 1)
        }
        let after = planes(picture)
        #expect(after[0][22 * 320 + 12] == 235 && after[1][11 * 160 + 6] == 128 && after[2][11 * 160 + 6] == 128)
        // BT.601 limited range red: Y 82, U 90, V 240 (the integer formulas of `CColorConvert`).
        #expect(after[0][22 * 320 + 42] == 82 && after[1][11 * 160 + 21] == 90 && after[2][11 * 160 + 21] == 240)
        // Blue (Y 41, U 240, V 110) on column 71: luma exact, chroma sample 35 half-way (rounded).
        #expect(after[0][22 * 320 + 71] == 41 && after[0][22 * 320 + 70] == before[0][22 * 320 + 70])
        let u = Int(before[1][11 * 160 + 35]), v = Int(before[2][11 * 160 + 35])
        #expect(Int(after[1][11 * 160 + 35]) == (u * 128 + 240 * 128 + 128) >> 8)
        #expect(Int(after[2][11 * 160 + 35]) == (v * 128 + 110 * 128 + 128) >> 8)
    }

    @Test("on the planes: a shared picture is copied first and the other reference sees no change; odd sizes keep their last column and row")
    func planarSharedAndOdd() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let picture = try pictures(dir, frames: 1)[0]
        let shared = try #require(SourcePicture(referencing: picture.frame))
        let before = planes(shared)
        try picture.draw { draw(0, on: &$0) }
        #expect(picture.copied)
        #expect(planes(shared) == before, "the other reference was written to")
        #expect(planes(picture) != before)

        let source = dir.path("odd.mkv"), raw = dir.path("odd.yuv")
        let bytes = 161 * 121 + 2 * 81 * 61
        try Data((0..<bytes).map { UInt8(truncatingIfNeeded: 40 + ($0 * 7) % 160) }).write(to: URL(fileURLWithPath: raw))
        try ffmpeg(["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", "161x121", "-i", raw, "-c:v", "ffv1", source])
        let reader = try VideoReader(path: source, options: ReaderOptions(keepSource: true))
        let odd = try #require(try reader.next()?.source)
        let oddBefore = plane(odd, 0)
        try odd.draw {
            #expect($0.width == 160 && $0.height == 120)
            $0.fillRect(x: -5, y: -5, width: 400, height: 400, .white, alpha: 1)
        }
        let oddAfter = plane(odd, 0)
        for y in 0..<121 {
            for x in 0..<161 {
                let i = y * 161 + x
                if x < 160 && y < 120 { #expect(oddAfter[i] == 235) } else { #expect(oddAfter[i] == oddBefore[i], "(\(x), \(y))") }
            }
        }
    }

}
