import CColorConvert
import Imaging

// RGB24 ↔ YUV 4:2:0 planar, BT.601 limited range (what swscale produces by default and what players
// assume for untagged H.264), in integer maths (`CColorConvert`: SSSE3 where the CPU has it, the
// same bytes in plain C otherwise). FFmpeg 5.1 has a fast unscaled path only for BGR24 sources;
// from RGB24 it takes the generic scaler, many times slower. Each chroma sample is the rounded
// mean of its 2×2 block one way, and serves its 2×2 block (no interpolation) the other way, so a
// rectangle converts to what a whole conversion gives there.

/// The whole image (at least `width`×`height`, both even) into the planes.
func convertRGBToYUV420(_ image: RGBImage, width: Int, height: Int,
                        y yPlane: UnsafeMutablePointer<UInt8>, yStride: Int,
                        u uPlane: UnsafeMutablePointer<UInt8>, uStride: Int,
                        v vPlane: UnsafeMutablePointer<UInt8>, vStride: Int) {
    convertRGBToYUV420(image, x0: 0, y0: 0, x1: width, y1: height,
                       y: yPlane, yStride: yStride, u: uPlane, uStride: uStride, v: vPlane, vStride: vStride)
}

/// The rectangle x0..<x1 × y0..<y1 (all even) of the image, written at the same place in the
/// planes; samples outside it are left alone. `simd: false` takes the plain C path (tests).
func convertRGBToYUV420(_ image: RGBImage, x0: Int, y0: Int, x1: Int, y1: Int,
                        y yPlane: UnsafeMutablePointer<UInt8>, yStride: Int,
                        u uPlane: UnsafeMutablePointer<UInt8>, uStride: Int,
                        v vPlane: UnsafeMutablePointer<UInt8>, vStride: Int, simd: Bool = true) {
    precondition(x0 >= 0 && y0 >= 0 && x1 <= image.width && y1 <= image.height
                 && x0 % 2 == 0 && y0 % 2 == 0 && x1 % 2 == 0 && y1 % 2 == 0)
    guard x0 < x1, y0 < y1 else { return }
    image.pixels.withUnsafeBufferPointer { buf in
        refv_rgb_to_yuv420(buf.baseAddress, image.stride, Int32(x0), Int32(y0), Int32(x1), Int32(y1),
                           yPlane, yStride, uPlane, uStride, vPlane, vStride, simd ? 1 : 0)
    }
}

/// The rectangle x0..<x1 × y0..<y1 (all even) of the planes into the same rectangle of `image`,
/// clipped to 0…255; pixels outside it are left alone. `simd: false` takes the plain C path (tests).
func convertYUV420ToRGB(x0: Int, y0: Int, x1: Int, y1: Int,
                        y yPlane: UnsafePointer<UInt8>, yStride: Int,
                        u uPlane: UnsafePointer<UInt8>, uStride: Int,
                        v vPlane: UnsafePointer<UInt8>, vStride: Int,
                        into image: inout RGBImage, simd: Bool = true) {
    precondition(x0 >= 0 && y0 >= 0 && x1 <= image.width && y1 <= image.height
                 && x0 % 2 == 0 && y0 % 2 == 0 && x1 % 2 == 0 && y1 % 2 == 0)
    guard x0 < x1, y0 < y1 else { return }
    let stride = image.stride
    image.pixels.withUnsafeMutableBufferPointer { buf in
        refv_yuv420_to_rgb(yPlane, yStride, uPlane, uStride, vPlane, vStride, Int32(x0), Int32(y0), Int32(x1), Int32(y1),
                           buf.baseAddress, stride, simd ? 1 : 0)
    }
}
