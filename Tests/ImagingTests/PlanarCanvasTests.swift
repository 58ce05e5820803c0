import Imaging
import Scaling
import Testing

/// `PlanarCanvas` on planes in plain memory, with padding past each row and guard bytes around each
/// plane that no drawing may touch.
@Suite("Drawing on YUV 4:2:0 planes")
struct PlanarCanvasTests {
    static let (w, h, pad, guardBytes) = (64, 48, 16, 64)

    /// Three planes, each row `pad` bytes longer than the picture, `guardBytes` before and after.
    final class Planes {
        var y: [UInt8], u: [UInt8], v: [UInt8]
        let yStride = w + pad, cStride = w / 2 + pad
        init(seed: UInt64) {
            var rng = SeededRandom(seed: seed)
            y = (0..<(2 * guardBytes + (w + pad) * h)).map { _ in UInt8.random(in: 16...235, using: &rng) }
            u = (0..<(2 * guardBytes + (w / 2 + pad) * h / 2)).map { _ in UInt8.random(in: 16...240, using: &rng) }
            v = (0..<(2 * guardBytes + (w / 2 + pad) * h / 2)).map { _ in UInt8.random(in: 16...240, using: &rng) }
        }

        func draw(_ body: (inout PlanarCanvas) -> Void) {
            y.withUnsafeMutableBufferPointer { yb in u.withUnsafeMutableBufferPointer { ub in v.withUnsafeMutableBufferPointer { vb in
                var canvas = PlanarCanvas(width: w, height: h, y: yb.baseAddress! + guardBytes, yStride: yStride,
                                          u: ub.baseAddress! + guardBytes, uStride: cStride,
                                          v: vb.baseAddress! + guardBytes, vStride: cStride)
                body(&canvas)
            } } }
        }

        /// Every byte that is not a visible sample: the guards and the rows' padding.
        var outside: [UInt8] {
            func bytes(_ p: [UInt8], _ stride: Int, _ width: Int) -> [UInt8] {
                p.indices.filter { i in
                    let j = i - guardBytes
                    return j < 0 || j >= stride * (p.count - 2 * guardBytes) / stride || j % stride >= width
                }.map { p[$0] }
            }
            return bytes(y, yStride, w) + bytes(u, cStride, w / 2) + bytes(v, cStride, w / 2)
        }
        var all: [UInt8] { y + u + v }
    }

    /// Shapes that must draw nothing: non-finite or huge coordinates, sizes and alphas, text off the picture.
    static func drawHostile<Canvas: OverlayCanvas>(on c: inout Canvas) {
        for bad in [Double.nan, .infinity, -.infinity] {
            c.drawLine(bad, 1, 10, 10, .red, thickness: 3, alpha: 1)
            c.drawLine(1, 1, 10, bad, .red, thickness: 3, alpha: 1)
            c.fillCircle(bad, 5, radius: 4, .red, alpha: 1)
            c.fillCircle(5, 5, radius: bad, .red, alpha: 1)
        }
        for alpha in [Double.nan, 0, -1, -Double.infinity] {
            c.fillRect(x: 0, y: 0, width: 10, height: 10, .red, alpha: alpha)
            c.drawLine(5, 5, 20, 20, .red, thickness: 3, alpha: alpha)
            c.fillCircle(9, 9, radius: 4, .red, alpha: alpha)
        }
        c.drawLine(1e300, 1e300, -1e300, 1e300, .red, thickness: 3, alpha: 1)
        c.drawLine(-1e300, -1e300, -1e299, -1e299, .red, thickness: 3, alpha: 1)
        c.fillCircle(1e300, -1e300, radius: 1e10, .red, alpha: 1)
        c.drawLine(5, 5, 20, 20, .red, thickness: .infinity, alpha: 1)
        c.fillCircle(5, 5, radius: .infinity, .red, alpha: 1)
        c.drawLine(5, 5, 20, 20, .red, thickness: 0, alpha: 1)
        c.drawLine(5, 5, 20, 20, .red, thickness: -2, alpha: 1)
        c.drawLine(5, 5, 20, 20, .red, thickness: 3, alpha: 0)
        c.fillRect(x: 5, y: 5, width: 0, height: 10, .red, alpha: 1)
        c.fillRect(x: 5, y: 5, width: -10, height: -10, .red, alpha: 1)
        c.fillRect(x: 5, y: 5, width: 10, height: 10, .red, alpha: 0)
        c.fillRect(x: 64, y: 0, width: 10, height: 10, .red, alpha: 1)
        c.fillRect(x: -20, y: -20, width: 20, height: 20, .red, alpha: 1)
        c.drawText("OFF", x: 200, y: 10, scale: 2, .red, shadow: true)
        c.drawText("OFF", x: -100, y: 10, scale: 2, .red, shadow: true)
        c.drawText("", x: 4, y: 4, scale: 2, .red, shadow: true)
    }

