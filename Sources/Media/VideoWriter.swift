import CFFmpeg
import Foundation
import Imaging

public struct WriterOptions: Sendable {
    /// libx264 preset: ultrafast … veryslow.
    public var preset: String
    /// How x264 picks each frame's quantiser.
    public var rateControl: RateControl
    /// Encoder threads.
    public var threads: Int
    /// Extra libx264 options (`key=value:key=value`), e.g. "sliced-threads=1".
    public var x264Params: String?

    public init(preset: String = "veryfast", rateControl: RateControl = .crf(23), threads: Int = 2, x264Params: String? = nil) {
        self.preset = preset
        self.rateControl = rateControl
        self.threads = threads
        self.x264Params = x264Params
    }

    public enum RateControl: Sendable, Equatable {
        /// Constant rate factor (0–51, lower is better quality): each frame's quantiser follows its
        /// complexity, which x264 measures on a half-size copy of every frame.
        case crf(Int)
        /// One quantiser for every frame (0–51; 0 is lossless). No complexity measure: at ultrafast
        /// x264 takes a sixth to two fifths less time per frame (docs/replay.md).
        case qp(Int)
    }
}

/// One libx264 encoder: frames in, packets out, timestamps in frame periods. A `VideoWriter` has
/// one; a `VideoSegment` has its own, with the writer's settings.
final class H264Encoder {
    let path: String
    let width: Int
    let height: Int
    private var codec: UnsafeMutablePointer<AVCodecContext>?
    private var frame: UnsafeMutablePointer<AVFrame>?
    /// A bare reference to a decoded picture's planes, for encoding it where it lies.
    private var borrowed: UnsafeMutablePointer<AVFrame>?
    private var packet: UnsafeMutablePointer<AVPacket>?
    private var sws: OpaquePointer?
    private(set) var flushed = false

    /// `width` and `height` are even. `globalHeader`: the stream's parameter sets go in
    /// `extradata` (as MP4 wants) instead of before each key frame.
    init(path: String, width: Int, height: Int, frameRate: FrameRate, options: WriterOptions, globalHeader: Bool) throws {
        self.path = path
        self.width = width
        self.height = height
        guard let encoder = avcodec_find_encoder_by_name("libx264") else {
            throw MediaError.encodeFailed(path: path, message: "FFmpeg has no libx264 encoder")
        }
        guard let cc = avcodec_alloc_context3(encoder) else {
            throw MediaError.encodeFailed(path: path, message: "out of memory")
        }
        codec = cc
        cc.pointee.width = Int32(width)
        cc.pointee.height = Int32(height)
        cc.pointee.pix_fmt = AV_PIX_FMT_YUV420P
        cc.pointee.time_base = AVRational(num: frameRate.denominator, den: frameRate.numerator)
        cc.pointee.framerate = AVRational(num: frameRate.numerator, den: frameRate.denominator)
        cc.pointee.thread_count = Int32(max(0, options.threads))
        if globalHeader { cc.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER }
        av_opt_set(cc.pointee.priv_data, "preset", options.preset, 0)
        switch options.rateControl {
        case .crf(let crf): av_opt_set(cc.pointee.priv_data, "crf", String(crf), 0)
        case .qp(let qp): av_opt_set(cc.pointee.priv_data, "qp", String(qp), 0)
        }
        if let params = options.x264Params, !params.isEmpty {
            let r = av_opt_set(cc.pointee.priv_data, "x264-params", params, 0)
            guard r >= 0 else { throw fail(r, "x264 options \(params)") }
        }
        var r = avcodec_open2(cc, encoder, nil)
        guard r >= 0 else { throw fail(r, "cannot open libx264 (preset \(options.preset))") }
        guard let f = av_frame_alloc(), let b = av_frame_alloc(), let p = av_packet_alloc() else {
            throw MediaError.encodeFailed(path: path, message: "out of memory")
        }
        frame = f
        borrowed = b
        packet = p
        f.pointee.format = AV_PIX_FMT_YUV420P.rawValue
        f.pointee.width = Int32(width)
        f.pointee.height = Int32(height)
        r = av_frame_get_buffer(f, 0)
        guard r >= 0 else { throw fail(r, "frame buffer") }
    }

    deinit {
        if sws != nil { sws_freeContext(sws) }
        av_frame_free(&frame)
        av_frame_free(&borrowed)
        av_packet_free(&packet)
        avcodec_free_context(&codec)
    }

