import Imaging
import Scaling
import Testing

@Suite("RGB images and drawing")
struct ImagingTests {
    private func sample(_ w: Int, _ h: Int) -> RGBImage {
        var img = RGBImage(width: w, height: h)
        for y in 0..<h { for x in 0..<w { img.setPixel(x: x, y: y, RGB(UInt8(x * 10), UInt8(y * 10), 7)) } }
        return img
    }

    @Test("quarter turns: four are the identity, one moves the top-left corner to the top-right")
    func rotation() {
        let img = sample(5, 3)
        #expect(img.rotatedClockwise(quarterTurns: 4) == img)
        #expect(img.rotatedClockwise(quarterTurns: 1).rotatedClockwise(quarterTurns: 3) == img)
        let r = img.rotatedClockwise(quarterTurns: 1)
        #expect(r.width == 3 && r.height == 5)
        #expect(r.pixel(x: 2, y: 0) == img.pixel(x: 0, y: 0))
        #expect(r.pixel(x: 0, y: 4) == img.pixel(x: 4, y: 2))
        let h = img.rotatedClockwise(quarterTurns: 2)
        #expect(h.pixel(x: 4, y: 2) == img.pixel(x: 0, y: 0))
        #expect(img.rotatedClockwise(quarterTurns: -1) == img.rotatedClockwise(quarterTurns: 3))
    }

    @Test("byte counts are checked")
    func pixelsInit() {
        #expect(RGBImage(width: 2, height: 2, pixels: [UInt8](repeating: 0, count: 12)) != nil)
        #expect(RGBImage(width: 2, height: 2, pixels: [UInt8](repeating: 0, count: 11)) == nil)
        #expect(RGBImage(width: -1, height: 2, pixels: []) == nil)
    }

    @Test("lines, circles and rects draw inside and clip outside without crashing")
    func drawing() {
        var img = RGBImage(width: 40, height: 30)
        img.drawLine(5, 15, 35, 15, .white, thickness: 3)
        #expect(img.pixel(x: 20, y: 15) == .white)
        #expect(img.pixel(x: 20, y: 2) == .black)
        img.fillCircle(10, 10, radius: 4, .red)
        #expect(img.pixel(x: 10, y: 10) == .red)
        img.fillRect(x: 30, y: 0, width: 5, height: 5, .green, alpha: 0.5)
        #expect(img.pixel(x: 31, y: 1) == RGB(20, 100, 40))
        let before = img
        // Far outside, non-finite and degenerate shapes change nothing and do not trap.
        img.drawLine(-1e12, -5, -1e11, -7, .white)
        img.drawLine(.nan, 1, 2, .infinity, .white)
        img.fillCircle(1e9, 1e9, radius: 3, .white)
        img.fillCircle(5, 5, radius: -1, .white)
        img.fillRect(x: -100, y: -100, width: 50, height: 50, .white)
        img.fillRect(x: 10, y: 10, width: -5, height: 3, .white)
        #expect(img == before)
    }

    @Test("fillRect gives each pixel of the clipped rectangle the 8.8 blend of its colour, and leaves the rest alone")
    func fillRectBlend() {
        var g = SeededRandom(seed: 7)
        for _ in 0..<200 {
            var img = RGBImage(width: 53, height: 29)
            for i in img.pixels.indices { img.pixels[i] = UInt8.random(in: 0...255, using: &g) }
            let before = img
            let (x, y) = (Int.random(in: -20...60, using: &g), Int.random(in: -20...35, using: &g))
            let (w, h) = (Int.random(in: 0...70, using: &g), Int.random(in: 0...40, using: &g))
            let c = RGB(UInt8.random(in: 0...255, using: &g), UInt8.random(in: 0...255, using: &g),
                        UInt8.random(in: 0...255, using: &g))
            let alpha = [0.0, 1.0, 1.5, Double.random(in: 0...1, using: &g)][Int.random(in: 0...3, using: &g)]
            img.fillRect(x: x, y: y, width: w, height: h, c, alpha: alpha)
            // The reference: each channel as (p × (256 − a) + c × a + 128) >> 8, a = alpha in 256ths.
            let a = alpha >= 1 ? 256 : Int(alpha * 256 + 0.5)
            func blended(_ p: UInt8, _ c: UInt8) -> UInt8 { a == 0 ? p : UInt8((Int(p) * (256 - a) + Int(c) * a + 128) >> 8) }
            for py in 0..<29 {
                for px in 0..<53 {
                    let o = before.pixel(x: px, y: py)
                    let inRect = px >= x && px < x + w && py >= y && py < y + h
                    let want = inRect ? RGB(blended(o.r, c.r), blended(o.g, c.g), blended(o.b, c.b)) : o
                    #expect(img.pixel(x: px, y: py) == want, "(\(px), \(py)) of rect \(x),\(y) \(w)×\(h) alpha \(alpha)")
                }
            }
        }
    }

