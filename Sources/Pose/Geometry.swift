import Foundation
import Imaging

/// A square region of interest in image pixels, rotated by `rotation` radians about its centre
/// (MediaPipe's NormalizedRect, kept in pixels so non-square frames stay exact).
public struct RotatedRect: Sendable, Equatable {
    public var centerX: Double
    public var centerY: Double
    /// Side of the square in pixels.
    public var size: Double
    public var rotation: Double

    /// Maps a point given in the rect's own normalised coordinates ([0,1]², y down) to image pixels.
    @inline(__always)
    func toImage(_ u: Double, _ v: Double) -> (Double, Double) {
        let x = (u - 0.5) * size, y = (v - 0.5) * size
        let c = cos(rotation), s = sin(rotation)
        return (centerX + c * x - s * y, centerY + s * x + c * y)
    }

    /// Intersection over union of the axis-aligned squares around both rects' centres (a cheap,
    /// rotation-agnostic overlap for matching tracks with detections).
    func overlap(_ o: RotatedRect) -> Double {
        func bounds(_ r: RotatedRect) -> (Double, Double, Double, Double) {
            (r.centerX - r.size / 2, r.centerY - r.size / 2, r.centerX + r.size / 2, r.centerY + r.size / 2)
        }
        let a = bounds(self), b = bounds(o)
        let iw = max(0, min(a.2, b.2) - max(a.0, b.0)), ih = max(0, min(a.3, b.3) - max(a.1, b.1))
        let inter = iw * ih
        let union = size * size + o.size * o.size - inter
        return union > 0 ? inter / union : 0
    }

    /// MediaPipe's AlignmentPointsRectsCalculator + RectTransformationCalculator for BlazePose: a
    /// square centred on `center` (mid-hip) whose side is twice the distance to `scalePoint`, times
    /// `scale`, rotated so that centre→scalePoint points straight up.
    static func aligned(center: (Double, Double), scalePoint: (Double, Double), scale: Double = 1.25) -> RotatedRect {
        let dx = scalePoint.0 - center.0, dy = scalePoint.1 - center.1
        let box = 2 * (dx * dx + dy * dy).squareRoot()
        let rotation = normalizeRadians(Double.pi / 2 - atan2(-dy, dx))
        return RotatedRect(centerX: center.0, centerY: center.1, size: box * scale, rotation: rotation)
    }
}

func normalizeRadians(_ a: Double) -> Double {
    a - 2 * Double.pi * ((a + Double.pi) / (2 * Double.pi)).rounded(.down)
}