    func fail(_ code: Int32, _ what: String) -> MediaError {
        .encodeFailed(path: path, message: "\(what): \(ffmpegMessage(code))")
    }

    var context: UnsafeMutablePointer<AVCodecContext>? { codec }

    /// The stream's parameter sets (SPS and PPS), as the MP4 header carries them.
    var extradata: [UInt8] {
        guard let cc = codec, let data = cc.pointee.extradata, cc.pointee.extradata_size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: Int(cc.pointee.extradata_size)))
    }

    /// Whether the encoder reorders frames (B-frames): its packets' decoding times then start
    /// before the first presentation time, and a stream cannot simply continue with another one.
    var reorders: Bool { (codec?.pointee.has_b_frames ?? 0) > 0 || (codec?.pointee.max_b_frames ?? 0) > 0 }

    /// Encodes a decoded picture where it lies (no conversion, no copy): see `VideoWriter.write(_:)`.
    func encode(_ picture: SourcePicture, pts: Int64, _ out: (UnsafeMutablePointer<AVPacket>) throws -> Void) throws {
        guard let borrowed else { throw MediaError.encodeFailed(path: path, message: "not open") }
        guard picture.width >= width, picture.height >= height else {
            throw MediaError.invalidArgument("a \(picture.width)×\(picture.height) picture does not fill a \(width)×\(height) video")
        }
        let r = refv_frame_borrow_planes(borrowed, picture.frame, Int32(width), Int32(height), AV_PIX_FMT_YUV420P.rawValue)
        guard r >= 0 else { throw fail(r, "referencing the decoded picture") }
        defer { av_frame_unref(borrowed) }
        try send(borrowed, pts: pts, out)
    }

    /// Encodes an RGB image, scaled to the video's size if it differs.
    func encode(_ image: RGBImage, pts: Int64, _ out: (UnsafeMutablePointer<AVPacket>) throws -> Void) throws {
        guard let frame else { throw MediaError.encodeFailed(path: path, message: "not open") }
        guard image.width > 0, image.height > 0 else {
            throw MediaError.invalidArgument("cannot encode an empty image")
        }
        let r = av_frame_make_writable(frame)
        guard r >= 0 else { throw fail(r, "frame not writable") }
        if image.width == width && image.height == height {
            // Same size (the usual case): our own conversion, no scaling needed.
            convertRGBToYUV420(image, width: width, height: height,
                               y: refv_frame_plane(frame, 0), yStride: Int(refv_frame_linesize(frame, 0)),
                               u: refv_frame_plane(frame, 1), uStride: Int(refv_frame_linesize(frame, 1)),
                               v: refv_frame_plane(frame, 2), vStride: Int(refv_frame_linesize(frame, 2)))
        } else {
            sws = sws_getCachedContext(
                sws, Int32(image.width), Int32(image.height), AV_PIX_FMT_RGB24,
                Int32(width), Int32(height), AV_PIX_FMT_YUV420P, SWS_BILINEAR, nil, nil, nil)
            guard let sws else { throw MediaError.encodeFailed(path: path, message: "no RGB→YUV converter") }
            image.pixels.withUnsafeBufferPointer { buf in
                _ = refv_scale_from_packed(sws, buf.baseAddress, Int32(image.stride), Int32(image.height), frame)
            }
        }
        try send(frame, pts: pts, out)
    }

    private func send(_ frame: UnsafeMutablePointer<AVFrame>, pts: Int64, _ out: (UnsafeMutablePointer<AVPacket>) throws -> Void) throws {
        guard let codec, !flushed else { throw MediaError.encodeFailed(path: path, message: "the encoder is already flushed") }
        frame.pointee.pts = pts
        frame.pointee.pict_type = AV_PICTURE_TYPE_NONE
        let r = avcodec_send_frame(codec, frame)
        guard r >= 0 else { throw fail(r, "encoder refused a frame") }
        try drain(out)
    }

    /// Ends the stream: hands over every packet still inside the encoder. Frames sent after this
    /// are refused.
    func flush(_ out: (UnsafeMutablePointer<AVPacket>) throws -> Void) throws {
        guard let codec, !flushed else { return }
        flushed = true
        avcodec_send_frame(codec, nil)
        try drain(out)
    }

    /// Gives each packet the encoder has ready to `out`, which may take its contents.
    private func drain(_ out: (UnsafeMutablePointer<AVPacket>) throws -> Void) throws {
        guard let codec, let packet else { return }
        while true {
            let r = avcodec_receive_packet(codec, packet)
            if r == refv_averror_eagain() || r == refv_averror_eof() { return }
            guard r >= 0 else { throw fail(r, "encoding") }
            defer { av_packet_unref(packet) }
            try out(packet)
        }
    }
}

