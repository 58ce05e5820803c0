/// What an overlay is drawn on: an RGB image (`RGBImage`), or the planes of a decoded YUV 4:2:0
/// picture drawn on directly (`PlanarCanvas`). The same calls draw the same shapes on either.
public protocol OverlayCanvas {
    var width: Int { get }
    var height: Int { get }
    /// An axis-aligned rectangle, clipped; `alpha` 1 is opaque.
    mutating func fillRect(x: Int, y: Int, width: Int, height: Int, _ c: RGB, alpha: Double)
    /// An anti-aliased segment `thickness` pixels wide with round caps.
    mutating func drawLine(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double, _ c: RGB, thickness: Double,
                           alpha: Double)
    /// An anti-aliased filled circle.
    mutating func fillCircle(_ cx: Double, _ cy: Double, radius: Double, _ c: RGB, alpha: Double)
    /// One line of the 5×7 font, top-left corner at (x, y), each font pixel `scale` pixels square;
    /// `shadow` draws a black copy one font pixel down-right first.
    mutating func drawText(_ text: String, x: Int, y: Int, scale: Int, _ c: RGB, shadow: Bool)
}

extension OverlayCanvas {
    /// A rectangle outline `thickness` pixels wide.
    public mutating func strokeRect(x: Int, y: Int, width w: Int, height h: Int, _ c: RGB, thickness t: Int = 1) {
        fillRect(x: x, y: y, width: w, height: t, c, alpha: 1)
        fillRect(x: x, y: y + h - t, width: w, height: t, c, alpha: 1)
        fillRect(x: x, y: y, width: t, height: h, c, alpha: 1)
        fillRect(x: x + w - t, y: y, width: t, height: h, c, alpha: 1)
    }

    /// A dashed horizontal line across the picture (reference lines).
    public mutating func drawDashedHorizontal(y: Double, from x0: Int = 0, to x1: Int? = nil, _ c: RGB,
                                              dash: Int = 12, gap: Int = 8, thickness: Double = 2) {
        let end = x1 ?? width
        var x = x0
        while x < end {
            drawLine(Double(x), y, Double(min(end, x + dash)), y, c, thickness: thickness, alpha: 1)
            x += dash + gap
        }
    }
}
