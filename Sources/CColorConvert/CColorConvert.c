#include "CColorConvert.h"

#if defined(__x86_64__) || defined(__i386__)
#include <tmmintrin.h>
#define REFV_X86 1
#endif

// MARK: plain C

static inline uint8_t luma(int r, int g, int b) { return (uint8_t)(((66 * r + 129 * g + 25 * b + 128) >> 8) + 16); }
static inline uint8_t chroma_u(int r, int g, int b) { return (uint8_t)(((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128); }
static inline uint8_t chroma_v(int r, int g, int b) { return (uint8_t)(((112 * r - 94 * g - 18 * b + 128) >> 8) + 128); }
static inline uint8_t clip8(int v) { v >>= 8; return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v); }

/// Columns x..<x1 of the row pair starting at `s0` (RGB) into `l0`/`l1` (luma) and `ur`/`vr`
/// (chroma), all pointing at column 0 of their rows.
static void rgb_pair_c(const uint8_t *s0, const uint8_t *s1, uint8_t *l0, uint8_t *l1, uint8_t *ur, uint8_t *vr,
                       int x, int x1) {
    for (; x < x1; x += 2) {
        const uint8_t *a = s0 + 3 * x, *b = s1 + 3 * x;
        l0[x] = luma(a[0], a[1], a[2]);
        l0[x + 1] = luma(a[3], a[4], a[5]);
        l1[x] = luma(b[0], b[1], b[2]);
        l1[x + 1] = luma(b[3], b[4], b[5]);
        int r = (a[0] + a[3] + b[0] + b[3] + 2) >> 2;
        int g = (a[1] + a[4] + b[1] + b[4] + 2) >> 2;
        int bl = (a[2] + a[5] + b[2] + b[5] + 2) >> 2;
        ur[x / 2] = chroma_u(r, g, bl);
        vr[x / 2] = chroma_v(r, g, bl);
    }
}

static void yuv_row_c(const uint8_t *l, const uint8_t *u, const uint8_t *v, uint8_t *d, int x, int x1) {
    for (; x < x1; x++) {
        int cu = u[x >> 1] - 128, cv = v[x >> 1] - 128;
        int y = 298 * (l[x] - 16);
        d[3 * x] = clip8(y + 409 * cv + 128);
        d[3 * x + 1] = clip8(y - 100 * cu - 208 * cv + 128);
        d[3 * x + 2] = clip8(y + 516 * cu + 128);
    }
}

// MARK: SSSE3, 16 pixels at a time

#ifdef REFV_X86
#define SSSE3 __attribute__((target("ssse3")))

/// Splits 48 bytes of RGB24 into 16 R, 16 G and 16 B.
SSSE3 static inline void deinterleave(const uint8_t *p, __m128i *r, __m128i *g, __m128i *b) {
    __m128i a = _mm_loadu_si128((const __m128i *)p);
    __m128i c = _mm_loadu_si128((const __m128i *)(p + 16));
    __m128i e = _mm_loadu_si128((const __m128i *)(p + 32));
    // Byte k of the result comes from byte 3k + channel of the 48; -1 (0x80) gives 0.
    *r = _mm_or_si128(_mm_or_si128(
        _mm_shuffle_epi8(a, _mm_setr_epi8(0, 3, 6, 9, 12, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1)),
        _mm_shuffle_epi8(c, _mm_setr_epi8(-1, -1, -1, -1, -1, -1, 2, 5, 8, 11, 14, -1, -1, -1, -1, -1))),
        _mm_shuffle_epi8(e, _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 1, 4, 7, 10, 13)));
    *g = _mm_or_si128(_mm_or_si128(
        _mm_shuffle_epi8(a, _mm_setr_epi8(1, 4, 7, 10, 13, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1)),
        _mm_shuffle_epi8(c, _mm_setr_epi8(-1, -1, -1, -1, -1, 0, 3, 6, 9, 12, 15, -1, -1, -1, -1, -1))),
        _mm_shuffle_epi8(e, _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 2, 5, 8, 11, 14)));
    *b = _mm_or_si128(_mm_or_si128(
        _mm_shuffle_epi8(a, _mm_setr_epi8(2, 5, 8, 11, 14, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1)),
        _mm_shuffle_epi8(c, _mm_setr_epi8(-1, -1, -1, -1, -1, 1, 4, 7, 10, 13, -1, -1, -1, -1, -1, -1))),
        _mm_shuffle_epi8(e, _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 3, 6, 9, 12, 15)));
}

