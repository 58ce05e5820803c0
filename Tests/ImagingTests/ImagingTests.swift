import Imaging
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
