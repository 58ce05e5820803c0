import CFFmpeg
import Foundation
import Imaging

/// What a reader knows about its source before decoding.
public struct VideoInfo: Sendable, Equatable {
    public var path: String
    /// Size of the upright frames the reader returns (after applying rotation metadata).
    public var width: Int
    public var height: Int
    public var frameRate: FrameRate
    public var fps: Double { frameRate.value }
    /// Duration in seconds when the container says.
    public var duration: Double?
    /// Number of frames when the container says.
    public var frameCount: Int?
    public var codec: String
    public var container: String
    /// Clockwise quarter turns applied to make frames upright (from the display matrix).
    public var clockwiseQuarterTurns: Int
    /// True for a still image (jpg/png/tif…): one frame.
    public var isStillImage: Bool
}

/// One decoded, upright RGB frame.
public struct VideoFrame: Sendable {
    public var index: Int
    /// Presentation time in seconds from the start of the stream.
    public var time: Double
    public var image: RGBImage
    /// The decoded picture `image` was converted from, when `ReaderOptions.keepSource` asked for it
    /// and the picture is one an overlay can be drawn on (`SourcePicture.draw`) and encoded from.
    public var source: SourcePicture?

    /// The frame's height in pixels. A kept decoded picture is as high as the RGB image (upright
    /// video only), and stays when the image is empty (`ReaderOptions.rgbBesideSource`, or let go).
    public var height: Int { source?.height ?? image.height }

    public init(index: Int, time: Double, image: RGBImage, source: SourcePicture? = nil) {
        self.index = index
        self.time = time
        self.image = image
        self.source = source
    }
}

public struct ReaderOptions: Sendable {
    /// Decoder threads (2 roughly doubles decode speed on two cores; 0 lets FFmpeg choose).
    public var threads: Int
    public var limits: MediaLimits
    /// Keep a reference to each decoded picture in `VideoFrame.source` (for an overlay drawn on it,
    /// `SourcePicture.draw`, and encoded from it; it holds the decoder's buffer, ≈1.4 MB at 720p,
    /// as long as the frame lives).
    public var keepSource: Bool
    /// With `keepSource`: whether a frame whose decoded picture is kept is also converted to RGB.
    /// `false` leaves its `image` empty (0×0) and saves the conversion, for a reader whose frames
    /// are only drawn on and encoded (a replay drawn after inference); frames without a kept picture
    /// are converted as always.
    public var rgbBesideSource: Bool

    public init(threads: Int = 2, limits: MediaLimits = .default, keepSource: Bool = false, rgbBesideSource: Bool = true) {
        self.threads = threads
        self.limits = limits
        self.keepSource = keepSource
        self.rgbBesideSource = rgbBesideSource
    }
}

/// Streams the frames of a video (or a still image as a one-frame video) as upright RGB images.
/// Memory stays bounded: one frame is decoded at a time. Use from one thread at a time.
public final class VideoReader: @unchecked Sendable {
    public let info: VideoInfo
    /// Set when the stream ended on a read error rather than a clean end of file (e.g. a truncated
    /// upload): the frames returned so far are good, but the video was cut short.
    public private(set) var endedEarly: String?

    private var format: UnsafeMutablePointer<AVFormatContext>?
    private var codec: UnsafeMutablePointer<AVCodecContext>?
    private var packet: UnsafeMutablePointer<AVPacket>?
    private var frame: UnsafeMutablePointer<AVFrame>?
    private var sws: OpaquePointer?
    private let streamIndex: Int32
    private let timeBase: Double
    private let startPTS: Int64
    private let decodedWidth: Int32
    private let decodedHeight: Int32
    private let limits: MediaLimits
    private let keepSource: Bool
    private let rgbBesideSource: Bool
    private var nextIndex = 0
    private var draining = false
    private var finished = false
    private var badPackets = 0

    /// Formats refvision accepts; everything else (including FFmpeg's text "tty" demuxer) is refused.
    static let allowedFormats = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,mpegts,flv,asf,mpeg,ogg,h264,hevc,"
        + "image2,jpeg_pipe,png_pipe,tiff_pipe,webp_pipe,bmp_pipe"

