// Helpers for FFmpeg macros and tuple-typed fields that Swift cannot use directly.
#ifndef REFVISION_CFFMPEG_SHIM_H
#define REFVISION_CFFMPEG_SHIM_H

#include <errno.h>
#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libavutil/avutil.h>
#include <libavutil/display.h>
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>

static inline int refv_averror_eof(void) { return AVERROR_EOF; }
static inline int refv_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int64_t refv_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline int refv_averror_stream_not_found(void) { return AVERROR_STREAM_NOT_FOUND; }
static inline int refv_averror_decoder_not_found(void) { return AVERROR_DECODER_NOT_FOUND; }

/// FFmpeg's message for an error code (av_err2str is a macro over a compound literal).
static inline void refv_strerror(int code, char *buf, size_t size) {
    if (av_strerror(code, buf, size) < 0) {
        snprintf(buf, size, "error %d", code);
    }
}

/// Rotation in degrees (counter-clockwise, as av_display_rotation_get reports) from the stream's
/// display matrix, or 0 when it has none.
static inline double refv_stream_rotation(const AVStream *st) {
    const int32_t *matrix = (const int32_t *)av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, NULL);
    if (!matrix) return 0;
    double r = av_display_rotation_get(matrix);
    return r != r ? 0 : r; // NaN -> 0
}

/// Scales/converts a decoded frame into one packed buffer (e.g. RGB24).
static inline int refv_scale_to_packed(struct SwsContext *ctx, const AVFrame *src, uint8_t *dst, int dst_stride) {
    uint8_t *planes[4] = { dst, NULL, NULL, NULL };
    int strides[4] = { dst_stride, 0, 0, 0 };
    return sws_scale(ctx, (const uint8_t *const *)src->data, src->linesize, 0, src->height, planes, strides);
}

/// Converts one packed buffer (e.g. RGB24) into a planar frame (e.g. YUV420P).
static inline int refv_scale_from_packed(struct SwsContext *ctx, const uint8_t *src, int src_stride, int src_height, AVFrame *dst) {
    const uint8_t *planes[4] = { src, NULL, NULL, NULL };
    int strides[4] = { src_stride, 0, 0, 0 };
    return sws_scale(ctx, planes, strides, 0, src_height, dst->data, dst->linesize);
}

/// A frame's plane pointer and line size (AVFrame.data/linesize are 8-tuples in Swift).
static inline uint8_t *refv_frame_plane(AVFrame *f, int i) { return f->data[i]; }
static inline int refv_frame_linesize(const AVFrame *f, int i) { return f->linesize[i]; }

/// Makes `dst` a bare new reference to `src`'s three planes (their buffers, pointers and line
/// sizes) with the given size and pixel format, and nothing else of `src` (no side data, metadata
/// or timestamps). AVFrame.buf/data/linesize are tuples in Swift. Returns 0 or an AVERROR.
static inline int refv_frame_borrow_planes(AVFrame *dst, const AVFrame *src, int width, int height, int format) {
    av_frame_unref(dst);
    for (int i = 0; i < 3; i++) {
        if (!src->data[i]) break;
        if (src->buf[i]) {
            dst->buf[i] = av_buffer_ref(src->buf[i]);
            if (!dst->buf[i]) { av_frame_unref(dst); return AVERROR(ENOMEM); }
        }
        dst->data[i] = src->data[i];
        dst->linesize[i] = src->linesize[i];
    }
    dst->width = width;
    dst->height = height;
    dst->format = format;
    return 0;
}

#endif
