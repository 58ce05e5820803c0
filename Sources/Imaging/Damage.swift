/// Which pixels of an image drawing may have changed, kept per band of `bandHeight` rows as up to
/// `spansPerBand` column spans. Coarse on purpose: marking costs a few compares per primitive row, and
/// the encoder converts only these spans of an overlay frame back to YUV while the rest comes from the
/// decoded picture untouched. Several spans per band keep apart what an overlay draws side by side on
/// the same rows (a gauge at the right edge, a skeleton in the middle, a checklist at the left), which
/// one span per band would join across the whole picture.
public struct Damage: Sendable, Equatable {
    /// Rows per band; even, so that bands cover whole 4:2:0 chroma rows.
    public static let bandHeight = 8
    /// Spans kept per band; past that, a new span joins the nearest one.
    public static let spansPerBand = 3
    /// Spans closer than this (columns) are joined: a short gap is cheaper to convert than to track.
    public static let joinGap: Int32 = 32

    public let width: Int
    public let height: Int
    /// `spansPerBand` entries per band: the first and one past the last damaged column of each span
    /// (`lower >= upper` when unused).
    private var lower: [Int32]
    private var upper: [Int32]

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        let bands = (self.height + Self.bandHeight - 1) / Self.bandHeight
        lower = Array(repeating: Int32.max, count: bands * Self.spansPerBand)
        upper = Array(repeating: 0, count: bands * Self.spansPerBand)
    }

    public static func == (a: Damage, b: Damage) -> Bool {
        a.width == b.width && a.height == b.height && a.rectangles.elementsEqual(b.rectangles) { $0 == $1 }
    }

    /// Marks the pixels x0..<x1 of rows y0..<y1 (clipped to the image).
    @inline(__always)
    public mutating func mark(x0: Int, y0: Int, x1: Int, y1: Int) {
        let xa = max(0, x0), xb = min(width, x1), ya = max(0, y0), yb = min(height, y1)
        guard xa < xb, ya < yb else { return }
        for band in (ya / Self.bandHeight)...((yb - 1) / Self.bandHeight) {
            add(Int32(xa), Int32(xb), band: band)
        }
    }

    /// Adds columns a..<b to `band`: into a span it touches or nearly touches, else into a free slot,
    /// else into the nearest span; then joins any spans that now overlap.
    @inline(__always)
    private mutating func add(_ a: Int32, _ b: Int32, band: Int) {
        let base = band * Self.spansPerBand
        var nearest = -1, nearestGap = Int32.max, free = -1
        for k in base..<(base + Self.spansPerBand) {
            let (l, u) = (lower[k], upper[k])
            guard l < u else {
                if free < 0 { free = k }
                continue
            }
            let gap = max(l - b, a - u)
            if gap < nearestGap { (nearest, nearestGap) = (k, gap) }
        }
        let slot: Int
        if nearest >= 0 && (nearestGap <= Self.joinGap || free < 0) {
            slot = nearest
            if a >= lower[slot] && b <= upper[slot] { return } // already inside: the common case
            lower[slot] = min(lower[slot], a)
            upper[slot] = max(upper[slot], b)
        } else {
            slot = free
            lower[slot] = a
            upper[slot] = b
        }
        // The grown span may now reach another one.
        var k = base
        while k < base + Self.spansPerBand {
            if k != slot, lower[k] < upper[k],
               max(lower[k] - upper[slot], lower[slot] - upper[k]) <= Self.joinGap {
                lower[slot] = min(lower[slot], lower[k])
                upper[slot] = max(upper[slot], upper[k])
                (lower[k], upper[k]) = (Int32.max, 0)
                k = base // the joined span grew again: look at the others once more
            } else {
                k += 1
            }
        }
    }

    /// Marks everything.
    public mutating func markAll() { mark(x0: 0, y0: 0, x1: width, y1: height) }

    public var isEmpty: Bool { zip(lower, upper).allSatisfy { $0 >= $1 } }

    /// The damaged rectangles, band by band and left to right within a band (they never overlap):
    /// rows `y0..<y1`, columns `x0..<x1`.
    public var rectangles: [(x0: Int, y0: Int, x1: Int, y1: Int)] {
        var out: [(x0: Int, y0: Int, x1: Int, y1: Int)] = []
        let bands = lower.count / Self.spansPerBand
        for band in 0..<bands {
            let y0 = band * Self.bandHeight, y1 = min(height, y0 + Self.bandHeight)
            let base = band * Self.spansPerBand
            let spans = (base..<(base + Self.spansPerBand)).filter { lower[$0] < upper[$0] }.sorted { lower[$0] < lower[$1] }
            for k in spans { out.append((Int(lower[k]), y0, Int(upper[k]), y1)) }
        }
        return out
    }

    /// The fraction of the image's pixels inside the damaged rectangles.
    public var coverage: Double {
        guard width > 0, height > 0 else { return 0 }
        let area = rectangles.reduce(0) { $0 + ($1.x1 - $1.x0) * ($1.y1 - $1.y0) }
        return Double(area) / Double(width * height)
    }
}