    public init(path: String, options: ReaderOptions = ReaderOptions()) throws {
        _ = FFmpegLog.configured
        limits = options.limits
        keepSource = options.keepSource
        rgbBesideSource = options.rgbBesideSource
        try Self.checkFile(path, limits: options.limits)

        var fmt: UnsafeMutablePointer<AVFormatContext>? = avformat_alloc_context()
        guard fmt != nil else { throw MediaError.decodeFailed(path: path, message: "out of memory") }
        var dict: OpaquePointer?
        av_dict_set(&dict, "format_whitelist", Self.allowedFormats, 0)
        av_dict_set(&dict, "protocol_whitelist", "file", 0)
        // Uploaded names are literal: no image-sequence patterns ("%d", globs) in file names.
        av_dict_set(&dict, "pattern_type", "none", 0)
        let openResult = avformat_open_input(&fmt, path, nil, &dict)
        av_dict_free(&dict)
        guard openResult >= 0, let fmtCtx = fmt else {
            throw MediaError.unrecognizedFormat(path: path, message: ffmpegMessage(openResult))
        }
        format = fmtCtx
        // From here on, `deinit` frees what was allocated when an error is thrown.
        var pendingError: MediaError?
        var idx: Int32 = -1
        var codecCtx: UnsafeMutablePointer<AVCodecContext>?
        var infoValue: VideoInfo?
        var tb = 0.0, start: Int64 = 0, dw: Int32 = 0, dh: Int32 = 0

        repeat {
            let probe = avformat_find_stream_info(fmtCtx, nil)
            if probe < 0 {
                pendingError = .unrecognizedFormat(path: path, message: ffmpegMessage(probe)); break
            }
            var decoder: UnsafePointer<AVCodec>?
            idx = av_find_best_stream(fmtCtx, AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0)
            guard idx >= 0, let stream = fmtCtx.pointee.streams[Int(idx)] else {
                if idx == refv_averror_decoder_not_found(),
                   let st = (0..<Int(fmtCtx.pointee.nb_streams)).lazy.compactMap({ fmtCtx.pointee.streams[$0] })
                       .first(where: { $0.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_VIDEO }) {
                    pendingError = .unsupportedCodec(
                        path: path, codec: String(cString: avcodec_get_name(st.pointee.codecpar.pointee.codec_id)))
                } else {
                    pendingError = .noVideoStream(path: path)
                }
                break
            }
            let par = stream.pointee.codecpar!
            let codecName = String(cString: avcodec_get_name(par.pointee.codec_id))
            guard let decoder else { pendingError = .unsupportedCodec(path: path, codec: codecName); break }
            dw = par.pointee.width
            dh = par.pointee.height
            guard dw > 0, dh > 0 else {
                pendingError = .decodeFailed(path: path, message: "stream has no frame size"); break
            }
            if Int(max(dw, dh)) > limits.maxSide {
                pendingError = .frameTooLarge(path: path, width: Int(dw), height: Int(dh), limit: limits.maxSide)
                break
            }
            codecCtx = avcodec_alloc_context3(decoder)
            guard let cc = codecCtx else { pendingError = .decodeFailed(path: path, message: "out of memory"); break }
            avcodec_parameters_to_context(cc, par)
            cc.pointee.thread_count = Int32(max(0, options.threads))
            let opened = avcodec_open2(cc, decoder, nil)
            if opened < 0 {
                pendingError = .unsupportedCodec(path: path, codec: "\(codecName): \(ffmpegMessage(opened))"); break
            }

            tb = av_q2d(stream.pointee.time_base)
            start = stream.pointee.start_time == refv_nopts_value() ? 0 : stream.pointee.start_time
            let formatName = String(cString: fmtCtx.pointee.iformat.pointee.name)
            let still = formatName == "image2" || formatName.hasSuffix("_pipe")
            var rate = av_guess_frame_rate(fmtCtx, stream, nil)
            if rate.num <= 0 || rate.den <= 0 { rate = AVRational(num: 25, den: 1) }
            var duration: Double?
            if stream.pointee.duration > 0 && tb > 0 {
                duration = Double(stream.pointee.duration) * tb
            } else if fmtCtx.pointee.duration > 0 {
                duration = Double(fmtCtx.pointee.duration) / Double(AV_TIME_BASE)
            }
            if still { duration = nil }
            if let d = duration, d > limits.maxDuration {
                pendingError = .tooLong(path: path, seconds: d, limit: limits.maxDuration); break
            }
            let rotation = refv_stream_rotation(stream)
            let turns = ((Int((-rotation / 90).rounded()) % 4) + 4) % 4
            let upright = turns % 2 == 1 ? (Int(dh), Int(dw)) : (Int(dw), Int(dh))
            infoValue = VideoInfo(
                path: path, width: upright.0, height: upright.1,
                frameRate: FrameRate(rate.num, rate.den), duration: duration,
                frameCount: still ? 1 : (stream.pointee.nb_frames > 0 ? Int(stream.pointee.nb_frames) : nil),
                codec: codecName, container: formatName, clockwiseQuarterTurns: turns, isStillImage: still)
        } while false

        codec = codecCtx
        streamIndex = idx
        timeBase = tb
        startPTS = start
        decodedWidth = dw
        decodedHeight = dh
        packet = av_packet_alloc()
        frame = av_frame_alloc()
        if let pendingError {
            info = VideoInfo(path: path, width: 0, height: 0, frameRate: FrameRate(0), duration: nil,
                             frameCount: nil, codec: "", container: "", clockwiseQuarterTurns: 0, isStillImage: false)
            throw pendingError
        }
        info = infoValue!
    }

