// Shared building blocks of the lift rules: banded grading, movement shapes over a height signal, and
// the locked-joint check.

import PoseData

/// A graded rule's thresholds.
struct Band: Sendable {
    var pass: Double
    var fail: Double
    /// True when larger values are better (depth, angles, pause); false for sizes of faults.
    var higherIsBetter: Bool

    func grade(_ v: Double) -> RuleStatus {
        if higherIsBetter {
            if v >= pass { return .passed }
            if v <= fail { return .failed }
        } else {
            if v <= pass { return .passed }
            if v >= fail { return .failed }
        }
        return .unknown
    }

    var middle: Double { (pass + fail) / 2 }
    var low: Double { min(pass, fail) }
    var high: Double { max(pass, fail) }

    /// "≥ 0.11 passes, ≤ -0.01 fails"
    func describe(_ unit: String) -> String {
        let p = fmt(pass, 3), f = fmt(fail, 3)
        return higherIsBetter
            ? "passes at ≥ \(p)\(unit), fails at ≤ \(f)\(unit)"
            : "passes at ≤ \(p)\(unit), fails at ≥ \(f)\(unit)"
    }
}

/// What a lift analysis hands back to the judge.
struct LiftOutcome: Sendable {
    var rules: [RuleResult] = []
    /// Slot at which each rule's outcome is known, for the replay checklist.
    var decided: [RuleID: Int] = [:]
    var keySlots: (start: Int?, bottom: Int?, lockout: Int?) = (nil, nil, nil)
    var phases: [LiftPhase]
    var depthPx: [Double?]
    var depthThigh: [Double?]
    var trackedY: [Double?]
    var thighPx: Double?
    /// Problems that stop a clear call unless a rule failed clearly (lifter lost, no lift found).
    var problems: [String] = []
    /// Problems that stop any call (more than one repetition in the clip).
    var blocking: [String] = []
    /// A partial analysis of a lift not started yet: the lift's rules, none judged (`Analysis.pendingRules`).
    var pendingRules: [RuleID] = []

    init(count: Int) {
        phases = [LiftPhase](repeating: .unknown, count: count)
        depthPx = [Double?](repeating: nil, count: count)
        depthThigh = [Double?](repeating: nil, count: count)
        trackedY = [Double?](repeating: nil, count: count)
    }
}

/// Context passed to the lift analyses.
struct LiftContext {
    let s: LifterSignals
    let config: JudgingConfig
    /// The clip is still arriving (`Judge.analyze(_:lift:partial:)`).
    var partial = false

    var lockWindowFrames: Int { max(1, Int((config.lockWindowSeconds * s.fps).rounded())) }

    /// A partial analysis before the lifter has moved (the tracked point has not travelled far enough
    /// for a lift): every frame seen with it is set-up, as in the whole clip's analysis once the lift
    /// is found (the frames up to its start), and the lift's rules are pending.
    func awaitingLift(_ out: inout LiftOutcome, present: [Int], kind: LiftKind) {
        for i in present { out.phases[i] = .setup }
        out.pendingRules = kind.rules
    }

    /// How close (px) to a settled level a refined phase boundary must come: 2 % of the travel or twice
    /// the per-frame noise of the landmarks tracked, whichever is larger.
    func fineTolerance(travel: Double, noiseOf marks: [BlazePoseLandmark]) -> Double {
        let noise = marks.compactMap { s.series.y($0).noise }.max() ?? 0
        return max(0.02 * travel, 2 * noise)
    }

    func frame(_ slot: Int?) -> Int? {
        guard let slot, slot >= 0, slot < s.count else { return nil }
        return s.frameIndices[slot]
    }

    func time(_ slot: Int?) -> Double? {
        guard let slot, slot >= 0, slot < s.count else { return nil }
        return s.times[slot]
    }

    func result(_ id: RuleID, _ status: RuleStatus, value: Double?, band: Band, unit: MeasureUnit,
                slot: Int?, note: String) -> RuleResult {
        RuleResult(id: id, status: status, value: value.map { roundTo($0, 4) }, threshold: roundTo(band.middle, 4),
                   reviewLow: roundTo(band.low, 4), reviewHigh: roundTo(band.high, 4), unit: unit,
                   frame: frame(slot), time: time(slot).map { roundTo($0, 4) }, note: note)
    }

    /// "frame 66 (2.2 s)"
    func at(_ slot: Int?) -> String {
        guard let f = frame(slot), let t = time(slot) else { return "" }
        return "frame \(f) (\(fmt(t)) s)"
    }

