import Foundation
import Imaging

extension BlazePose {
    /// Times the parts of one landmark step on `roi` (for `refvision bench-stages`): the crop/warp
    /// into the input tensor, and the network alone, in seconds.
    public func profileLandmarkStep(_ image: RGBImage, roi: RotatedRect) throws -> (warp: Double, infer: Double) {
        lock.lock()
        defer { lock.unlock() }
        let clock = ContinuousClock()
        let n = 256.0
        let c = cos(roi.rotation), s = sin(roi.rotation), k = roi.size / n
        let ox = roi.centerX - (c * roi.size / 2) + (s * roi.size / 2)
        let oy = roi.centerY - (s * roi.size / 2) - (c * roi.size / 2)
        let warp = clock.measure {
            warpAffine(image, into: landmarker.input, width: 256, height: 256,
                       ax: c * k, bx: -s * k, cx: ox, ay: s * k, by: c * k, cy: oy, scale: 1.0 / 255.0, offset: 0)
        }
        let infer = try clock.measure { try landmarker.infer() }
        return (warp.seconds, infer.seconds)
    }
}

extension Duration {
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}



