// Anti-aliased drawing on RGBImage: enough for skeleton overlays, gauges and text cards.

extension RGBImage {
    /// Blends `c` into pixel (x, y) with coverage `a` in [0, 1]. Out-of-bounds pixels are ignored.
    @inline(__always)
    public mutating func blend(x: Int, y: Int, _ c: RGB, alpha a: Double) {
        guard x >= 0, y >= 0, x < width, y < height, a > 0 else { return }
        blendInside(x: x, y: y, c, alpha: a)
    }

    /// `blend` for callers that know (x, y) is inside the image and `a > 0`.
    @inline(__always)
    mutating func blendInside(x: Int, y: Int, _ c: RGB, alpha a: Double) {
        let i = (y * width + x) * 3
        if a >= 1 {
            pixels[i] = c.r
            pixels[i + 1] = c.g
            pixels[i + 2] = c.b
            return
        }
        let ia = 1 - a
        pixels[i] = UInt8(Double(pixels[i]) * ia + Double(c.r) * a + 0.5)
        pixels[i + 1] = UInt8(Double(pixels[i + 1]) * ia + Double(c.g) * a + 0.5)
        pixels[i + 2] = UInt8(Double(pixels[i + 2]) * ia + Double(c.b) * a + 0.5)
    }

    /// Fills an axis-aligned rectangle, clipped to the image. Rectangles are most of an overlay's
    /// pixels (panels, gauges, text), so this blends whole rows in 8.8 fixed point rather than
    /// pixel by pixel through `blend`: each byte of a row is `(byte × (256 − a) + colour × a + 128) >> 8`,
    /// with the row's `colour × a + 128` laid out once as R, G, B, R, G, B… so the loop runs over
    /// bytes with no per-channel branch and the compiler vectorises it (about ten times the
    /// per-pixel loop). Every term fits 16 bits: byte × (256 − a) + colour × a ≤ 255 × 256.
    public mutating func fillRect(x: Int, y: Int, width w: Int, height h: Int, _ c: RGB, alpha: Double = 1) {
        let x0 = max(0, x), y0 = max(0, y)
        let x1 = min(width, x + w), y1 = min(height, y + h)
        guard x0 < x1, y0 < y1, alpha > 0, !alpha.isNaN else { return }
        let a = opacityWeight(alpha)
        let ia = UInt16(256 - a)
        let (r, g, b) = (UInt16(UInt32(c.r) * a + 128), UInt16(UInt32(c.g) * a + 128), UInt16(UInt32(c.b) * a + 128))
        let stride = width * 3
        let count = 3 * (x1 - x0)
        withUnsafeTemporaryAllocation(of: UInt16.self, capacity: count) { add in
            guard let add = add.baseAddress else { return }
            for i in 0..<(x1 - x0) {
                add[3 * i] = r
                add[3 * i + 1] = g
                add[3 * i + 2] = b
            }
            pixels.withUnsafeMutableBufferPointer { buf in
                guard let base = buf.baseAddress else { return }
                for yy in y0..<y1 {
                    let row = base + yy * stride + 3 * x0
                    for k in 0..<count {
                        row[k] = UInt8(truncatingIfNeeded: (UInt16(row[k]) &* ia &+ add[k]) >> 8)
                    }
                }
            }
        }
    }

    /// An anti-aliased line segment of the given thickness with round caps (`LineShape`).
    public mutating func drawLine(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double,
                                  _ c: RGB, thickness: Double = 2, alpha: Double = 1) {
        guard alpha > 0, let line = LineShape(x0, y0, x1, y1, thickness: thickness, width: width, height: height) else { return }
        for py in line.minY...line.maxY {
            guard let (a, b) = line.span(py) else { continue }
            for px in a...b {
                let coverage = line.coverage(px, py)
                if coverage > 0 { blendInside(x: px, y: py, c, alpha: coverage * alpha) }
            }
        }
    }

    /// An anti-aliased filled circle (`CircleShape`).
    public mutating func fillCircle(_ cx: Double, _ cy: Double, radius r: Double, _ c: RGB, alpha: Double = 1) {
        guard alpha > 0, let circle = CircleShape(cx, cy, radius: r, width: width, height: height) else { return }
        for py in circle.minY...circle.maxY {
            for px in circle.minX...circle.maxX {
                let coverage = circle.coverage(px, py)
                if coverage > 0 { blendInside(x: px, y: py, c, alpha: coverage * alpha) }
            }
        }
    }
}

extension RGBImage: OverlayCanvas {}