    /// A problem naming the frames inside `range` where `available` is false (after gap filling, so
    /// every such frame lies in a dropout longer than the fillable gap).
    func lostProblems(_ range: ClosedRange<Int>, available: (Int) -> Bool, what: String) -> [String] {
        let lo = max(0, range.lowerBound), hi = min(s.count - 1, range.upperBound)
        guard lo <= hi else { return [] }
        let missing = (lo...hi).filter { !available($0) }
        guard let first = missing.first, let last = missing.last else { return [] }
        return ["lifter lost: the \(what) were not tracked from \(at(first)) to \(at(last)), during the lift"]
    }
}

func roundTo(_ v: Double, _ places: Int) -> Double {
    var scale = 1.0
    for _ in 0..<places { scale *= 10 }
    return (v * scale).rounded() / scale
}

// MARK: Movement shapes

enum Movement {
    /// The largest "rise then fall" of `h` (height, up positive) inside `range`: the biggest downward
    /// movement after having moved up. Returns the amount and the slot where the fall began.
    static func riseThenFall(_ h: [Double?], in range: ClosedRange<Int>) -> (amount: Double, slot: Int?) {
        let lo = max(0, range.lowerBound), hi = min(h.count - 1, range.upperBound)
        guard lo <= hi else { return (0, nil) }
        var prefixMin = [Double?](repeating: nil, count: hi - lo + 1)
        var running: Double?
        for i in lo...hi {
            if let v = h[i] { running = min(running ?? v, v) }
            prefixMin[i - lo] = running
        }
        var suffixMin = [Double?](repeating: nil, count: hi - lo + 1)
        running = nil
        for i in stride(from: hi, through: lo, by: -1) {
            if let v = h[i] { running = min(running ?? v, v) }
            suffixMin[i - lo] = running
        }
        var best = 0.0
        var bestSlot: Int?
        for i in lo...hi {
            guard let v = h[i], let before = prefixMin[i - lo], let after = suffixMin[i - lo] else { continue }
            let amount = min(v - before, v - after)
            if amount > best {
                best = amount
                bestSlot = i
            }
        }
        return (best, bestSlot)
    }

    /// Valleys (local minima) of `h` inside `range` that are separated by rises of at least `reversal`.
    /// A final descent that never rises again counts as a valley.
    static func valleys(_ h: [Double?], in range: ClosedRange<Int>, reversal: Double) -> [Int] {
        let lo = max(0, range.lowerBound), hi = min(h.count - 1, range.upperBound)
        guard lo <= hi else { return [] }
        var result: [Int] = []
        var goingDown = true
        var extreme: (value: Double, slot: Int)?
        for i in lo...hi {
            guard let v = h[i] else { continue }
            guard let e = extreme else {
                extreme = (v, i)
                continue
            }
            if goingDown {
                if v < e.value {
                    extreme = (v, i)
                } else if v >= e.value + reversal {
                    result.append(e.slot)
                    goingDown = false
                    extreme = (v, i)
                }
            } else {
                if v > e.value {
                    extreme = (v, i)
                } else if v <= e.value - reversal {
                    goingDown = true
                    extreme = (v, i)
                }
            }
        }
        if goingDown, let e = extreme, !result.contains(e.slot), e.slot != lo {
            result.append(e.slot)
        }
        return result
    }

    /// The maximal run of slots around `center` whose values stay within `tolerance` above `h[center]`.
    static func plateau(_ h: [Double?], around center: Int, tolerance: Double) -> ClosedRange<Int>? {
        guard center >= 0, center < h.count, let base = h[center] else { return nil }
        var a = center, b = center
        while a - 1 >= 0, let v = h[a - 1], v <= base + tolerance, v >= base - tolerance { a -= 1 }
        while b + 1 < h.count, let v = h[b + 1], v <= base + tolerance, v >= base - tolerance { b += 1 }
        return a...b
    }

    /// Slot of the largest value in `range` (first on ties).
    static func argmax(_ h: [Double?], in range: ClosedRange<Int>) -> Int? {
        let lo = max(0, range.lowerBound), hi = min(h.count - 1, range.upperBound)
        guard lo <= hi else { return nil }
        var best: (value: Double, slot: Int)?
        for i in lo...hi {
            guard let v = h[i] else { continue }
            if let b = best, v <= b.value { continue }
            best = (v, i)
        }
        return best?.slot
    }

    static func argmin(_ h: [Double?], in range: ClosedRange<Int>) -> Int? {
        argmax(h.map { $0.map { -$0 } }, in: range)
    }

