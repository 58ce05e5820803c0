/// Which pixels of an image drawing may have changed, kept per band of `bandHeight` rows as the
/// band's leftmost and rightmost touched column. Coarse on purpose: marking costs a compare or two per
/// primitive row, and the encoder converts only these spans of an overlay frame back to YUV while the
/// rest comes from the decoded picture untouched.
public struct Damage: Sendable, Equatable {
    /// Rows per band; even, so that bands cover whole 4:2:0 chroma rows.
    public static let bandHeight = 16

    public let width: Int
    public let height: Int
    /// Per band: the first and one past the last damaged column (`lower >= upper` when clean).
    private var spans: [(lower: Int32, upper: Int32)]

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        let bands = (self.height + Self.bandHeight - 1) / Self.bandHeight
        spans = Array(repeating: (Int32.max, 0), count: bands)
    }

    public static func == (a: Damage, b: Damage) -> Bool {
        a.width == b.width && a.height == b.height
            && a.spans.elementsEqual(b.spans) { $0.lower == $1.lower && $0.upper == $1.upper }
    }

    /// Marks the pixels x0..<x1 of rows y0..<y1 (clipped to the image).
    @inline(__always)
    public mutating func mark(x0: Int, y0: Int, x1: Int, y1: Int) {
        let xa = max(0, x0), xb = min(width, x1), ya = max(0, y0), yb = min(height, y1)
        guard xa < xb, ya < yb else { return }
        for band in (ya / Self.bandHeight)...((yb - 1) / Self.bandHeight) {
            let s = spans[band]
            spans[band] = (min(s.lower, Int32(xa)), max(s.upper, Int32(xb)))
        }
    }

    /// Marks everything.
    public mutating func markAll() { mark(x0: 0, y0: 0, x1: width, y1: height) }

    public var isEmpty: Bool { spans.allSatisfy { $0.lower >= $0.upper } }

    /// The damaged rectangles, one per band that has any: rows `y0..<y1`, columns `x0..<x1`.
    public var rectangles: [(x0: Int, y0: Int, x1: Int, y1: Int)] {
        spans.indices.compactMap { band in
            let s = spans[band]
            guard s.lower < s.upper else { return nil }
            let y0 = band * Self.bandHeight
            return (Int(s.lower), y0, Int(s.upper), min(height, y0 + Self.bandHeight))
        }
    }

    /// The fraction of the image's pixels inside the damaged rectangles.
    public var coverage: Double {
        guard width > 0, height > 0 else { return 0 }
        let area = rectangles.reduce(0) { $0 + ($1.x1 - $1.x0) * ($1.y1 - $1.y0) }
        return Double(area) / Double(width * height)
    }
}