/// Joins 16 R, 16 G and 16 B into 48 bytes of RGB24.
SSSE3 static inline void interleave(uint8_t *p, __m128i r, __m128i g, __m128i b) {
    __m128i o0 = _mm_or_si128(_mm_or_si128(
        _mm_shuffle_epi8(r, _mm_setr_epi8(0, -1, -1, 1, -1, -1, 2, -1, -1, 3, -1, -1, 4, -1, -1, 5)),
        _mm_shuffle_epi8(g, _mm_setr_epi8(-1, 0, -1, -1, 1, -1, -1, 2, -1, -1, 3, -1, -1, 4, -1, -1))),
        _mm_shuffle_epi8(b, _mm_setr_epi8(-1, -1, 0, -1, -1, 1, -1, -1, 2, -1, -1, 3, -1, -1, 4, -1)));
    __m128i o1 = _mm_or_si128(_mm_or_si128(
        _mm_shuffle_epi8(r, _mm_setr_epi8(-1, -1, 6, -1, -1, 7, -1, -1, 8, -1, -1, 9, -1, -1, 10, -1)),
        _mm_shuffle_epi8(g, _mm_setr_epi8(5, -1, -1, 6, -1, -1, 7, -1, -1, 8, -1, -1, 9, -1, -1, 10))),
        _mm_shuffle_epi8(b, _mm_setr_epi8(-1, 5, -1, -1, 6, -1, -1, 7, -1, -1, 8, -1, -1, 9, -1, -1)));
    __m128i o2 = _mm_or_si128(_mm_or_si128(
        _mm_shuffle_epi8(r, _mm_setr_epi8(-1, 11, -1, -1, 12, -1, -1, 13, -1, -1, 14, -1, -1, 15, -1, -1)),
        _mm_shuffle_epi8(g, _mm_setr_epi8(-1, -1, 11, -1, -1, 12, -1, -1, 13, -1, -1, 14, -1, -1, 15, -1))),
        _mm_shuffle_epi8(b, _mm_setr_epi8(10, -1, -1, 11, -1, -1, 12, -1, -1, 13, -1, -1, 14, -1, -1, 15)));
    _mm_storeu_si128((__m128i *)p, o0);
    _mm_storeu_si128((__m128i *)(p + 16), o1);
    _mm_storeu_si128((__m128i *)(p + 32), o2);
}

/// 16 luma bytes from 8+8 16-bit R, G, B (the same sums as `luma`: they fit 16 bits unsigned).
SSSE3 static inline __m128i luma16(__m128i rl, __m128i rh, __m128i gl, __m128i gh, __m128i bl, __m128i bh) {
    const __m128i kr = _mm_set1_epi16(66), kg = _mm_set1_epi16(129), kb = _mm_set1_epi16(25);
    const __m128i half = _mm_set1_epi16(128), off = _mm_set1_epi16(16);
    __m128i lo = _mm_add_epi16(_mm_srli_epi16(_mm_add_epi16(_mm_add_epi16(_mm_mullo_epi16(rl, kr), _mm_mullo_epi16(gl, kg)),
                                                            _mm_add_epi16(_mm_mullo_epi16(bl, kb), half)), 8), off);
    __m128i hi = _mm_add_epi16(_mm_srli_epi16(_mm_add_epi16(_mm_add_epi16(_mm_mullo_epi16(rh, kr), _mm_mullo_epi16(gh, kg)),
                                                            _mm_add_epi16(_mm_mullo_epi16(bh, kb), half)), 8), off);
    return _mm_packus_epi16(lo, hi);
}

/// One chroma plane's 8 samples from the 2×2 means (16-bit signed maths: every term fits).
SSSE3 static inline __m128i chroma8(__m128i r, __m128i g, __m128i b, short kr, short kg, short kb) {
    __m128i s = _mm_add_epi16(_mm_add_epi16(_mm_mullo_epi16(r, _mm_set1_epi16(kr)), _mm_mullo_epi16(g, _mm_set1_epi16(kg))),
                              _mm_add_epi16(_mm_mullo_epi16(b, _mm_set1_epi16(kb)), _mm_set1_epi16(128)));
    s = _mm_add_epi16(_mm_srai_epi16(s, 8), _mm_set1_epi16(128));
    return _mm_packus_epi16(s, s);
}