    /// The peak of the least-squares quadratic through the values in `range` (slots relative to
    /// `center`): the vertex when the fit is concave with its vertex inside the range, else the fit at
    /// `center`; `nil` with fewer than 3 values.
    static func quadraticPeak(_ h: [Double?], around center: Int, in range: ClosedRange<Int>) -> Double? {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0, s4 = 0.0, t0 = 0.0, t1 = 0.0, t2 = 0.0
        var points = 0
        let lo = max(0, range.lowerBound), hi = min(h.count - 1, range.upperBound)
        guard lo <= hi else { return nil }
        for j in lo...hi {
            guard let y = h[j] else { continue }
            let u = Double(j - center), u2 = u * u
            s0 += 1; s1 += u; s2 += u2; s3 += u2 * u; s4 += u2 * u2
            t0 += y; t1 += u * y; t2 += u2 * y
            points += 1
        }
        guard points >= 3 else { return nil }
        let det = s0 * (s2 * s4 - s3 * s3) - s1 * (s1 * s4 - s3 * s2) + s2 * (s1 * s3 - s2 * s2)
        guard abs(det) > 1e-9 * max(s0 * s2 * s4, 1e-12) else { return nil }
        let a = (t0 * (s2 * s4 - s3 * s3) - s1 * (t1 * s4 - s3 * t2) + s2 * (t1 * s3 - s2 * t2)) / det
        let b = (s0 * (t1 * s4 - s3 * t2) - t0 * (s1 * s4 - s3 * s2) + s2 * (s1 * t2 - t1 * s2)) / det
        let c = (s0 * (s2 * t2 - t1 * s3) - s1 * (s1 * t2 - t1 * s2) + t0 * (s1 * s3 - s2 * s2)) / det
        guard a.isFinite, b.isFinite, c.isFinite else { return nil }
        if c < 0 {
            let vertex = -b / (2 * c)
            if vertex >= Double(lo - center) && vertex <= Double(hi - center) { return a - b * b / (4 * c) }
        }
        return a
    }

    /// Refines a phase boundary found with the coarse phase tolerance to where the movement really
    /// begins (direction -1: walking back in time) or ends (+1: walking forward): the walk goes on while
    /// the height is more than `fine` away from `level` (the standing, top or floor level), and stops at
    /// `limit`.
    static func refine(_ h: [Double?], slot: Int, direction: Int, level: Double, fine: Double,
                       limit: ClosedRange<Int>) -> Int {
        var j = slot
        while limit.contains(j + direction), let v = h[j], abs(v - level) > fine, h[j + direction] != nil {
            j += direction
        }
        return j
    }

    /// How many times the signal goes from a rest state to a far state (one repetition each).
    static func repetitions(_ h: [Double?], atRest: (Double) -> Bool, far: (Double) -> Bool) -> Int {
        var count = 0
        var armed = false
        for v in h {
            guard let v else { continue }
            if armed && far(v) {
                count += 1
                armed = false
            } else if !armed && atRest(v) {
                armed = true
            }
        }
        return count
    }

    /// The frames of the first repetition `repetitions` counts: from the last rest frame before the
    /// signal first goes far to the first rest frame after that (or the end). Nil without one.
    static func firstRepetition(_ h: [Double?], atRest: (Double) -> Bool, far: (Double) -> Bool) -> ClosedRange<Int>? {
        var lastRest: Int?
        var start: Int?
        for (i, v) in h.enumerated() {
            guard let v else { continue }
            if let start {
                if atRest(v) { return start...i }
            } else if let rest = lastRest, far(v) {
                start = rest
            } else if atRest(v) {
                lastRest = i
            }
        }
        return start.map { $0...(h.count - 1) }
    }

    static func values(_ h: [Double?], in range: ClosedRange<Int>) -> [Double] {
        let lo = max(0, range.lowerBound), hi = min(h.count - 1, range.upperBound)
        guard lo <= hi else { return [] }
        return (lo...hi).compactMap { h[$0] }
    }
}

// MARK: Finish

extension LiftContext {
    /// Where to look for the finish: `lockWindowSeconds` after reaching lockout height, or after the end
    /// of the ascent (the highest point after `after`) when lockout height was never reached. `complete` is false when the
    /// lifter was not watched for that whole time; `problems` says when the lifter left the view or the
    /// clip ended before lockout.
    func finishWindow(height: [Double?], after: Int, lockout: Int?, last: Int)
        -> (window: ClosedRange<Int>?, complete: Bool, problems: [String]) {
        let w = lockWindowFrames
        if let lockout {
            let end = lockout + w
            return (lockout...min(last, end), end <= last, [])
        }
        // The end of the ascent: the first frame within the phase tolerance of the highest point after
        // `after` (the highest frame itself is noisy on a plateau).
        guard let highest = Movement.argmax(height, in: after...last), let peak = height[highest],
              let low = height[after] else {
            return (nil, false, ["the lifter is not tracked after the bottom"])
        }
        let tol = config.phaseTolerance * max(0, peak - low)
        let top = (after...highest).first { (height[$0] ?? -.infinity) >= peak - tol } ?? highest
        let end = top + w
        let window = top...min(last, end)
        var problems: [String] = []
        if end > last {
            problems.append(last < s.count - 1
                ? "lifter lost: not tracked after \(at(last)), before lockout"
                : "the clip ends at \(at(last)) before lockout")
        }
        return (window, end <= last, problems)
    }
}

