import Imaging
import PoseData

/// Draws BlazePose skeletons on a frame: bones as lines, joints as dots, each person in its own
/// colour; points the model thinks are hidden are drawn fainter.
public enum SkeletonOverlay {
    static let palette: [RGB] = [.cyan, .orange, .green, .yellow, RGB(200, 120, 255)]

    public static func color(forTrack id: Int) -> RGB { palette[((id % palette.count) + palette.count) % palette.count] }

    public static func draw(_ person: PersonPose, on image: inout RGBImage, color: RGB, alpha: Double = 1) {
        guard person.landmarks.count == BlazePoseLandmark.count else { return }
        let scale = Double(max(image.width, image.height))
        let thickness = max(2, scale / 360), radius = max(2.5, scale / 300)
        for (a, b) in BlazePoseLandmark.bones {
            let p = person[a], q = person[b]
            let v = min(p.visibility, q.visibility)
            image.drawLine(p.x, p.y, q.x, q.y, color, thickness: thickness, alpha: alpha * (v > 0.5 ? 1 : 0.35))
        }
        for l in BlazePoseLandmark.allCases where l.rawValue >= 11 {
            let p = person[l]
            image.fillCircle(p.x, p.y, radius: radius, .white, alpha: alpha * (p.visibility > 0.5 ? 1 : 0.35))
        }
    }

    /// A one-line caption in the top-left corner.
    public static func caption(_ text: String, on image: inout RGBImage) {
        let s = max(1, image.height / 360)
        image.fillRect(x: 0, y: 0, width: RGBImage.textWidth(text, scale: s) + 8 * s, height: 11 * s, .black, alpha: 0.5)
        image.drawText(text, x: 4 * s, y: 2 * s, scale: s, .white)
    }
}
