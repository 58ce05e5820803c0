import CFFmpeg

/// The decoder's own picture of a frame, kept by reference (no copy) beside its RGB conversion when
/// `ReaderOptions.keepSource` asks for it. `VideoWriter.write(_:over:)` encodes an overlay drawn on
/// the RGB image from it: the undrawn pixels are the decoded ones, and only the spans the drawing
/// damaged are converted back from RGB. Only 8-bit 4:2:0 limited-range pictures of upright video
/// are kept (what H.264 uploads are); for anything else the frame has none and the writer converts
/// the whole image.
public final class SourcePicture: @unchecked Sendable {
    let frame: UnsafeMutablePointer<AVFrame>
    public let width: Int
    public let height: Int

    /// A new reference to `decoded`'s buffers, or nil when the picture is not one the writer can use.
    init?(referencing decoded: UnsafePointer<AVFrame>) {
        guard decoded.pointee.format == AV_PIX_FMT_YUV420P.rawValue,
              decoded.pointee.color_range != AVCOL_RANGE_JPEG,
              decoded.pointee.width > 0, decoded.pointee.height > 0,
              let clone = av_frame_clone(decoded) else { return nil }
        frame = clone
        width = Int(decoded.pointee.width)
        height = Int(decoded.pointee.height)
    }

    /// Bytes of picture kept alive by this reference.
    public var byteCount: Int { width * height + 2 * ((width + 1) / 2) * ((height + 1) / 2) }

    deinit {
        var f: UnsafeMutablePointer<AVFrame>? = frame
        av_frame_free(&f)
    }
}
