/// The planes of an 8-bit YUV 4:2:0 picture (BT.601 limited range, what H.264 video decodes to),
/// drawn on directly: no conversion to RGB and back. A shape is blended into each luma sample by
/// the share of the pixel it covers, and into each chroma sample by the mean of what it covers of
/// the sample's 2×2 block, in 8.8 fixed point. Blending is linear and so is the RGB → YUV
/// conversion, so this is what drawing the shape on the picture converted to RGB and converting it
/// back gives, up to the rounding of each (tested to within a few levels), at a fraction of the work:
/// the overlay touches a tenth of a replay frame, and the conversions read and wrote that tenth
/// three more times.
///
/// The canvas does not own the planes: they must stay valid and writable while it draws. `width`
/// and `height` are even (the picture's even part; an odd last row or column is never drawn).
public struct PlanarCanvas: OverlayCanvas {
    public let width: Int
    public let height: Int
    private let luma: UnsafeMutablePointer<UInt8>, lumaStride: Int
    private let cb: UnsafeMutablePointer<UInt8>, cbStride: Int
    private let cr: UnsafeMutablePointer<UInt8>, crStride: Int

    public init(width: Int, height: Int, y: UnsafeMutablePointer<UInt8>, yStride: Int,
                u: UnsafeMutablePointer<UInt8>, uStride: Int, v: UnsafeMutablePointer<UInt8>, vStride: Int) {
        precondition(width >= 0 && height >= 0 && width % 2 == 0 && height % 2 == 0, "a 4:2:0 canvas has an even size")
        precondition(yStride >= width && uStride >= width / 2 && vStride >= width / 2, "a plane's rows overlap")
        self.width = width
        self.height = height
        (luma, lumaStride) = (y, yStride)
        (cb, cbStride) = (u, uStride)
        (cr, crStride) = (v, vStride)
    }

