import CFFmpeg
import Imaging
import Testing
@testable import Media

@Suite("RGB → YUV 4:2:0 conversion")
struct RGBToYUVTests {
    /// swscale's own conversion of the same image, for reference.
    private func swscale(_ img: RGBImage) -> (y: [UInt8], u: [UInt8], v: [UInt8]) {
        let w = img.width, h = img.height
        let ctx = sws_getContext(Int32(w), Int32(h), AV_PIX_FMT_RGB24, Int32(w), Int32(h), AV_PIX_FMT_YUV420P,
                                 SWS_BILINEAR, nil, nil, nil)
        defer { sws_freeContext(ctx) }
        let frame = av_frame_alloc()!
        defer { var f: UnsafeMutablePointer<AVFrame>? = frame; av_frame_free(&f) }
        frame.pointee.format = AV_PIX_FMT_YUV420P.rawValue
        frame.pointee.width = Int32(w)
        frame.pointee.height = Int32(h)
        av_frame_get_buffer(frame, 0)
        img.pixels.withUnsafeBufferPointer { _ = refv_scale_from_packed(ctx, $0.baseAddress, Int32(img.stride), Int32(h), frame) }
        func plane(_ i: Int, _ pw: Int, _ ph: Int) -> [UInt8] {
            let p = refv_frame_plane(frame, Int32(i))!, ls = Int(refv_frame_linesize(frame, Int32(i)))
            return (0..<ph).flatMap { r in (0..<pw).map { p[r * ls + $0] } }
        }
        return (plane(0, w, h), plane(1, w / 2, h / 2), plane(2, w / 2, h / 2))
    }

    private func ours(_ img: RGBImage) -> (y: [UInt8], u: [UInt8], v: [UInt8]) {
        let w = img.width, h = img.height
        var y = [UInt8](repeating: 0, count: w * h), u = [UInt8](repeating: 0, count: w * h / 4)
        var v = [UInt8](repeating: 0, count: w * h / 4)
        y.withUnsafeMutableBufferPointer { yb in
            u.withUnsafeMutableBufferPointer { ub in
                v.withUnsafeMutableBufferPointer { vb in
                    convertRGBToYUV420(img, width: w, height: h, y: yb.baseAddress!, yStride: w,
                                       u: ub.baseAddress!, uStride: w / 2, v: vb.baseAddress!, vStride: w / 2)
                }
            }
        }
        return (y, u, v)
    }

    @Test("matches swscale within rounding on gradients, primaries and noise")
    func matchesSwscale() {
        var img = RGBImage(width: 64, height: 48)
        var state: UInt32 = 12345
        for row in 0..<48 {
            for col in 0..<64 {
                state = state &* 1_664_525 &+ 1_013_904_223
                let c: RGB
                let primaries: [RGB] = [.red, .green, RGB(0, 0, 255), .white, .black, .yellow]
                let band = row / 12
                if band == 0 {
                    c = RGB(UInt8(col * 4), UInt8(row * 5), UInt8(255 - col * 4))
                } else if band == 1 {
                    c = primaries[col / 11 % 6]
                } else if band == 2 {
                    let r = UInt8(truncatingIfNeeded: state >> 8), g = UInt8(truncatingIfNeeded: state >> 16)
                    c = RGB(r, g, UInt8(truncatingIfNeeded: state >> 24))
                } else {
                    c = RGB(UInt8(col * 4), UInt8(col * 4), UInt8(col * 4))
                }
                img.setPixel(x: col, y: row, c)
            }
        }
        let a = ours(img), b = swscale(img)
        let maxY = zip(a.y, b.y).map { abs(Int($0) - Int($1)) }.max() ?? 99
        // Chroma of a 2×2 block: swscale filters chroma slightly differently on sharp edges; compare
        // on the smooth rows (gradients and greys) tightly and everywhere loosely.
        var maxUVSmooth = 0, maxUVAll = 0
        for i in 0..<a.u.count {
            let d = max(abs(Int(a.u[i]) - Int(b.u[i])), abs(Int(a.v[i]) - Int(b.v[i])))
            let chromaRow = i / 32
            // Chroma rows 0–4 lie inside the gradient band, 19–23 inside the grey band (the rows next
            // to a band edge pick up swscale's wider vertical chroma filter): smooth content.
            if chromaRow < 5 || chromaRow >= 19 { maxUVSmooth = max(maxUVSmooth, d) }
            maxUVAll = max(maxUVAll, d)
        }
        #expect(maxY <= 2, "luma differs by up to \(maxY)")
        #expect(maxUVSmooth <= 3, "chroma differs by up to \(maxUVSmooth) on smooth content")
        #expect(maxUVAll <= 40, "chroma differs by up to \(maxUVAll) on noise and sharp edges")
        // Known values: limited-range white and black.
        var wb = RGBImage(width: 2, height: 2)
        wb.fillRect(x: 0, y: 0, width: 2, height: 2, .white)
        #expect(ours(wb).y == [235, 235, 235, 235] && ours(wb).u == [128] && ours(wb).v == [128])
        #expect(ours(RGBImage(width: 2, height: 2)).y == [16, 16, 16, 16])
    }

    @Test("a rectangle converts exactly as the whole image does there and leaves the rest alone",
          arguments: [(0, 0, 64, 48), (10, 4, 30, 20), (62, 46, 64, 48), (0, 16, 64, 32), (20, 20, 20, 30)])
    func rectangle(x0: Int, y0: Int, x1: Int, y1: Int) {
        var img = RGBImage(width: 64, height: 48)
        var state: UInt32 = 99
        for i in img.pixels.indices {
            state = state &* 1_664_525 &+ 1_013_904_223
            img.pixels[i] = UInt8(truncatingIfNeeded: state >> 24)
        }
        let full = ours(img)
        let (w, h) = (64, 48)
        var y = [UInt8](repeating: 7, count: w * h), u = [UInt8](repeating: 7, count: w * h / 4)
        var v = [UInt8](repeating: 7, count: w * h / 4)
        y.withUnsafeMutableBufferPointer { yb in
            u.withUnsafeMutableBufferPointer { ub in
                v.withUnsafeMutableBufferPointer { vb in
                    convertRGBToYUV420(img, x0: x0, y0: y0, x1: x1, y1: y1, y: yb.baseAddress!, yStride: w,
                                       u: ub.baseAddress!, uStride: w / 2, v: vb.baseAddress!, vStride: w / 2)
                }
            }
        }
        var inside = 0
        for row in 0..<h {
            for col in 0..<w {
                let isIn = (x0..<x1).contains(col) && (y0..<y1).contains(row)
                #expect(y[row * w + col] == (isIn ? full.y[row * w + col] : 7), "luma (\(col), \(row))")
                if isIn { inside += 1 }
            }
        }
        for row in 0..<(h / 2) {
            for col in 0..<(w / 2) {
                let isIn = (x0 / 2..<x1 / 2).contains(col) && (y0 / 2..<y1 / 2).contains(row)
                let i = row * (w / 2) + col
                #expect(u[i] == (isIn ? full.u[i] : 7) && v[i] == (isIn ? full.v[i] : 7), "chroma (\(col), \(row))")
            }
        }
        #expect(inside == (x1 - x0) * (y1 - y0))
    }
}