    deinit {
        if sws != nil { sws_freeContext(sws) }
        av_frame_free(&frame)
        av_packet_free(&packet)
        avcodec_free_context(&codec)
        avformat_close_input(&format)
    }

    private static func checkFile(_ path: String, limits: MediaLimits) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw MediaError.fileNotFound(path: path)
        }
        guard !isDir.boolValue else { throw MediaError.notAFile(path: path) }
        let attrs = try? FileManager.default.attributesOfItem(atPath: path)
        let size = (attrs?[.size] as? NSNumber)?.int64Value ?? 0
        if size == 0 { throw MediaError.emptyFile(path: path) }
        if size > limits.maxFileBytes {
            throw MediaError.fileTooLarge(path: path, bytes: size, limit: limits.maxFileBytes)
        }
    }

    /// The next upright RGB frame, or nil at the end of the stream. Throws `MediaError` on data that
    /// cannot be decoded at all (a few corrupt packets are skipped) or on a stream over the limits.
    public func next() throws -> VideoFrame? {
        guard !finished, let codec, let frame, let packet, let format else { return nil }
        while true {
            let r = avcodec_receive_frame(codec, frame)
            if r == 0 {
                defer { av_frame_unref(frame) }
                return try convert(frame)
            }
            if r == refv_averror_eof() {
                finished = true
                if nextIndex == 0 { throw MediaError.noFrames(path: info.path) }
                return nil
            }
            if r != refv_averror_eagain() {
                throw MediaError.decodeFailed(path: info.path, message: ffmpegMessage(r))
            }
            if draining {
                finished = true
                return nil
            }
            let rr = av_read_frame(format, packet)
            if rr < 0 {
                if rr != refv_averror_eof() { endedEarly = ffmpegMessage(rr) }
                avcodec_send_packet(codec, nil)
                draining = true
                continue
            }
            defer { av_packet_unref(packet) }
            guard packet.pointee.stream_index == streamIndex else { continue }
            let s = avcodec_send_packet(codec, packet)
            if s < 0 && s != refv_averror_eagain() {
                // A corrupt packet: skip it, but give up on a stream that is mostly garbage.
                badPackets += 1
                if badPackets > 25 && badPackets > nextIndex {
                    throw MediaError.decodeFailed(path: info.path, message: ffmpegMessage(s))
                }
            }
        }
    }

    private func convert(_ f: UnsafeMutablePointer<AVFrame>) throws -> VideoFrame {
        let w = Int(decodedWidth), h = Int(decodedHeight)
        guard f.pointee.width > 0, f.pointee.height > 0 else {
            throw MediaError.decodeFailed(path: info.path, message: "decoder returned an empty frame")
        }
        var source: SourcePicture?
        if keepSource && info.clockwiseQuarterTurns == 0 && f.pointee.width == decodedWidth
            && f.pointee.height == decodedHeight {
            source = SourcePicture(referencing: f)
        }
        let image = source != nil && !rgbBesideSource ? RGBImage(width: 0, height: 0) : try rgb(f, width: w, height: h)
        let pts = f.pointee.best_effort_timestamp
        let time: Double
        if pts != refv_nopts_value() && timeBase > 0 {
            time = Double(pts - startPTS) * timeBase
        } else {
            time = info.fps > 0 ? Double(nextIndex) / info.fps : 0
        }
        if !info.isStillImage && time > limits.maxDuration {
            throw MediaError.tooLong(path: info.path, seconds: time, limit: limits.maxDuration)
        }
        defer { nextIndex += 1 }
        return VideoFrame(index: nextIndex, time: max(0, time), image: image, source: source)
    }

    /// The decoded picture `f` as an upright RGB image of `width`×`height`.
    private func rgb(_ f: UnsafeMutablePointer<AVFrame>, width w: Int, height h: Int) throws -> RGBImage {
        sws = sws_getCachedContext(
            sws, f.pointee.width, f.pointee.height, AVPixelFormat(rawValue: f.pointee.format),
            Int32(w), Int32(h), AV_PIX_FMT_RGB24, SWS_BILINEAR, nil, nil, nil)
        guard let sws else {
            throw MediaError.decodeFailed(path: info.path, message: "unsupported pixel format \(f.pointee.format)")
        }
        var failed = false
        var image = RGBImage(width: w, height: h) { buf in
            if refv_scale_to_packed(sws, f, buf.baseAddress, Int32(w * 3)) <= 0 { failed = true }
        }
        if failed { throw MediaError.decodeFailed(path: info.path, message: "pixel conversion failed") }
        if info.clockwiseQuarterTurns != 0 {
            image = image.rotatedClockwise(quarterTurns: info.clockwiseQuarterTurns)
        }
        return image
    }
}