    /// A colour's samples, BT.601 limited range: the integer formulas of the RGB → YUV conversion
    /// the replay's pictures used to go through (`CColorConvert`), so a flat colour comes out the same.
    struct Samples {
        let y: UInt32, u: UInt32, v: UInt32
        init(_ c: RGB) {
            let (r, g, b) = (Int(c.r), Int(c.g), Int(c.b))
            y = UInt32(((66 * r + 129 * g + 25 * b + 128) >> 8) + 16)
            u = UInt32(((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128)
            v = UInt32(((112 * r - 94 * g - 18 * b + 128) >> 8) + 128)
        }
    }

    /// `(old × (256 − a) + new × a + 128) >> 8`: every term fits 16 bits (≤ 255 × 256 + 128).
    @inline(__always)
    static func mix(_ old: UInt8, _ new: UInt32, _ a: UInt32) -> UInt8 {
        UInt8(truncatingIfNeeded: (UInt32(old) * (256 - a) + new * a + 128) >> 8)
    }

    public func fillRect(x: Int, y: Int, width w: Int, height h: Int, _ c: RGB, alpha: Double) {
        let x0 = max(0, x), y0 = max(0, y)
        let x1 = min(width, x + w), y1 = min(height, y + h)
        guard x0 < x1, y0 < y1, alpha > 0, !alpha.isNaN else { return }
        let a = opacityWeight(alpha)
        let s = Samples(c)
        for row in y0..<y1 { Self.blendRun(luma + row * lumaStride, x0, x1, s.y, a) }
        // Chroma: a sample whose block the rectangle covers only partly (an odd edge) gets that share.
        // Columns wholly inside share one weight per row (16-bit lanes, like luma); at most two don't.
        let full0 = (x0 + 1) >> 1, full1 = x1 >> 1
        for by in (y0 >> 1)...((y1 - 1) >> 1) {
            let rows = UInt32(min(y1, 2 * by + 2) - max(y0, 2 * by))
            let u = cb + by * cbStride, v = cr + by * crStride
            let whole = (a * rows * 2 + 2) >> 2
            Self.blendRun(u, full0, full1, s.u, whole)
            Self.blendRun(v, full0, full1, s.v, whole)
            // An odd first or last column: the rectangle has one of that block's two.
            let half = (a * rows + 2) >> 2
            func edge(_ bx: Int) {
                Self.blendRun(u, bx, bx + 1, s.u, half)
                Self.blendRun(v, bx, bx + 1, s.v, half)
            }
            if x0 & 1 == 1 { edge(x0 >> 1) }
            if x1 & 1 == 1 { edge(x1 >> 1) }
        }
    }

    /// Samples x0..<x1 of a row blended towards `value` with weight `a` (in 1/256): 16-bit lanes with
    /// no per-sample branch, which the compiler vectorises.
    @inline(__always)
    private static func blendRun(_ p: UnsafeMutablePointer<UInt8>, _ x0: Int, _ x1: Int, _ value: UInt32, _ a: UInt32) {
        guard x0 < x1, a > 0 else { return }
        let ia = UInt16(256 - a), add = UInt16(value * a + 128)
        for k in x0..<x1 { p[k] = UInt8(truncatingIfNeeded: (UInt16(p[k]) &* ia &+ add) >> 8) }
    }

    public func drawLine(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double, _ c: RGB, thickness: Double,
                         alpha: Double) {
        guard alpha > 0, let line = LineShape(x0, y0, x1, y1, thickness: thickness, width: width, height: height) else { return }
        let colour = Samples(c)
        var shape = Coverage(minX: line.minX, minY: line.minY, maxX: line.maxX, maxY: line.maxY)
        for py in line.minY...line.maxY {
            guard let (a, b) = line.span(py) else { continue }
            for px in a...b {
                let coverage = line.coverage(px, py)
                if coverage > 0 { plot(px, py, opacityWeight(coverage * alpha), colour, &shape) }
            }
        }
        finish(shape)
    }

    public func fillCircle(_ cx: Double, _ cy: Double, radius: Double, _ c: RGB, alpha: Double) {
        guard alpha > 0, let circle = CircleShape(cx, cy, radius: radius, width: width, height: height) else { return }
        let colour = Samples(c)
        var shape = Coverage(minX: circle.minX, minY: circle.minY, maxX: circle.maxX, maxY: circle.maxY)
        for py in circle.minY...circle.maxY {
            for px in circle.minX...circle.maxX {
                let coverage = circle.coverage(px, py)
                if coverage > 0 { plot(px, py, opacityWeight(coverage * alpha), colour, &shape) }
            }
        }
        finish(shape)
    }

    /// The line of text and its shadow are one shape: each font pixel is the text's colour, or the
    /// shadow's where only the shadow reaches, and a chroma sample gets the mean of its block's
    /// pixels, as in RGB. (Drawn one after the other, the text's share of a block would blend over the
    /// shadow's share instead of replacing it: 5 levels off in a chroma sample half text, half shadow.)
    public func drawText(_ text: String, x: Int, y: Int, scale: Int, _ c: RGB, shadow: Bool) {
        let s = max(1, scale)
        let reach = shadow ? s : 0
        let minX = max(0, x), minY = max(0, y)
        let maxX = min(width - 1, x + RGBImage.textWidth(text, scale: s) + reach - 1)
        let maxY = min(height - 1, y + RGBImage.textHeight(scale: s) + reach - 1)
        guard minX <= maxX, minY <= maxY else { return }
        // Which colour each pixel of the box ends up: 0 none, 1 the shadow, 2 the text.
        let boxWidth = maxX - minX + 1
        var ink = [UInt8](repeating: 0, count: boxWidth * (maxY - minY + 1))
        func mark(_ offset: Int, _ value: UInt8) {
            Font5x7.forEachPixel(of: text, x: x + offset, y: y + offset, scale: s) { gx, gy in
                let (px0, px1) = (max(minX, gx), min(maxX + 1, gx + s))
                let (py0, py1) = (max(minY, gy), min(maxY + 1, gy + s))
                guard px0 < px1, py0 < py1 else { return }
                for py in py0..<py1 {
                    for px in px0..<px1 { ink[(py - minY) * boxWidth + px - minX] = value }
                }
            }
        }
        if shadow { mark(s, 1) }
        mark(0, 2)
        let colours = [Samples(.black), Samples(c)]
        var shape = Coverage(minX: minX, minY: minY, maxX: maxX, maxY: maxY)
        for py in minY...maxY {
            for px in minX...maxX {
                let k = ink[(py - minY) * boxWidth + px - minX]
                if k > 0 { plot(px, py, 256, colours[Int(k) - 1], &shape) }
            }
        }
        finish(shape)
    }

    // MARK: One shape's chroma

    /// What one shape puts in each chroma sample's block over its bounding box (inclusive pixels):
    /// per sample, the weights of its pixels (in 1/256, at most 4 × 256) and the weighted sums of
    /// their colours' chroma.
    struct Coverage {
        let bx0: Int, by0: Int, columns: Int, rows: Int
        var sums: [UInt32]
        init(minX: Int, minY: Int, maxX: Int, maxY: Int) {
            bx0 = minX >> 1
            by0 = minY >> 1
            columns = (maxX >> 1) - bx0 + 1
            rows = (maxY >> 1) - by0 + 1
            sums = [UInt32](repeating: 0, count: 3 * columns * rows)
        }
    }

    /// Blends luma sample (px, py) (inside the picture and the shape's box) towards `colour` with
    /// weight `a` and adds the pixel to its chroma block.
    @inline(__always)
    private func plot(_ px: Int, _ py: Int, _ a: UInt32, _ colour: Samples, _ shape: inout Coverage) {
        guard a > 0 else { return }
        let p = luma + py * lumaStride + px
        p.pointee = Self.mix(p.pointee, colour.y, a)
        let i = 3 * (((py >> 1) - shape.by0) * shape.columns + (px >> 1) - shape.bx0)
        shape.sums[i] += a
        shape.sums[i + 1] += a * colour.u
        shape.sums[i + 2] += a * colour.v
    }

    /// Each chroma sample the shape reached becomes the mean over its block: the shape's colours
    /// where it covers the pixels, the sample's own value where it doesn't.
    private func finish(_ shape: Coverage) {
        for j in 0..<shape.rows {
            let by = shape.by0 + j
            let u = cb + by * cbStride, v = cr + by * crStride
            for i in 0..<shape.columns {
                let k = 3 * (j * shape.columns + i)
                let w = shape.sums[k]
                guard w > 0 else { continue }
                let bx = shape.bx0 + i
                u[bx] = UInt8(truncatingIfNeeded: (UInt32(u[bx]) * (1024 - w) + shape.sums[k + 1] + 512) >> 10)
                v[bx] = UInt8(truncatingIfNeeded: (UInt32(v[bx]) * (1024 - w) + shape.sums[k + 2] + 512) >> 10)
            }
        }
    }
}
