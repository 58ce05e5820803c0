// When a replay drawn from provisional judgments may stand for the one the final judgment draws.

/// Decides whether frames already drawn (and encoded) from provisional judgments may stay in the
/// replay of the final judgment. Pure: overlays in, a yes or no out.
///
/// Everything a frame shows must agree with the final judgment's overlay of that frame, with three
/// allowances, all far below what the pose model can resolve:
/// - **Switch timing.** The phase label and each checklist row must go through the same values in the
///   same order as the final judgment's, but each switch may come up to `shift` frames earlier or
///   later. Phase boundaries and the frames at which rules are decided are refined against levels
///   measured over the whole clip (the standing height, the noise), so they move by a frame or two as
///   frames arrive; a label that switches 33 ms early says nothing different.
/// - **Gauge reading.** The depth gauge's marker may read up to `gaugeTolerance` (thigh) away, and so
///   show the neighbouring band's colour when it reads that close to a band edge: the depth signal is
///   cleaned with whole-clip statistics (noise, outliers), so readings move by ten-thousandths of a
///   thigh as frames arrive.
/// - **Reference lines.** The hip and knee lines drawn from the bottom frame on may lie up to
///   `linesTolerance` (half a pixel) from the final judgment's: the smoothed bottom moves by fractions
///   of a pixel as frames arrive.
///
/// The lifter, the gauge's band and the caption of the held bottom frame (the
/// measured depth, to two decimals) must agree exactly, and so must the held frame itself: only the
/// frame that carries the caption is held. A value, a status or a verdict never differs.
public struct ReplayAgreement: Sendable {
    public var shift: Int
    public var gaugeTolerance: Double
    /// Pixels the hip and knee reference lines may lie from the final judgment's.
    public var linesTolerance: Double

    public init(shift: Int, gaugeTolerance: Double, linesTolerance: Double = 0.5) {
        self.shift = max(0, shift)
        self.gaugeTolerance = max(0, gaugeTolerance)
        self.linesTolerance = max(0, linesTolerance)
    }

    /// `drawn`: the overlays drawn so far, for the first `drawn.count` frames in order. `reference`:
    /// the final (or a newer provisional) judgment's overlays of the same frames and of at least
    /// `shift` frames after them when it has them (a switch drawn in the last frames may match one
    /// just past them).
    public func accepts(drawn: [FrameOverlay], reference: [FrameOverlay]) -> Bool {
        guard drawn.count <= reference.count else { return false }
        for (d, r) in zip(drawn, reference) {
            guard d.sameFixedParts(as: r, gaugeTolerance: gaugeTolerance, linesTolerance: linesTolerance) else { return false }
        }
        // What the file would show: the drawn frames, then the reference's.
        let shown = drawn + reference[drawn.count...]
        guard Self.sameSwitches(shown.map(\.label), reference.map(\.label), within: shift) else { return false }
        let rows = reference.first?.checklist.count ?? 0
        for row in 0..<rows {
            guard Self.sameSwitches(shown.map { $0.checklist[row] }, reference.map { $0.checklist[row] }, within: shift)
            else { return false }
        }
        return true
    }

    /// How many of `next` (the overlays of the frames about to be drawn, in order, following the
    /// frame whose overlay is `previous`) to draw now: all of them, unless the phase label or a
    /// checklist row switches within the last `shift` of them — then only the frames before that
    /// switch. A switch drawn in the last frames of the drawn part, that a later judgment moves by a
    /// frame or two, leaves the file flickering (✓ drawn at the switch, the next frame from the later
    /// judgment not ticked yet, then ticked again), which `accepts` rightly refuses; held back, the
    /// switch is drawn a step later from a judgment that has seen more frames after it. Measured on
    /// the single-attempt bench clip: of every judgment the speculation can make, the two that put
    /// the start of the descent at frame 106 instead of 108 doomed the file this way, and a `make
    /// bench` round was drawn again when the speculation happened to judge there.
    public func drawable(_ next: [FrameOverlay], after previous: FrameOverlay?) -> Int {
        var before = previous
        var cut = next.count
        for (i, o) in next.enumerated() {
            if let b = before, i >= next.count - shift, b.label != o.label || b.checklist != o.checklist {
                cut = i
                break
            }
            before = o
        }
        return cut
    }

    /// Whether `a` and `b` (the same length) go through the same values in the same order, each change
    /// of value at most `within` positions from the other's.
    static func sameSwitches<T: Equatable>(_ a: [T], _ b: [T], within: Int) -> Bool {
        guard a.count == b.count else { return false }
        let ra = runs(a), rb = runs(b)
        guard ra.count == rb.count else { return false }
        for (x, y) in zip(ra, rb) {
            guard x.value == y.value, abs(x.start - y.start) <= within else { return false }
        }
        return true
    }

    private static func runs<T: Equatable>(_ values: [T]) -> [(value: T, start: Int)] {
        var out: [(value: T, start: Int)] = []
        for (i, v) in values.enumerated() where out.last?.value != v { out.append((v, i)) }
        return out
    }
}
