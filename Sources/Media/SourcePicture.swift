import CFFmpeg

/// The decoder's own picture of a frame, kept by reference (no copy) beside its RGB conversion when
/// `ReaderOptions.keepSource` asks for it. An overlay is drawn on the picture itself
/// (`draw(_:)`: on its planes, no conversion to RGB) and the picture is encoded as it
/// is (`VideoWriter.write(_:)`), so the undrawn pixels are the decoder's own. Only 8-bit 4:2:0
/// limited-range pictures of upright video are kept (what H.264 uploads are); for anything else
/// the frame has none and the overlay is drawn on its RGB image.
public final class SourcePicture: @unchecked Sendable {
    let frame: UnsafeMutablePointer<AVFrame>
    public let width: Int
    public let height: Int
    /// Whether `draw` had to copy the planes because something else still referenced them.
    public internal(set) var copied = false

    /// A new reference to `decoded`'s buffers, or nil when the picture is not one the writer can use.
    convenience init?(referencing decoded: UnsafePointer<AVFrame>) {
        guard Self.usable(decoded), let clone = av_frame_clone(decoded) else { return nil }
        self.init(clone)
    }

    /// Takes ownership of `frame` (freed with the picture); nil, leaving `frame` to the caller, when
    /// it is not a picture the writer can use.
    convenience init?(owning frame: UnsafeMutablePointer<AVFrame>) {
        guard Self.usable(frame) else { return nil }
        self.init(frame)
    }

    private init(_ frame: UnsafeMutablePointer<AVFrame>) {
        self.frame = frame
        width = Int(frame.pointee.width)
        height = Int(frame.pointee.height)
    }

    private static func usable(_ f: UnsafePointer<AVFrame>) -> Bool {
        f.pointee.format == AV_PIX_FMT_YUV420P.rawValue && f.pointee.color_range != AVCOL_RANGE_JPEG
            && f.pointee.width > 0 && f.pointee.height > 0
    }

    /// Bytes of picture kept alive by this reference.
    public var byteCount: Int { width * height + 2 * ((width + 1) / 2) * ((height + 1) / 2) }

    deinit {
        var f: UnsafeMutablePointer<AVFrame>? = frame
        av_frame_free(&f)
    }
}
