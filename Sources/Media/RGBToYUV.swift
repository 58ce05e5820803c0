import Imaging

/// RGB24 → YUV 4:2:0 planar, BT.601 limited range (what swscale produces by default and what players
/// assume for untagged H.264), integer maths. FFmpeg 5.1 has a fast unscaled path only for BGR24
/// sources; from RGB24 it takes the generic scaler, about 4× slower than this loop — and the
/// conversion is most of the cost of encoding an overlay at ultrafast.
/// Chroma is the mean of each 2×2 block. `width`/`height` are the destination's (even) size; the
/// image must be at least that large.
func convertRGBToYUV420(_ image: RGBImage, width: Int, height: Int,
                        y yPlane: UnsafeMutablePointer<UInt8>, yStride: Int,
                        u uPlane: UnsafeMutablePointer<UInt8>, uStride: Int,
                        v vPlane: UnsafeMutablePointer<UInt8>, vStride: Int) {
    precondition(image.width >= width && image.height >= height && width % 2 == 0 && height % 2 == 0)
    let stride = image.stride
    image.pixels.withUnsafeBufferPointer { buf in
        guard let src = buf.baseAddress else { return }
        for row in Swift.stride(from: 0, to: height, by: 2) {
            let s0 = src + row * stride, s1 = s0 + stride
            let y0 = yPlane + row * yStride, y1 = y0 + yStride
            let uRow = uPlane + (row / 2) * uStride, vRow = vPlane + (row / 2) * vStride
            var x = 0
            while x < width {
                var sumR: Int32 = 0, sumG: Int32 = 0, sumB: Int32 = 0
                for (s, yOut) in [(s0, y0), (s1, y1)] {
                    for dx in 0..<2 {
                        let p = s + (x + dx) * 3
                        let r = Int32(p[0]), g = Int32(p[1]), b = Int32(p[2])
                        yOut[x + dx] = UInt8(truncatingIfNeeded: ((66 * r + 129 * g + 25 * b + 128) >> 8) + 16)
                        sumR += r
                        sumG += g
                        sumB += b
                    }
                }
                // Mean of the block (rounded), then the chroma transform.
                let r = (sumR + 2) >> 2, g = (sumG + 2) >> 2, b = (sumB + 2) >> 2
                uRow[x / 2] = UInt8(truncatingIfNeeded: ((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128)
                vRow[x / 2] = UInt8(truncatingIfNeeded: ((112 * r - 94 * g - 18 * b + 128) >> 8) + 128)
                x += 2
            }
        }
    }
}