    @Test("hostile shapes draw nothing and never trap, on the planes and on RGB: non-finite or huge coordinates, infinite, empty or negative sizes, zero, negative or NaN alpha, text off the picture")
    func hostileShapesDrawNothing() {
        let planes = Planes(seed: 1)
        let before = planes.all
        planes.draw { Self.drawHostile(on: &$0) }
        let changed = zip(planes.all, before).filter { $0 != $1 }.count
        #expect(changed == 0, "\(changed) bytes changed")
        var image = RGBImage(width: 64, height: 48)
        Self.drawHostile(on: &image)
        #expect(image.pixels.allSatisfy { $0 == 0 })
    }

    @Test("shapes reaching past the picture write only its samples (guards and row padding intact, 300 seeded shapes)")
    func clippedToPicture() {
        let planes = Planes(seed: 2)
        let outside = planes.outside
        var rng = SeededRandom(seed: 3)
        planes.draw { c in
            for _ in 0..<300 {
                let (a, b) = (Double.random(in: -40...104, using: &rng), Double.random(in: -40...88, using: &rng))
                let (x, y) = (Int.random(in: -40...100, using: &rng), Int.random(in: -40...80, using: &rng))
                let alpha = Double.random(in: 0.1...1, using: &rng)
                switch Int.random(in: 0..<5, using: &rng) {
                case 0: c.drawLine(a, b, Double.random(in: -40...104, using: &rng), Double.random(in: -40...88, using: &rng),
                                   .cyan, thickness: Double.random(in: 0.5...12, using: &rng), alpha: alpha)
                case 1: c.fillCircle(a, b, radius: Double.random(in: 0.5...20, using: &rng), .green, alpha: alpha)
                case 2: c.fillRect(x: x, y: y, width: Int.random(in: 1...60, using: &rng), height: Int.random(in: 1...60, using: &rng),
                                   .yellow, alpha: alpha)
                case 3: c.drawText("W8%", x: x, y: y, scale: Int.random(in: 1...3, using: &rng), .orange, shadow: true)
                default: c.drawDashedHorizontal(y: b, .white, dash: 7, gap: 3, thickness: 3)
                }
            }
        }
        let changed = zip(planes.outside, outside).filter { $0 != $1 }.count
        #expect(changed == 0, "\(changed) bytes outside the picture changed")
        #expect(planes.all != Planes(seed: 2).all, "nothing was drawn")
    }

    @Test("an opaque shape that covers a whole 2×2 block gives it exactly the colour's chroma, a partial one a share of it")
    func coverageOfBlocks() {
        let planes = Planes(seed: 4)
        let quarter = Self.guardBytes + 20 * planes.cStride + 5
        let (u0, v0) = (Int(planes.u[quarter]), Int(planes.v[quarter]))
        planes.draw { c in
            // Rows 16…27, far thicker than a block: chroma row 10's blocks 6…11 are wholly inside.
            c.drawLine(8, 21.5, 26, 21.5, RGB(255, 0, 0), thickness: 12, alpha: 1)
            // One pixel of blue at (11, 40): a quarter of block (5, 20).
            c.fillRect(x: 11, y: 40, width: 1, height: 1, RGB(0, 0, 255), alpha: 1)
        }
        let row = Self.guardBytes + 10 * planes.cStride
        #expect((6...11).allSatisfy { planes.u[row + $0] == 90 && planes.v[row + $0] == 240 })
        #expect(planes.y[Self.guardBytes + 21 * planes.yStride + 16] == 82)
        #expect(planes.y[Self.guardBytes + 40 * planes.yStride + 11] == 41)
        #expect(Int(planes.u[quarter]) == (u0 * 192 + 240 * 64 + 128) >> 8)
        #expect(Int(planes.v[quarter]) == (v0 * 192 + 110 * 64 + 128) >> 8)
    }
}