    @Test("text: glyphs render, unknown characters fall back, width is predictable")
    func text() {
        var img = RGBImage(width: 80, height: 20)
        img.drawText("GOOD 1", x: 1, y: 1, scale: 1, .white, shadow: false)
        #expect(img.pixels.contains(255))
        #expect(RGBImage.textWidth("GOOD 1", scale: 2) == 6 * 6 * 2 - 2)
        var a = RGBImage(width: 20, height: 10), b = RGBImage(width: 20, height: 10)
        a.drawText("\u{1F600}", x: 0, y: 0, scale: 1, shadow: false)
        b.drawText("?", x: 0, y: 0, scale: 1, shadow: false)
        #expect(a == b)
        var lower = RGBImage(width: 20, height: 10), upper = RGBImage(width: 20, height: 10)
        lower.drawText("ab", x: 0, y: 0, scale: 1, shadow: false)
        upper.drawText("AB", x: 0, y: 0, scale: 1, shadow: false)
        #expect(lower == upper)
    }

    @Test("mean absolute difference needs equal sizes")
    func difference() {
        let a = sample(4, 4)
        var b = a
        b.setPixel(x: 0, y: 0, RGB(0, 0, 7 + 48))
        #expect(a.meanAbsoluteDifference(a) == 0)
        #expect(a.meanAbsoluteDifference(b) == 1)
        #expect(a.meanAbsoluteDifference(sample(3, 4)) == nil)
    }
}

@Suite("Line drawing matches the exact distance rule")
struct LineTests {
    /// Reference: every pixel of the image tested against the segment (slow, obviously right).
    private func reference(_ w: Int, _ h: Int, _ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double, _ t: Double) -> RGBImage {
        var img = RGBImage(width: w, height: h)
        let r = t / 2, dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy
        for py in 0..<h {
            for px in 0..<w {
                let fx = Double(px) + 0.5 - x0, fy = Double(py) + 0.5 - y0
                let u = min(1, max(0, len2 > 0 ? (fx * dx + fy * dy) / len2 : 0))
                let d = ((fx - u * dx) * (fx - u * dx) + (fy - u * dy) * (fy - u * dy)).squareRoot()
                let c = min(1, max(0, r + 0.5 - d))
                if c > 0 { img.blend(x: px, y: py, .white, alpha: c) }
            }
        }
        return img
    }

    @Test("steep, shallow, diagonal and degenerate segments", arguments: [
        (3.0, 4.0, 57.0, 36.0, 3.0), (10.0, 2.0, 12.0, 38.0, 5.0), (2.0, 20.0, 58.0, 21.0, 2.0),
        (30.0, 20.0, 30.0, 20.0, 6.0), (-10.0, -5.0, 70.0, 50.0, 4.0), (50.0, 3.0, 5.0, 37.0, 7.5),
    ])
    func matchesReference(x0: Double, y0: Double, x1: Double, y1: Double, t: Double) {
        var img = RGBImage(width: 60, height: 40)
        img.drawLine(x0, y0, x1, y1, .white, thickness: t)
        #expect(img == reference(60, 40, x0, y0, x1, y1, t))
    }
}
