/// A packed 8-bit RGB image (RGB24), rows top to bottom, no padding between rows.
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `width * height * 3` bytes.
    public var pixels: [UInt8]
    public var stride: Int { width * 3 }

    /// A black image.
    public init(width: Int, height: Int) {
        precondition(width >= 0 && height >= 0, "image size must not be negative")
        self.width = width
        self.height = height
        self.pixels = [UInt8](repeating: 0, count: width * height * 3)
    }

    /// An image over existing packed RGB bytes. Returns nil when the byte count doesn't match.
    public init?(width: Int, height: Int, pixels: [UInt8]) {
        guard width >= 0, height >= 0, pixels.count == width * height * 3 else { return nil }
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// Bytes of slack allocated past the last pixel for `fill`: SIMD converters such as swscale may
    /// write a little beyond the end when the row stride is not a multiple of their vector width.
    public static let writeSlack = 256

    /// An image whose bytes are written by `fill`, which receives a buffer of at least
    /// `width*height*3 + writeSlack` bytes and must initialise the first `width*height*3`. Avoids
    /// zero-filling large frames that are overwritten anyway.
    public init(width: Int, height: Int, fill: (UnsafeMutableBufferPointer<UInt8>) throws -> Void) rethrows {
        precondition(width >= 0 && height >= 0, "image size must not be negative")
        self.width = width
        self.height = height
        let count = width * height * 3
        self.pixels = try [UInt8](unsafeUninitializedCapacity: count + Self.writeSlack) { buffer, initialized in
            try fill(buffer)
            initialized = count
        }
    }

    public func pixel(x: Int, y: Int) -> RGB {
        let i = (y * width + x) * 3
        return RGB(pixels[i], pixels[i + 1], pixels[i + 2])
    }

    public mutating func setPixel(x: Int, y: Int, _ c: RGB) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let i = (y * width + x) * 3
        pixels[i] = c.r
        pixels[i + 1] = c.g
        pixels[i + 2] = c.b
    }

    /// The image turned clockwise by `quarterTurns` × 90°.
    public func rotatedClockwise(quarterTurns: Int) -> RGBImage {
        let turns = ((quarterTurns % 4) + 4) % 4
        if turns == 0 { return self }
        let (ow, oh) = turns == 2 ? (width, height) : (height, width)
        let w = width, h = height
        return pixels.withUnsafeBufferPointer { src in
            RGBImage(width: ow, height: oh) { dst in
                for y in 0..<h {
                    for x in 0..<w {
                        let (nx, ny): (Int, Int)
                        switch turns {
                        case 1: (nx, ny) = (h - 1 - y, x)
                        case 2: (nx, ny) = (w - 1 - x, h - 1 - y)
                        default: (nx, ny) = (y, w - 1 - x)
                        }
                        let s = (y * w + x) * 3, d = (ny * ow + nx) * 3
                        dst[d] = src[s]
                        dst[d + 1] = src[s + 1]
                        dst[d + 2] = src[s + 2]
                    }
                }
            }
        }
    }

    /// Mean absolute difference per channel against another image of the same size (0…255).
    public func meanAbsoluteDifference(_ other: RGBImage) -> Double? {
        guard other.width == width, other.height == height else { return nil }
        guard !pixels.isEmpty else { return 0 }
        var total = 0
        for i in 0..<pixels.count { total += abs(Int(pixels[i]) - Int(other.pixels[i])) }
        return Double(total) / Double(pixels.count)
    }
}

/// An 8-bit RGB colour.
public struct RGB: Sendable, Equatable, Hashable {
    public var r: UInt8
    public var g: UInt8
    public var b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) {
        self.r = r
        self.g = g
        self.b = b
    }

    public static let white = RGB(255, 255, 255)
    public static let black = RGB(0, 0, 0)
    public static let red = RGB(230, 40, 40)
    public static let green = RGB(40, 200, 80)
    public static let yellow = RGB(250, 210, 40)
    public static let cyan = RGB(40, 200, 230)
    public static let orange = RGB(250, 140, 30)
    public static let gray = RGB(150, 150, 150)
}