/// Writes RGB frames as H.264 (libx264, yuv420p) in an MP4 with `+faststart` (the index is moved to
/// the front so browsers can play while downloading). Frame i gets presentation time i / frameRate,
/// so N frames written at the source's rate give the source's frame count and duration.
///
/// The frames of the end of a video may be encoded on another thread, by a second encoder, while
/// this one still works on the frames before them (`makeSegment()`, `append(_:)`).
public final class VideoWriter: @unchecked Sendable {
    public let path: String
    public let width: Int
    public let height: Int
    public let frameRate: FrameRate
    public let options: WriterOptions
    /// Frames encoded (held frames count once).
    public private(set) var framesWritten = 0
    /// Presentation time (in frame periods) of the next frame: `framesWritten` plus the held periods.
    public private(set) var nextPTS: Int64 = 0

    private var output: UnsafeMutablePointer<AVFormatContext>?
    private var encoder: H264Encoder?
    private var stream: UnsafeMutablePointer<AVStream>?
    /// The newest packet, written once the next one (or the end) gives its duration.
    private var pending: UnsafeMutablePointer<AVPacket>?
    private var hasPending = false
    /// Decoding time of the newest packet given to the file (frame periods).
    private var lastDTS: Int64?
    private var globalHeader = false
    private var headerWritten = false
    private var finished = false

    /// Opens `path` for writing frames of `width`×`height` (odd sizes are rounded down to even, as
    /// yuv420p needs; frames are scaled to fit).
    public init(path: String, width: Int, height: Int, frameRate: FrameRate,
                options: WriterOptions = WriterOptions()) throws {
        _ = FFmpegLog.configured
        guard width >= 2, height >= 2, width <= 16384, height <= 16384 else {
            throw MediaError.invalidArgument("video size \(width)×\(height) is out of range")
        }
        guard frameRate.isValid else { throw MediaError.invalidArgument("frame rate \(frameRate) is not valid") }
        self.path = path
        self.width = width & ~1
        self.height = height & ~1
        self.frameRate = frameRate
        self.options = options
        do {
            try open()
        } catch {
            close(removeFile: true)
            throw error
        }
    }

    deinit { close(removeFile: !finished) }

    private func fail(_ code: Int32, _ what: String) -> MediaError {
        .encodeFailed(path: path, message: "\(what): \(ffmpegMessage(code))")
    }

    private func open() throws {
        var oc: UnsafeMutablePointer<AVFormatContext>?
        var r = avformat_alloc_output_context2(&oc, nil, "mp4", path)
        guard r >= 0, let oc else { throw fail(r, "cannot create the MP4 container") }
        output = oc
        guard let st = avformat_new_stream(oc, nil) else {
            throw MediaError.encodeFailed(path: path, message: "out of memory")
        }
        stream = st
        globalHeader = oc.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0
        let encoder = try H264Encoder(path: path, width: width, height: height, frameRate: frameRate,
                                      options: options, globalHeader: globalHeader)
        self.encoder = encoder
        guard let cc = encoder.context else { throw MediaError.encodeFailed(path: path, message: "not open") }
        r = avcodec_parameters_from_context(st.pointee.codecpar, cc)
        guard r >= 0 else { throw fail(r, "codec parameters") }
        st.pointee.time_base = cc.pointee.time_base
        st.pointee.avg_frame_rate = cc.pointee.framerate

        r = avio_open(&oc.pointee.pb, path, AVIO_FLAG_WRITE)
        guard r >= 0 else { throw fail(r, "cannot open the output file") }
        var opts: OpaquePointer?
        av_dict_set(&opts, "movflags", "+faststart", 0)
        r = avformat_write_header(oc, &opts)
        av_dict_free(&opts)
        guard r >= 0 else { throw fail(r, "cannot write the MP4 header") }
        headerWritten = true

        guard let q = av_packet_alloc() else { throw MediaError.encodeFailed(path: path, message: "out of memory") }
        pending = q
    }

