import CFFmpeg
import Imaging

/// Drawing on a decoded picture itself (`SourcePicture`), for encoding it as it is afterwards
/// (`VideoWriter.write(_:)`): the overlay is blended into the planes (`PlanarCanvas`), nothing goes
/// through RGB.
extension SourcePicture {
    /// The part of the picture drawing reaches: whole 2×2 chroma blocks (an odd last column or row
    /// is never encoded; `VideoWriter` rounds sizes down to even too).
    var evenWidth: Int { width & ~1 }
    var evenHeight: Int { height & ~1 }

    /// Draws on the picture's planes themselves (`PlanarCanvas`): no conversion to RGB and back.
    /// The canvas covers the even part of the picture. When something else still references the
    /// decoded picture's buffers (the decoder keeping it as a reference frame, another
    /// `SourcePicture`), this picture takes a copy of them first and the other references see no change.
    public func draw(_ body: (inout PlanarCanvas) -> Void) throws {
        try makeWritable()
        let planes = planePointers
        var canvas = PlanarCanvas(width: evenWidth, height: evenHeight, y: planes[0].0, yStride: planes[0].1,
                                  u: planes[1].0, uStride: planes[1].1, v: planes[2].0, vStride: planes[2].1)
        body(&canvas)
    }

    /// Copies the planes first when something else (the decoder, another reference) shares them.
    private func makeWritable() throws {
        guard av_frame_is_writable(frame) == 0 else { return }
        copied = true
        let r = av_frame_make_writable(frame)
        guard r >= 0 else { throw MediaError.pictureCopyFailed(message: ffmpegMessage(r)) }
    }

    /// Each plane's first sample and line size.
    private var planePointers: [(UnsafeMutablePointer<UInt8>, Int)] {
        (0..<3).map { (refv_frame_plane(frame, Int32($0))!, Int(refv_frame_linesize(frame, Int32($0)))) }
    }

    /// An independent copy of the picture (its own buffers), to draw on without changing this one.
    public func copy() throws -> SourcePicture {
        guard let f = av_frame_alloc() else { throw MediaError.pictureCopyFailed(message: "out of memory") }
        var owned: UnsafeMutablePointer<AVFrame>? = f
        f.pointee.format = frame.pointee.format
        f.pointee.width = frame.pointee.width
        f.pointee.height = frame.pointee.height
        f.pointee.color_range = frame.pointee.color_range
        var r = av_frame_get_buffer(f, 0)
        if r >= 0 { r = av_frame_copy(f, frame) }
        guard r >= 0, let picture = SourcePicture(owning: f) else {
            av_frame_free(&owned)
            throw MediaError.pictureCopyFailed(message: r < 0 ? ffmpegMessage(r) : "unusable copy")
        }
        return picture
    }

    /// The whole picture as RGB.
    public func rgbImage() -> RGBImage {
        var image = RGBImage(width: width, height: height)
        let planes = planePointers
        convertYUV420ToRGB(x0: 0, y0: 0, x1: evenWidth, y1: evenHeight,
                           y: planes[0].0, yStride: planes[0].1, u: planes[1].0, uStride: planes[1].1,
                           v: planes[2].0, vStride: planes[2].1, into: &image)
        return image
    }
}