/// The 2×2 means of 16 columns of two rows, as 8 16-bit values.
SSSE3 static inline __m128i means(__m128i top, __m128i bottom) {
    const __m128i z = _mm_setzero_si128();
    __m128i lo = _mm_add_epi16(_mm_unpacklo_epi8(top, z), _mm_unpacklo_epi8(bottom, z));
    __m128i hi = _mm_add_epi16(_mm_unpackhi_epi8(top, z), _mm_unpackhi_epi8(bottom, z));
    return _mm_srli_epi16(_mm_add_epi16(_mm_hadd_epi16(lo, hi), _mm_set1_epi16(2)), 2);
}

SSSE3 static void rgb_pair_ssse3(const uint8_t *s0, const uint8_t *s1, uint8_t *l0, uint8_t *l1, uint8_t *ur, uint8_t *vr,
                                 int x0, int x1) {
    const __m128i z = _mm_setzero_si128();
    int x = x0;
    for (; x + 16 <= x1; x += 16) {
        __m128i r0, g0, b0, r1, g1, b1;
        deinterleave(s0 + 3 * x, &r0, &g0, &b0);
        deinterleave(s1 + 3 * x, &r1, &g1, &b1);
        _mm_storeu_si128((__m128i *)(l0 + x), luma16(_mm_unpacklo_epi8(r0, z), _mm_unpackhi_epi8(r0, z), _mm_unpacklo_epi8(g0, z),
                                                    _mm_unpackhi_epi8(g0, z), _mm_unpacklo_epi8(b0, z), _mm_unpackhi_epi8(b0, z)));
        _mm_storeu_si128((__m128i *)(l1 + x), luma16(_mm_unpacklo_epi8(r1, z), _mm_unpackhi_epi8(r1, z), _mm_unpacklo_epi8(g1, z),
                                                    _mm_unpackhi_epi8(g1, z), _mm_unpacklo_epi8(b1, z), _mm_unpackhi_epi8(b1, z)));
        __m128i r = means(r0, r1), g = means(g0, g1), b = means(b0, b1);
        _mm_storel_epi64((__m128i *)(ur + x / 2), chroma8(r, g, b, -38, -74, 112));
        _mm_storel_epi64((__m128i *)(vr + x / 2), chroma8(r, g, b, 112, -94, -18));
    }
    rgb_pair_c(s0, s1, l0, l1, ur, vr, x, x1);
}

/// 8 results of ((a·ka + b·kb) >> 8) for 8 pairs, in 32 bits, packed to 16 with saturation.
SSSE3 static inline __m128i madd8(__m128i a, __m128i b, __m128i k) {
    __m128i lo = _mm_srai_epi32(_mm_madd_epi16(_mm_unpacklo_epi16(a, b), k), 8);
    __m128i hi = _mm_srai_epi32(_mm_madd_epi16(_mm_unpackhi_epi16(a, b), k), 8);
    return _mm_packs_epi32(lo, hi);
}