    /// The writer's own encoder, while frames may still be written to it.
    private func openEncoder() throws -> H264Encoder {
        guard !finished, let encoder else {
            throw MediaError.encodeFailed(path: path, message: "the writer is already finished")
        }
        guard !encoder.flushed else {
            throw MediaError.encodeFailed(path: path, message: "a segment has been appended: later frames go into another segment")
        }
        return encoder
    }

    /// Encodes a decoded picture as it is (drawn on with `SourcePicture.draw`), reading its planes
    /// where they lie: no conversion, no copy. The picture may be larger than the writer's frame (an
    /// odd last column or row is left out); a smaller one is refused. The encoder has taken what it
    /// needs of the picture when this returns.
    public func write(_ picture: SourcePicture) throws {
        try openEncoder().encode(picture, pts: nextPTS) { try mux($0, offset: 0) }
        framesWritten += 1
        nextPTS += 1
    }

    /// Encodes one frame. Its size may differ from the writer's; it is scaled to fit.
    public func write(_ image: RGBImage) throws {
        try openEncoder().encode(image, pts: nextPTS) { try mux($0, offset: 0) }
        framesWritten += 1
        nextPTS += 1
    }

    /// Keeps the last written frame on screen for `count` more frame periods (a freeze or a title
    /// card): variable frame rate, the next frame's time moves on and nothing is encoded again.
    public func hold(count: Int) throws {
        guard count > 0 else { return }
        guard !finished, framesWritten > 0 else {
            throw MediaError.encodeFailed(path: path, message: "nothing written yet to hold")
        }
        nextPTS += Int64(count)
    }

    /// A second encoder with this writer's settings, for the frames that follow everything written
    /// here so far and until `append(_:)`: it can run on another thread while this writer encodes.
    /// Its stream starts with a key frame. Refused for settings that reorder frames (B-frames).
    public func makeSegment() throws -> VideoSegment {
        let encoder = try H264Encoder(path: path, width: width, height: height, frameRate: frameRate,
                                      options: options, globalHeader: globalHeader)
        guard !encoder.reorders else {
            throw MediaError.invalidArgument("a video encoded with B-frames cannot be continued by another encoder (preset \(options.preset))")
        }
        return VideoSegment(encoder: encoder)
    }

    /// Ends this writer's own stream and puts `segment`'s frames after it: from then on only
    /// segments and holds may follow. The segment's parameter sets must be the file's (same settings
    /// and libx264), else nothing is appended and this throws.
    public func append(_ segment: VideoSegment) throws {
        guard !finished, let own = encoder else {
            throw MediaError.encodeFailed(path: path, message: "the writer is already finished")
        }
        try segment.end()
        guard segment.framesWritten > 0 else { return }
        guard segment.extradata == own.extradata else {
            throw MediaError.encodeFailed(path: path, message: "the segment's stream parameters differ from the file's")
        }
        try own.flush { try mux($0, offset: 0) }
        let offset = nextPTS
        if let first = segment.packets.first, let last = lastDTS, first.pointee.dts + offset <= last {
            throw MediaError.encodeFailed(path: path, message: "the segment's first frame would decode before the file's last")
        }
        for packet in segment.packets { try mux(packet, offset: offset) }
        segment.releasePackets()
        framesWritten += segment.framesWritten
        nextPTS += segment.nextPTS
    }

    /// Takes a packet (timestamps in frame periods, `offset` added) into the file. Each packet is
    /// held back until the next one arrives, so its duration is known: that is what gives a held
    /// frame its length in the MP4.
    private func mux(_ packet: UnsafeMutablePointer<AVPacket>, offset: Int64) throws {
        guard let pending else { return }
        packet.pointee.pts += offset
        packet.pointee.dts += offset
        if hasPending {
            pending.pointee.duration = max(1, packet.pointee.dts - pending.pointee.dts)
            try writePending()
        }
        lastDTS = packet.pointee.dts
        av_packet_move_ref(pending, packet)
        hasPending = true
    }

    private func writePending() throws {
        guard let encoder, let codec = encoder.context, let pending, let output, let stream else { return }
        av_packet_rescale_ts(pending, codec.pointee.time_base, stream.pointee.time_base)
        pending.pointee.stream_index = stream.pointee.index
        hasPending = false
        let w = av_interleaved_write_frame(output, pending)
        guard w >= 0 else { throw fail(w, "writing a packet") }
    }

