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

@Suite("Damage: where drawing changed an image")
struct DamageTests {
    private func inside(_ d: Damage, _ x: Int, _ y: Int) -> Bool {
        d.rectangles.contains { (($0.x0)..<($0.x1)).contains(x) && (($0.y0)..<($0.y1)).contains(y) }
    }

    @Test("every pixel any primitive changes lies inside the damage (200 seeded drawings, shapes partly off the image); a marks-only dry run records the same damage and changes nothing",
          arguments: 0..<4)
    func coversEveryChange(seed: UInt64) {
        var g = SeededRandom(seed: seed)
        func real(_ lo: Double, _ hi: Double) -> Double { Double.random(in: lo...hi, using: &g) }
        func int(_ lo: Int, _ hi: Int) -> Int { Int.random(in: lo...hi, using: &g) }
        for _ in 0..<50 {
            var img = RGBImage(width: 97, height: 61)
            for i in img.pixels.indices { img.pixels[i] = UInt8(truncatingIfNeeded: i &* 37) }
            let before = img
            let shape = int(0, 6)
            let (r0, r1, r2, r3, r4) = (real(-20, 120), real(-20, 80), real(-20, 120), real(-20, 80), real(0.1, 1))
            let (i0, i1, i2, i3, i4) = (int(-30, 100), int(-30, 70), int(0, 60), int(0, 60), int(1, 4))
            func draw(_ img: inout RGBImage) {
                switch shape {
                case 0: img.drawLine(r0, r1, r2, r3, .red, thickness: r4 * 9, alpha: r4)
                case 1: img.fillRect(x: i0, y: i1, width: i2, height: i3, .green, alpha: r4)
                case 2: img.fillCircle(r0, r1, radius: r4 * 20, .cyan)
                case 3: img.drawText("DEPTH 0.91", x: i0, y: i1, scale: i4, .yellow)
                case 4: img.strokeRect(x: i0, y: i1, width: i2, height: i3, .white, thickness: i4)
                case 5: img.drawDashedHorizontal(y: r1, .orange)
                default: img.setPixel(x: i0, y: i1, .white)
                }
            }
            var dry = img
            dry.marksOnly = true
            dry.trackDamage()
            draw(&dry)
            #expect(dry.pixels == before.pixels, "a marks-only drawing changed pixels (shape \(shape))")
            img.trackDamage()
            #expect(img.damage?.isEmpty == true)
            draw(&img)
            let damage = try! #require(img.damage)
            #expect(dry.damage == damage, "the dry run's damage differs (shape \(shape))")
            var changed = 0
            for y in 0..<61 {
                for x in 0..<97 where img.pixel(x: x, y: y) != before.pixel(x: x, y: y) {
                    changed += 1
                    #expect(inside(damage, x, y), "(\(x), \(y)) changed outside the damage")
                }
            }
            if changed > 0 { #expect(!damage.isEmpty) }
            for rect in damage.rectangles {
                #expect(rect.x0 >= 0 && rect.x1 <= 97 && rect.y0 >= 0 && rect.y1 <= 61 && rect.x0 < rect.x1)
                #expect(rect.y0 % Damage.bandHeight == 0)
            }
            Self.expectApart(damage)
        }
    }

    /// Within a band, the rectangles are left to right and more than `joinGap` apart (never overlapping).
    static func expectApart(_ d: Damage, sourceLocation: SourceLocation = #_sourceLocation) {
        for (a, b) in zip(d.rectangles, d.rectangles.dropFirst()) where a.y0 == b.y0 {
            #expect(b.x0 - a.x1 > Int(Damage.joinGap), "\(a) and \(b)", sourceLocation: sourceLocation)
        }
    }

    @Test("what is drawn side by side on the same rows keeps its own spans, up to three a band; close ones join")
    func spansSideBySide() {
        let b = Damage.bandHeight
        var d = Damage(width: 1280, height: 2 * b)
        d.mark(x0: 8, y0: 0, x1: 280, y1: b)        // a checklist at the left
        d.mark(x0: 1180, y0: 0, x1: 1240, y1: b)    // a gauge at the right
        d.mark(x0: 500, y0: 2, x1: 520, y1: b - 2)  // a limb in the middle
        #expect(d.rectangles.map { [$0.x0, $0.x1] } == [[8, 280], [500, 520], [1180, 1240]])
        #expect(abs(d.coverage - Double((272 + 20 + 60) * b) / Double(1280 * 2 * b)) < 1e-12)
        d.mark(x0: 530, y0: 0, x1: 600, y1: 1)      // 10 columns from the limb: joined to it
        #expect(d.rectangles.map { [$0.x0, $0.x1] } == [[8, 280], [500, 600], [1180, 1240]])
        d.mark(x0: 800, y0: 0, x1: 810, y1: 1)      // a fourth: joins the nearest (the limb's)
        #expect(d.rectangles.map { [$0.x0, $0.x1] } == [[8, 280], [500, 810], [1180, 1240]])
        d.mark(x0: 270, y0: 0, x1: 505, y1: 1)      // bridges two spans: they become one
        #expect(d.rectangles.map { [$0.x0, $0.x1] } == [[8, 810], [1180, 1240]])
        Self.expectApart(d)
        d.mark(x0: 820, y0: b + 1, x1: 830, y1: b + 2) // another band: its own
        #expect(d.rectangles.last.map { [$0.x0, $0.y0, $0.x1, $0.y1] } == [820, b, 830, 2 * b])
    }

    @Test("bands keep their own spans; tracking is off by default and does not change equality")
    func bands() {
        let band = Damage.bandHeight
        var d = Damage(width: 100, height: 40)
        d.mark(x0: 10, y0: 2, x1: 20, y1: 5)
        d.mark(x0: 50, y0: 39, x1: 60, y1: 40)   // the last row: the last band, up to the image's edge
        d.mark(x0: -5, y0: -5, x1: -1, y1: 10)   // off the image: nothing
        d.mark(x0: 30, y0: 3, x1: 30, y1: 9)     // empty: nothing
        let last = 39 / band * band
        #expect(d.rectangles.map { [$0.x0, $0.y0, $0.x1, $0.y1] } == [[10, 0, 20, band], [50, last, 60, 40]])
        #expect(abs(d.coverage - Double(10 * band + 10 * (40 - last)) / 4000) < 1e-12)
        d.markAll()
        #expect(d.coverage == 1)
        #expect(Damage(width: 0, height: 0).rectangles.isEmpty && Damage(width: 0, height: 0).coverage == 0)

        var a = RGBImage(width: 8, height: 8)
        #expect(a.damage == nil)
        a.fillRect(x: 0, y: 0, width: 2, height: 2, .white)
        #expect(a.damage == nil)
        var b = a
        b.trackDamage()
        #expect(a == b)
    }
}