SSSE3 static void yuv_row_ssse3(const uint8_t *l, const uint8_t *u, const uint8_t *v, uint8_t *d, int x0, int x1) {
    const __m128i z = _mm_setzero_si128();
    const __m128i k16 = _mm_set1_epi16(16), k128 = _mm_set1_epi16(128);
    // Pairs (term, term) × (coefficient, coefficient); a pair with 1 carries the rounding 128.
    const __m128i kr = _mm_setr_epi16(298, 409, 298, 409, 298, 409, 298, 409);
    const __m128i kb = _mm_setr_epi16(298, 516, 298, 516, 298, 516, 298, 516);
    const __m128i kg1 = _mm_setr_epi16(298, -100, 298, -100, 298, -100, 298, -100);
    const __m128i kg2 = _mm_setr_epi16(-208, 1, -208, 1, -208, 1, -208, 1);
    int x = x0;
    for (; x + 16 <= x1; x += 16) {
        __m128i yy = _mm_loadu_si128((const __m128i *)(l + x));
        __m128i uu = _mm_sub_epi16(_mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)(u + x / 2)), z), k128);
        __m128i vv = _mm_sub_epi16(_mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)(v + x / 2)), z), k128);
        __m128i out[3][2];
        for (int h = 0; h < 2; h++) {
            __m128i y = _mm_sub_epi16(h ? _mm_unpackhi_epi8(yy, z) : _mm_unpacklo_epi8(yy, z), k16);
            __m128i cu = h ? _mm_unpackhi_epi16(uu, uu) : _mm_unpacklo_epi16(uu, uu);
            __m128i cv = h ? _mm_unpackhi_epi16(vv, vv) : _mm_unpacklo_epi16(vv, vv);
            // y·298 + c·k + 128: the 128 rides on the 32-bit sums (added before the shift).
            __m128i r = _mm_add_epi32(_mm_madd_epi16(_mm_unpacklo_epi16(y, cv), kr), _mm_set1_epi32(128));
            __m128i r2 = _mm_add_epi32(_mm_madd_epi16(_mm_unpackhi_epi16(y, cv), kr), _mm_set1_epi32(128));
            __m128i b = _mm_add_epi32(_mm_madd_epi16(_mm_unpacklo_epi16(y, cu), kb), _mm_set1_epi32(128));
            __m128i b2 = _mm_add_epi32(_mm_madd_epi16(_mm_unpackhi_epi16(y, cu), kb), _mm_set1_epi32(128));
            __m128i g = _mm_add_epi32(_mm_madd_epi16(_mm_unpacklo_epi16(y, cu), kg1),
                                      _mm_madd_epi16(_mm_unpacklo_epi16(cv, k128), kg2));
            __m128i g2 = _mm_add_epi32(_mm_madd_epi16(_mm_unpackhi_epi16(y, cu), kg1),
                                       _mm_madd_epi16(_mm_unpackhi_epi16(cv, k128), kg2));
            out[0][h] = _mm_packs_epi32(_mm_srai_epi32(r, 8), _mm_srai_epi32(r2, 8));
            out[1][h] = _mm_packs_epi32(_mm_srai_epi32(g, 8), _mm_srai_epi32(g2, 8));
            out[2][h] = _mm_packs_epi32(_mm_srai_epi32(b, 8), _mm_srai_epi32(b2, 8));
        }
        interleave(d + 3 * x, _mm_packus_epi16(out[0][0], out[0][1]), _mm_packus_epi16(out[1][0], out[1][1]),
                   _mm_packus_epi16(out[2][0], out[2][1]));
    }
    yuv_row_c(l, u, v, d, x, x1);
}

/// Whether the SSSE3 path may run (compiler-rt fills in the CPU's features before main).
static int use_ssse3(int simd) { return simd && __builtin_cpu_supports("ssse3"); }
#endif

// MARK: entry points

void refv_rgb_to_yuv420(const uint8_t *rgb, ptrdiff_t rgb_stride, int x0, int y0, int x1, int y1,
                        uint8_t *y, ptrdiff_t y_stride, uint8_t *u, ptrdiff_t u_stride,
                        uint8_t *v, ptrdiff_t v_stride, int simd) {
#ifdef REFV_X86
    const int ssse3 = use_ssse3(simd);
#endif
    for (int row = y0; row + 1 < y1; row += 2) {
        const uint8_t *s0 = rgb + row * rgb_stride, *s1 = s0 + rgb_stride;
        uint8_t *l0 = y + row * y_stride, *l1 = l0 + y_stride;
        uint8_t *ur = u + (row / 2) * u_stride, *vr = v + (row / 2) * v_stride;
#ifdef REFV_X86
        if (ssse3) { rgb_pair_ssse3(s0, s1, l0, l1, ur, vr, x0, x1); continue; }
#endif
        (void)simd;
        rgb_pair_c(s0, s1, l0, l1, ur, vr, x0, x1);
    }
}

void refv_yuv420_to_rgb(const uint8_t *y, ptrdiff_t y_stride, const uint8_t *u, ptrdiff_t u_stride,
                        const uint8_t *v, ptrdiff_t v_stride, int x0, int y0, int x1, int y1,
                        uint8_t *rgb, ptrdiff_t rgb_stride, int simd) {
#ifdef REFV_X86
    const int ssse3 = use_ssse3(simd);
#endif
    for (int row = y0; row < y1; row++) {
        const uint8_t *l = y + row * y_stride, *ur = u + (row / 2) * u_stride, *vr = v + (row / 2) * v_stride;
        uint8_t *d = rgb + row * rgb_stride;
#ifdef REFV_X86
        if (ssse3) { yuv_row_ssse3(l, ur, vr, d, x0, x1); continue; }
#endif
        (void)simd;
        yuv_row_c(l, ur, vr, d, x0, x1);
    }
}