// MARK: Locked joints

extension LiftContext {
    /// One way of measuring a locked joint.
    struct LockMeasure {
        var label: String
        var series: (Int) -> Double?
        /// Divides the series (extension ratios); `nil` for angles.
        var reference: Double?
        var band: Band
        var unit: MeasureUnit
        var unitText: String
    }

    func angleMeasure(_ label: String, _ series: @escaping (Int) -> Double?) -> LockMeasure {
        LockMeasure(label: label, series: series, reference: nil,
                    band: Band(pass: config.lockedAngle, fail: config.bentAngle, higherIsBetter: true),
                    unit: .degrees, unitText: "°")
    }

    func extensionMeasure(_ label: String, _ series: @escaping (Int) -> Double?, reference: Double?) -> LockMeasure {
        LockMeasure(label: label, series: series, reference: reference,
                    band: Band(pass: config.extendedRatio, fail: config.flexedRatio, higherIsBetter: true),
                    unit: .ratio, unitText: "")
    }

    /// A locked-joint rule: each measure takes its best (largest) value inside `window`; the rule
    /// reports the measure with the worst status (failed over unknown over passed; the first on ties).
    ///
    /// `complete` says whether the lifter was watched for the whole window; when not (the clip or the
    /// track ends), a failing reading becomes `unknown`: the lifter may have locked a moment later.
    func lockRule(_ id: RuleID, measures: [LockMeasure], window: ClosedRange<Int>?, moment: String,
                  complete: Bool = true, preface: String = "") -> RuleResult {
        let fallbackBand = measures.first?.band ?? Band(pass: config.lockedAngle, fail: config.bentAngle,
                                                        higherIsBetter: true)
        let fallbackUnit = measures.first?.unit ?? .degrees
        guard let window, !measures.isEmpty else {
            return result(id, .unknown, value: nil, band: fallbackBand, unit: fallbackUnit, slot: nil,
                          note: preface + "the \(moment) is not in the clip")
        }
        let lo = max(0, window.lowerBound), hi = min(s.count - 1, window.upperBound)
        struct Reading {
            var status: RuleStatus
            var value: Double
            var slot: Int
            var measure: LockMeasure
        }
        var readings: [Reading] = []
        var missing: [String] = []
        for m in measures {
            var best: (value: Double, slot: Int)?
            if lo <= hi {
                for i in lo...hi {
                    guard var v = m.series(i) else { continue }
                    if let r = m.reference {
                        guard r > 0 else { continue }
                        v /= r
                    }
                    if best == nil || v > best?.value ?? v { best = (v, i) }
                }
            }
            if let best {
                readings.append(Reading(status: m.band.grade(best.value), value: best.value, slot: best.slot, measure: m))
            } else {
                missing.append(m.label)
            }
        }
        func rank(_ s: RuleStatus) -> Int { s == .failed ? 2 : s == .unknown ? 1 : 0 }
        if readings.isEmpty {
            return result(id, .unknown, value: nil, band: fallbackBand, unit: fallbackUnit, slot: nil,
                          note: preface + "\(missing.joined(separator: " and ")) not visible at the \(moment)")
        }
        var worst = readings[0]
        for r in readings.dropFirst() where rank(r.status) > rank(worst.status) { worst = r }
        var status = worst.status
        var note = preface + readings.map { r in
            "\(r.measure.label) \(fmt(r.value, r.measure.unit == .degrees ? 1 : 3))\(r.measure.unitText) at \(at(r.slot))"
                + " (\(r.measure.band.describe(r.measure.unitText)))"
        }.joined(separator: "; ")
        if !missing.isEmpty {
            note += "; \(missing.joined(separator: " and ")) not visible"
            if status == .passed { status = .unknown }
        }
        if !complete && status == .failed {
            status = .unknown
            note += "; the lifter was not watched long enough after this to know"
        }
        return result(id, status, value: worst.value, band: worst.measure.band, unit: worst.measure.unit,
                      slot: worst.slot, note: note)
    }
}