/// Samples `image` into a float tensor (NHWC, 3 channels) through an affine map from output pixel
/// indices to source pixel indices, bilinear, with zero (black) outside the image:
/// `src = (ax*i + bx*j + cx, ay*i + by*j + cy)` for output column i, row j. Like OpenCV's warpAffine
/// (which MediaPipe uses), an integer coordinate is a pixel's centre; image points everywhere in Pose
/// use this convention, so landmarks compare directly with MediaPipe's `x_norm * width`.
/// Each channel value v (0…255) is written as `v * scale + offset`.
func warpAffine(_ image: RGBImage, into dst: UnsafeMutablePointer<Float>, width ow: Int, height oh: Int,
                ax: Double, bx: Double, cx: Double, ay: Double, by: Double, cy: Double,
                scale: Float, offset: Float) {
    let w = image.width, h = image.height
    let stride = w * 3
    // A non-finite or absurd transform (from a degenerate region) samples nothing: all black.
    let limit = 1e9
    guard [ax, bx, cx, ay, by, cy].allSatisfy({ $0.isFinite && abs($0) < limit }), w > 0, h > 0 else {
        for i in 0..<(ow * oh * 3) { dst[i] = offset }
        return
    }
    image.pixels.withUnsafeBufferPointer { buf in
        guard let src = buf.baseAddress else { return }
        @inline(__always) func tap(_ x: Int, _ y: Int, _ ch: Int) -> Float {
            (x >= 0 && y >= 0 && x < w && y < h) ? Float(src[y * stride + x * 3 + ch]) : 0
        }
        // Positions step along a row in fixed point (16 fractional bits; each row starts exact, so
        // the drift over a 256-pixel row stays under 0.002 px), and the bilinear weights are
        // integers in 1/2048 px that sum to 2048² exactly: one int-to-float conversion per channel.
        let one = 65536.0
        let stepX = Int((ax * one).rounded()), stepY = Int((ay * one).rounded())
        let fixedScale = scale / Float(1 << 22)
        let innerW = UInt(w - 1), innerH = UInt(h - 1)
        // The source frame is cold (decoded on another thread a few frames ago), and one output
        // row's taps miss on two source rows' worth of cache lines: touching the lines of the row
        // `ahead` rows on, with independent loads, overlaps those misses with the arithmetic.
        let ahead = 4
        let lineStep = max(1, min(64, Int(16 / max(abs(ax), abs(ay), 1e-9))))
        var touched: UInt8 = 0
        @inline(__always) func touch(_ row: Int) {
            var x = Int(((bx * Double(row) + cx) * one).rounded()), y = Int(((by * Double(row) + cy) * one).rounded())
            var i = 0
            while i < ow {
                let x0 = x &>> 16, y0 = y &>> 16
                if UInt(bitPattern: x0) < innerW && UInt(bitPattern: y0) < innerH {
                    let p = src + (y0 &* stride &+ x0 &* 3)
                    touched ^= p[0] ^ p[stride]
                }
                x &+= stepX &* lineStep
                y &+= stepY &* lineStep
                i += lineStep
            }
        }
        for j in 0..<min(ahead, oh) { touch(j) }
        var o = 0
        for j in 0..<oh {
            if j + ahead < oh { touch(j + ahead) }
            var x = Int(((bx * Double(j) + cx) * one).rounded()), y = Int(((by * Double(j) + cy) * one).rounded())
            for _ in 0..<ow {
                let x0 = x &>> 16, y0 = y &>> 16 // floor, also below zero
                if UInt(bitPattern: x0) < innerW && UInt(bitPattern: y0) < innerH {
                    // Interior: all four taps inside.
                    let p = src + (y0 &* stride &+ x0 &* 3)
                    let q = p + stride
                    let fx = ((x & 0xFFFF) &+ 16) &>> 5, fy = ((y & 0xFFFF) &+ 16) &>> 5 // 0…2048
                    let w11 = fx &* fy, w10 = (fx &<< 11) &- w11, w01 = (fy &<< 11) &- w11
                    let w00 = (1 << 22) &- w10 &- w01 &- w11
                    @inline(__always) func mix(_ c: Int) -> Float {
                        Float(Int(p[c]) &* w00 &+ Int(p[c + 3]) &* w10 &+ Int(q[c]) &* w01 &+ Int(q[c + 3]) &* w11)
                    }
                    dst[o] = mix(0) * fixedScale + offset
                    dst[o + 1] = mix(1) * fixedScale + offset
                    dst[o + 2] = mix(2) * fixedScale + offset
                } else if x0 >= -1 && y0 >= -1 && x0 < w && y0 < h {
                    // Border: taps outside the image count as black.
                    let tx = Float(x & 0xFFFF) / Float(one), ty = Float(y & 0xFFFF) / Float(one)
                    for ch in 0..<3 {
                        let v = tap(x0, y0, ch) * (1 - tx) * (1 - ty) + tap(x0 + 1, y0, ch) * tx * (1 - ty)
                            + tap(x0, y0 + 1, ch) * (1 - tx) * ty + tap(x0 + 1, y0 + 1, ch) * tx * ty
                        dst[o + ch] = v * scale + offset
                    }
                } else {
                    dst[o] = offset
                    dst[o + 1] = offset
                    dst[o + 2] = offset
                }
                x &+= stepX
                y &+= stepY
                o += 3
            }
        }
        sink(touched)
    }
}

/// Keeps a value alive so that the loads producing it are not optimised away.
@inline(never) @_optimize(none)
func sink(_ x: UInt8) {}
