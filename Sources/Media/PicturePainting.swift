import CFFmpeg
import Imaging

/// Drawing on a decoded picture itself (`SourcePicture`), for encoding it as it is afterwards
/// (`VideoWriter.write(_:)`): only the pixels a drawing touches go through RGB.
extension SourcePicture {
    /// The part of the picture drawing reaches: whole 2×2 chroma blocks (an odd last column or row
    /// is never encoded; `VideoWriter` rounds sizes down to even too).
    var evenWidth: Int { width & ~1 }
    var evenHeight: Int { height & ~1 }

    /// Draws on the picture through RGB. `draw` runs twice on `canvas`, an RGB image of the picture's
    /// size used as scratch space (reuse it from picture to picture; what it holds is overwritten
    /// where needed): first with `marksOnly`, to learn where it will draw, then for real once those
    /// spans of the picture have been converted into `canvas`; the spans are then converted back
    /// into the picture's planes. The rest of the picture keeps the decoder's own samples (no YUV →
    /// RGB → YUV round trip there), and only the drawn fraction is converted, each way.
    ///
    /// When something else still references the decoded picture's buffers (the decoder keeping it
    /// as a reference frame, another `SourcePicture`), this picture takes a copy of them first and
    /// the other references see no change. Returns where `draw` drew (empty when nowhere). `draw`
    /// must draw the same things both times, with this module's drawing functions.
    public func paint(using canvas: inout RGBImage, _ draw: (inout RGBImage) -> Void) throws -> Damage {
        guard canvas.width == width, canvas.height == height else {
            throw MediaError.invalidArgument("a \(canvas.width)×\(canvas.height) canvas cannot draw on a \(width)×\(height) picture")
        }
        canvas.marksOnly = true
        canvas.trackDamage()
        draw(&canvas)
        canvas.marksOnly = false
        let damage = canvas.damage ?? Damage(width: width, height: height)
        canvas.damage = nil
        let spans = evenSpans(damage)
        guard !spans.isEmpty else { return damage }
        if av_frame_is_writable(frame) == 0 {
            copied = true
            let r = av_frame_make_writable(frame)
            guard r >= 0 else { throw MediaError.pictureCopyFailed(message: ffmpegMessage(r)) }
        }
        let planes = planePointers
        for s in spans {
            convertYUV420ToRGB(x0: s.x0, y0: s.y0, x1: s.x1, y1: s.y1,
                               y: planes[0].0, yStride: planes[0].1, u: planes[1].0, uStride: planes[1].1,
                               v: planes[2].0, vStride: planes[2].1, into: &canvas)
        }
        draw(&canvas)
        for s in spans {
            convertRGBToYUV420(canvas, x0: s.x0, y0: s.y0, x1: s.x1, y1: s.y1,
                               y: planes[0].0, yStride: planes[0].1, u: planes[1].0, uStride: planes[1].1,
                               v: planes[2].0, vStride: planes[2].1)
        }
        return damage
    }

    /// Each plane's first sample and line size.
    private var planePointers: [(UnsafeMutablePointer<UInt8>, Int)] {
        (0..<3).map { (refv_frame_plane(frame, Int32($0))!, Int(refv_frame_linesize(frame, Int32($0)))) }
    }

    /// The damaged rectangles widened to whole 2×2 blocks, inside the even part of the picture.
    private func evenSpans(_ damage: Damage) -> [(x0: Int, y0: Int, x1: Int, y1: Int)] {
        damage.rectangles.compactMap { r in
            let s = (x0: r.x0 & ~1, y0: r.y0 & ~1, x1: min(evenWidth, (r.x1 + 1) & ~1), y1: min(evenHeight, (r.y1 + 1) & ~1))
            return s.x0 < s.x1 && s.y0 < s.y1 ? s : nil
        }
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

    /// The whole picture as RGB (the conversion `paint` uses).
    public func rgbImage() -> RGBImage {
        var image = RGBImage(width: width, height: height)
        let planes = planePointers
        convertYUV420ToRGB(x0: 0, y0: 0, x1: evenWidth, y1: evenHeight,
                           y: planes[0].0, yStride: planes[0].1, u: planes[1].0, uStride: planes[1].1,
                           v: planes[2].0, vStride: planes[2].1, into: &image)
        return image
    }
}
