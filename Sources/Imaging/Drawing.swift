// Anti-aliased drawing on RGBImage: enough for skeleton overlays, gauges and text cards.

extension RGBImage {
    /// Blends `c` into pixel (x, y) with coverage `a` in [0, 1]. Out-of-bounds pixels are ignored.
    @inline(__always)
    public mutating func blend(x: Int, y: Int, _ c: RGB, alpha a: Double) {
        guard x >= 0, y >= 0, x < width, y < height, a > 0 else { return }
        damage?.mark(x0: x, y0: y, x1: x + 1, y1: y + 1)
        guard !marksOnly else { return }
        blendUnmarked(x: x, y: y, c, alpha: a)
    }

    /// `blend` for callers that have marked the damage already (in bounds, `a > 0`).
    @inline(__always)
    mutating func blendUnmarked(x: Int, y: Int, _ c: RGB, alpha a: Double) {
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
        let a = alpha >= 1 ? 256 : UInt32(alpha * 256 + 0.5)
        let ia = UInt16(256 - a)
        damage?.mark(x0: x0, y0: y0, x1: x1, y1: y1)
        guard !marksOnly else { return }
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

    /// Draws a rectangle outline `thickness` pixels wide.
    public mutating func strokeRect(x: Int, y: Int, width w: Int, height h: Int, _ c: RGB, thickness t: Int = 1) {
        fillRect(x: x, y: y, width: w, height: t, c)
        fillRect(x: x, y: y + h - t, width: w, height: t, c)
        fillRect(x: x, y: y, width: t, height: h, c)
        fillRect(x: x + w - t, y: y, width: t, height: h, c)
    }

    /// An anti-aliased line segment of the given thickness with round caps.
    public mutating func drawLine(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double,
                                  _ c: RGB, thickness: Double = 2, alpha: Double = 1) {
        guard x0.isFinite, y0.isFinite, x1.isFinite, y1.isFinite, thickness > 0 else { return }
        let r = thickness / 2
        let minX = max(0, Int((min(x0, x1) - r - 1).rounded(.down)))
        let maxX = min(width - 1, Int((max(x0, x1) + r + 1).rounded(.up)))
        let minY = max(0, Int((min(y0, y1) - r - 1).rounded(.down)))
        let maxY = min(height - 1, Int((max(y0, y1) + r + 1).rounded(.up)))
        guard minX <= maxX, minY <= maxY else { return }
        let dx = x1 - x0, dy = y1 - y0
        let len2 = dx * dx + dy * dy
        let len = len2.squareRoot()
        for py in minY...maxY {
            // Only the pixels of this row near the segment: where the line crosses the row, ± the
            // band's horizontal half-width (R / sin of the line's angle), clipped to the bounding box.
            var x0Row = minX, x1Row = maxX
            if abs(dy) > 1e-9 {
                let cy = Double(py) + 0.5
                let xc = x0 + (cy - y0) * dx / dy
                let hw = (r + 1.5) * len / abs(dy)
                x0Row = max(minX, Int((xc - hw).rounded(.down)))
                x1Row = min(maxX, Int((xc + hw).rounded(.up)))
                if x0Row > x1Row { continue }
            }
            damage?.mark(x0: x0Row, y0: py, x1: x1Row + 1, y1: py + 1)
            if marksOnly { continue }
            for px in x0Row...x1Row {
                let fx = Double(px) + 0.5 - x0, fy = Double(py) + 0.5 - y0
                var t = len2 > 0 ? (fx * dx + fy * dy) / len2 : 0
                t = min(1, max(0, t))
                let ex = fx - t * dx, ey = fy - t * dy
                let d = (ex * ex + ey * ey).squareRoot()
                let coverage = min(1, max(0, r + 0.5 - d))
                if coverage > 0 && alpha > 0 { blendUnmarked(x: px, y: py, c, alpha: coverage * alpha) }
            }
        }
    }

    /// A dashed horizontal line across the image (reference lines).
    public mutating func drawDashedHorizontal(y: Double, from x0: Int = 0, to x1: Int? = nil, _ c: RGB,
                                              dash: Int = 12, gap: Int = 8, thickness: Double = 2) {
        let end = x1 ?? width
        var x = x0
        while x < end {
            drawLine(Double(x), y, Double(min(end, x + dash)), y, c, thickness: thickness)
            x += dash + gap
        }
    }

    /// An anti-aliased filled circle.
    public mutating func fillCircle(_ cx: Double, _ cy: Double, radius r: Double, _ c: RGB, alpha: Double = 1) {
        guard cx.isFinite, cy.isFinite, r > 0 else { return }
        let minX = max(0, Int(cx - r - 1)), maxX = min(width - 1, Int(cx + r + 1))
        let minY = max(0, Int(cy - r - 1)), maxY = min(height - 1, Int(cy + r + 1))
        guard minX <= maxX, minY <= maxY else { return }
        damage?.mark(x0: minX, y0: minY, x1: maxX + 1, y1: maxY + 1)
        guard !marksOnly else { return }
        for py in minY...maxY {
            for px in minX...maxX {
                let dx = Double(px) + 0.5 - cx, dy = Double(py) + 0.5 - cy
                let d = (dx * dx + dy * dy).squareRoot()
                let coverage = min(1, max(0, r + 0.5 - d))
                if coverage > 0 && alpha > 0 { blendUnmarked(x: px, y: py, c, alpha: coverage * alpha) }
            }
        }
    }
}
