// RGB24 <-> YUV 4:2:0 (BT.601, limited range) for rectangles of a picture, in integer maths that
// gives the same bytes on every path: SSSE3 where the CPU has it (checked at run time), plain C
// otherwise and for the last columns of a row.
#ifndef REFVISION_CCOLORCONVERT_H
#define REFVISION_CCOLORCONVERT_H

#include <stddef.h>
#include <stdint.h>

/// Converts the rectangle x0..<x1 × y0..<y1 (all even) of the packed RGB24 image `rgb` (row stride
/// `rgb_stride` bytes) into the same rectangle of the three planes. Luma per pixel
/// ((66R + 129G + 25B + 128) >> 8) + 16; chroma from the rounded mean of each 2×2 block.
/// `simd` 0 forces the plain C path (for tests).
void refv_rgb_to_yuv420(const uint8_t *rgb, ptrdiff_t rgb_stride, int x0, int y0, int x1, int y1,
                        uint8_t *y, ptrdiff_t y_stride, uint8_t *u, ptrdiff_t u_stride,
                        uint8_t *v, ptrdiff_t v_stride, int simd);

/// Converts the rectangle x0..<x1 × y0..<y1 (all even) of the planes into the same rectangle of the
/// packed RGB24 image `rgb`; each chroma sample serves its 2×2 block. Results are clipped to 0…255.
void refv_yuv420_to_rgb(const uint8_t *y, ptrdiff_t y_stride, const uint8_t *u, ptrdiff_t u_stride,
                        const uint8_t *v, ptrdiff_t v_stride, int x0, int y0, int x1, int y1,
                        uint8_t *rgb, ptrdiff_t rgb_stride, int simd);

#endif
