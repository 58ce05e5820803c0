// The geometry of the anti-aliased shapes, shared by every canvas: which pixels a shape may touch and
// how much of each it covers. `RGBImage` and `PlanarCanvas` blend the same coverage.

/// Coordinates far outside any picture are clamped before they become integers (a finite but huge
/// coordinate would otherwise trap in `Int(_:)`); a shape there still misses the picture.
@inline(__always)
private func clampedInt(_ v: Double) -> Int { Int(min(1e9, max(-1e9, v))) }

/// An opacity in 1/256 for the 8.8 fixed-point blends (`RGBImage.fillRect`, `PlanarCanvas`): `alpha` ≥ 1
/// is 256. For a positive alpha that is not NaN.
@inline(__always)
func opacityWeight(_ alpha: Double) -> UInt32 { alpha >= 1 ? 256 : UInt32(alpha * 256 + 0.5) }

/// An anti-aliased line segment of a given thickness with round caps, clipped to a picture.
struct LineShape {
    let x0: Double, y0: Double, dx: Double, dy: Double, len2: Double, len: Double, r: Double
    private let edge: Edge
    /// The pixels that may be covered (inclusive), inside the picture.
    let minX: Int, maxX: Int, minY: Int, maxY: Int

    /// nil when a coordinate or the thickness is not finite, the thickness is not positive, or the
    /// segment misses the `width` × `height` picture.
    init?(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double, thickness: Double, width: Int, height: Int) {
        guard x0.isFinite, y0.isFinite, x1.isFinite, y1.isFinite, thickness.isFinite, thickness > 0 else { return nil }
        r = thickness / 2
        minX = max(0, clampedInt((min(x0, x1) - r - 1).rounded(.down)))
        maxX = min(width - 1, clampedInt((max(x0, x1) + r + 1).rounded(.up)))
        minY = max(0, clampedInt((min(y0, y1) - r - 1).rounded(.down)))
        maxY = min(height - 1, clampedInt((max(y0, y1) + r + 1).rounded(.up)))
        guard minX <= maxX, minY <= maxY else { return nil }
        self.x0 = x0
        self.y0 = y0
        dx = x1 - x0
        dy = y1 - y0
        len2 = dx * dx + dy * dy
        len = len2.squareRoot()
        edge = Edge(radius: r)
    }

    /// Only the pixels of row `py` near the segment: where the line crosses the row, ± the band's
    /// horizontal half-width (R / sin of the line's angle), clipped to the bounding box. nil: none.
    @inline(__always)
    func span(_ py: Int) -> (Int, Int)? {
        guard abs(dy) > 1e-9 else { return (minX, maxX) }
        let cy = Double(py) + 0.5
        let xc = x0 + (cy - y0) * dx / dy
        let hw = (r + 1.5) * len / abs(dy)
        let a = max(minX, clampedInt((xc - hw).rounded(.down)))
        let b = min(maxX, clampedInt((xc + hw).rounded(.up)))
        return a <= b ? (a, b) : nil
    }

    /// The share of pixel (px, py) the line covers, 0…1.
    @inline(__always)
    func coverage(_ px: Int, _ py: Int) -> Double {
        let fx = Double(px) + 0.5 - x0, fy = Double(py) + 0.5 - y0
        var t = len2 > 0 ? (fx * dx + fy * dy) / len2 : 0
        t = min(1, max(0, t))
        let ex = fx - t * dx, ey = fy - t * dy
        return edge.coverage(squaredDistance: ex * ex + ey * ey)
    }
}

/// An anti-aliased filled circle, clipped to a picture.
struct CircleShape {
    let cx: Double, cy: Double
    private let edge: Edge
    let minX: Int, maxX: Int, minY: Int, maxY: Int

    init?(_ cx: Double, _ cy: Double, radius r: Double, width: Int, height: Int) {
        guard cx.isFinite, cy.isFinite, r.isFinite, r > 0 else { return nil }
        minX = max(0, clampedInt(cx - r - 1))
        maxX = min(width - 1, clampedInt(cx + r + 1))
        minY = max(0, clampedInt(cy - r - 1))
        maxY = min(height - 1, clampedInt(cy + r + 1))
        guard minX <= maxX, minY <= maxY else { return nil }
        self.cx = cx
        self.cy = cy
        edge = Edge(radius: r)
    }

    @inline(__always)
    func coverage(_ px: Int, _ py: Int) -> Double {
        let dx = Double(px) + 0.5 - cx, dy = Double(py) + 0.5 - cy
        return edge.coverage(squaredDistance: dx * dx + dy * dy)
    }
}

/// The anti-aliased edge of a shape `radius` from its centre line or point: a pixel whose centre is
/// d away is covered by min(1, max(0, radius + 0.5 − d)). Pixels well inside or outside (most of
/// them) skip the square root; the margins make sure those give exactly what the formula gives.
struct Edge {
    /// radius + 0.5; and the squared distances below which a pixel is wholly covered (0 when none
    /// is) and above which it is not covered at all.
    private let outer: Double, inside: Double, outside: Double

    init(radius: Double) {
        let inner = radius - 0.5
        outer = radius + 0.5
        inside = inner > 0 ? inner * inner * 0.999_999 : 0
        outside = outer * outer * 1.000_001
    }

    @inline(__always)
    func coverage(squaredDistance d2: Double) -> Double {
        if d2 < inside { return 1 }
        if d2 > outside { return 0 }
        return min(1, max(0, outer - d2.squareRoot()))
    }
}
