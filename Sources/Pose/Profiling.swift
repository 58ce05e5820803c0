import Foundation
import Imaging

extension BlazePose {
    /// Times the parts of one landmark step on `roi` (for `refvision bench-stages`): the crop/warp
    /// into the input tensor, and the network alone, in seconds, on the request for calls made one at
    /// a time (one lane's share of threads when the model has lanes).
    public func profileLandmarkStep(_ image: RGBImage, roi: RotatedRect) throws -> (warp: Double, infer: Double) {
        lock.lock()
        defer { lock.unlock() }
        let clock = ContinuousClock()
        let warp = clock.measure { Self.warpLandmarkInput(image, roi: roi, into: landmarker.input) }
        let infer = try clock.measure { try landmarker.infer() }
        return (warp.seconds, infer.seconds)
    }
}

extension Duration {
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}



