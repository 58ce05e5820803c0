// Small numeric helpers: 2-D points, angles and robust statistics.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A point in image pixels (y grows downward).
struct Point: Equatable, Sendable {
    var x: Double
    var y: Double

    static func - (a: Point, b: Point) -> Point { Point(x: a.x - b.x, y: a.y - b.y) }
    static func + (a: Point, b: Point) -> Point { Point(x: a.x + b.x, y: a.y + b.y) }
    static func * (a: Point, k: Double) -> Point { Point(x: a.x * k, y: a.y * k) }

    var length: Double { (x * x + y * y).squareRoot() }

    func distance(to other: Point) -> Double { (self - other).length }

    /// The weighted mean of points; `nil` when the weights sum to zero.
    static func weightedMean(_ items: [(Point, Double)]) -> Point? {
        var sx = 0.0, sy = 0.0, sw = 0.0
        for (p, w) in items where w > 0 {
            sx += p.x * w
            sy += p.y * w
            sw += w
        }
        guard sw > 0 else { return nil }
        return Point(x: sx / sw, y: sy / sw)
    }
}

/// The angle at `vertex` between the rays to `a` and `b`, in degrees (180 = straight); `nil` when a
/// ray has no length.
func jointAngle(_ a: Point, _ vertex: Point, _ b: Point) -> Double? {
    let u = a - vertex, v = b - vertex
    let lu = u.length, lv = v.length
    guard lu > 1e-9, lv > 1e-9 else { return nil }
    let c = max(-1, min(1, (u.x * v.x + u.y * v.y) / (lu * lv)))
    return acosDegrees(c)
}

/// acos in degrees.
func acosDegrees(_ c: Double) -> Double {
    acos(max(-1, min(1, c))) * 180 / Double.pi
}

/// atan2 in degrees.
func atan2Degrees(_ y: Double, _ x: Double) -> Double {
    atan2(y, x) * 180 / Double.pi
}

/// sin and cos of an angle in degrees.
func sinCosDegrees(_ degrees: Double) -> (sin: Double, cos: Double) {
    let r = degrees * Double.pi / 180
    return (sin(r), cos(r))
}

/// The q-quantile (0...1) of finite values with linear interpolation; `nil` when empty.
func quantile(_ values: [Double], _ q: Double) -> Double? {
    var v = values.filter { $0.isFinite }
    guard !v.isEmpty else { return nil }
    heapSort(&v)
    let pos = max(0, min(1, q.isFinite ? q : 0.5)) * Double(v.count - 1)
    let lo = Int(pos)
    let hi = min(lo + 1, v.count - 1)
    let f = pos - Double(lo)
    return v[lo] * (1 - f) + v[hi] * f
}

/// In-place ascending heap sort: O(n log n), no recursion, and fast in debug builds (the standard
/// library's generic sort is not specialised there).
func heapSort(_ a: inout [Double]) {
    a.withUnsafeMutableBufferPointer { p in
        guard let base = p.baseAddress else { return }
        let n = p.count
        guard n > 1 else { return }
        func siftDown(_ start: Int, _ end: Int) {
            var root = start
            while 2 * root + 1 < end {
                var child = 2 * root + 1
                if child + 1 < end && base[child] < base[child + 1] { child += 1 }
                if base[root] < base[child] {
                    let t = base[root]; base[root] = base[child]; base[child] = t
                    root = child
                } else {
                    return
                }
            }
        }
        var start = n / 2 - 1
        while start >= 0 {
            siftDown(start, n)
            start -= 1
        }
        var end = n - 1
        while end > 0 {
            let t = base[0]; base[0] = base[end]; base[end] = t
            siftDown(0, end)
            end -= 1
        }
    }
}

func median(_ values: [Double]) -> Double? { quantile(values, 0.5) }

/// Median absolute deviation from the median; `nil` when empty.
func mad(_ values: [Double]) -> Double? {
    guard let m = median(values) else { return nil }
    return median(values.map { abs($0 - m) })
}