    /// Flushes the encoder and writes the MP4 index. The file is complete only after this returns.
    public func finish() throws {
        guard !finished else { return }
        guard let encoder, let output else { throw MediaError.encodeFailed(path: path, message: "not open") }
        try encoder.flush { try mux($0, offset: 0) }
        if hasPending, let pending {
            // The last packet lasts until the end: through any hold after it.
            pending.pointee.duration = max(1, nextPTS - pending.pointee.pts)
            try writePending()
        }
        let r = av_write_trailer(output)
        guard r >= 0 else { throw fail(r, "writing the MP4 index") }
        finished = true
        close(removeFile: false)
    }

    /// Stops writing and deletes the unfinished file now (not at deinit, which could come after
    /// another writer has created a file at the same path). Does nothing once finished.
    public func abandon() {
        guard !finished else { return }
        close(removeFile: true)
    }

    private func close(removeFile: Bool) {
        encoder = nil
        av_packet_free(&pending)
        if let oc = output {
            if oc.pointee.pb != nil { avio_closep(&oc.pointee.pb) }
            avformat_free_context(oc)
            output = nil
            if removeFile && headerWritten { try? FileManager.default.removeItem(atPath: path) }
        }
    }
}

/// Where encoded frames go: a writer's own stream, or a segment that continues it.
public protocol VideoFrameSink: AnyObject {
    /// Encodes a decoded picture where it lies (no conversion, no copy).
    func write(_ picture: SourcePicture) throws
    /// Encodes an RGB image, scaled to the video's size if it differs.
    func write(_ image: RGBImage) throws
    /// Keeps the last frame on screen for `count` more frame periods.
    func hold(count: Int) throws
}

extension VideoWriter: VideoFrameSink {}
extension VideoSegment: VideoFrameSink {}

/// Frames that continue a `VideoWriter`'s video, encoded by a second libx264 encoder with the
/// writer's settings (`VideoWriter.makeSegment()`), on another thread than the writer's own frames.
/// Its stream starts with a key frame and its timestamps count from its own first frame;
/// `VideoWriter.append(_:)` puts it after the writer's frames. Its packets wait in memory until then
/// (a few kilobytes a frame). One thread at a time.
public final class VideoSegment: @unchecked Sendable {
    /// Frames encoded (held frames count once).
    public private(set) var framesWritten = 0
    /// Frame periods from the segment's start to its next frame: frames plus held periods.
    public private(set) var nextPTS: Int64 = 0
    private let encoder: H264Encoder
    private(set) var packets: [UnsafeMutablePointer<AVPacket>] = []

    init(encoder: H264Encoder) { self.encoder = encoder }

    deinit { releasePackets() }

    /// Encodes a decoded picture where it lies, as `VideoWriter.write(_:)` does.
    public func write(_ picture: SourcePicture) throws {
        try encoder.encode(picture, pts: nextPTS) { try keep($0) }
        framesWritten += 1
        nextPTS += 1
    }

    /// Encodes an RGB image, scaled to fit, as `VideoWriter.write(_:)` does.
    public func write(_ image: RGBImage) throws {
        try encoder.encode(image, pts: nextPTS) { try keep($0) }
        framesWritten += 1
        nextPTS += 1
    }

    /// Keeps the segment's last frame on screen for `count` more frame periods.
    public func hold(count: Int) throws {
        guard count > 0 else { return }
        guard framesWritten > 0 else {
            throw MediaError.encodeFailed(path: encoder.path, message: "nothing written yet to hold")
        }
        nextPTS += Int64(count)
    }

    var extradata: [UInt8] { encoder.extradata }

    /// Flushes the encoder: every packet is in `packets` after this.
    func end() throws { try encoder.flush { try keep($0) } }

    private func keep(_ packet: UnsafeMutablePointer<AVPacket>) throws {
        guard let copy = av_packet_alloc() else { throw MediaError.encodeFailed(path: encoder.path, message: "out of memory") }
        av_packet_move_ref(copy, packet)
        packets.append(copy)
    }

    func releasePackets() {
        for p in packets {
            var packet: UnsafeMutablePointer<AVPacket>? = p
            av_packet_free(&packet)
        }
        packets = []
    }
}
