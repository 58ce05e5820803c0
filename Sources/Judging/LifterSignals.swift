// The lifter's cleaned landmarks over the clip and the body measures derived from them.

import PoseData

/// Which side's limb to use.
enum SideChoice: Equatable, Sendable {
    case left
    case right
    /// Both, weighted by their mean visibility.
    case both(left: Double, right: Double)
}

/// Cleans each landmark's coordinates the first time they are asked for (a squat never needs the
/// elbows, a bench press never the heels).
final class LandmarkSeries {
    private let landmarks: [[Landmark]?]
    private let cleaner: SignalCleaner
    private var xs: [CleanSeries?] = Array(repeating: nil, count: BlazePoseLandmark.count)
    private var ys: [CleanSeries?] = Array(repeating: nil, count: BlazePoseLandmark.count)
    private var points: [[Point?]?] = Array(repeating: nil, count: BlazePoseLandmark.count)

    let count: Int

    init(landmarks: [[Landmark]?], cleaner: SignalCleaner) {
        self.landmarks = landmarks
        count = landmarks.count
        self.cleaner = cleaner
    }

    func x(_ l: BlazePoseLandmark) -> CleanSeries {
        load(l)
        return xs[l.rawValue] ?? CleanSeries(values: [], quality: [], noise: nil, outliers: 0)
    }

    func y(_ l: BlazePoseLandmark) -> CleanSeries {
        load(l)
        return ys[l.rawValue] ?? CleanSeries(values: [], quality: [], noise: nil, outliers: 0)
    }

    /// The cleaned point of a landmark at slot `i`.
    func point(_ l: BlazePoseLandmark, _ i: Int) -> Point? {
        let k = l.rawValue
        if points[k] == nil { load(l) }
        guard i >= 0, i < count else { return nil }
        return points[k]?[i] ?? nil
    }

    private func load(_ l: BlazePoseLandmark) {
        let k = l.rawValue
        guard xs[k] == nil else { return }
        let w = landmarks.map { $0.map { $0[k].visibility } ?? 0 }
        xs[k] = cleaner.clean(landmarks.map { $0.map { $0[k].x } }, weights: w, estimateNoise: false)
        let noisy = [BlazePoseLandmark.leftHip, .rightHip, .leftKnee, .rightKnee, .leftWrist, .rightWrist].contains(l)
        let y = cleaner.clean(landmarks.map { $0.map { $0[k].y } }, weights: w, estimateNoise: noisy)
        ys[k] = y
        let xv = xs[k]?.values ?? []
        points[k] = zip(xv, y.values).map { a, b in
            guard let a, let b else { return nil }
            return Point(x: a, y: b)
        }
    }
}

struct LifterSignals {
    let count: Int
    let fps: Double
    let times: [Double]
    let frameIndices: [Int]
    /// Index into the frame's people, per slot.
    let personIndex: [Int?]
    /// Raw visibility per slot per landmark (0 when absent).
    let visibility: [[Double]]
    let series: LandmarkSeries
    /// Torso length (px): 90th percentile of mid-shoulder to mid-hip.
    let torso: Double
    let legs: SideChoice
    let arms: SideChoice
    /// (shoulder width + hip width) / (2 × torso), median.
    let widthRatio: Double
    let view: CameraView

    /// `nil` when the track has no measurable torso.
    init?(track: PeopleTrack, slots: Int, times: [Double], frameIndices: [Int], fps: Double,
          config: JudgingConfig) {
        count = slots
        self.fps = fps
        self.times = times
        self.frameIndices = frameIndices
        var person = [Int?](repeating: nil, count: slots)
        var lms = [[Landmark]?](repeating: nil, count: slots)
        for o in track.observations where o.slot >= 0 && o.slot < slots {
            person[o.slot] = o.personIndex
            lms[o.slot] = o.landmarks
        }
        personIndex = person
        visibility = lms.map { l in l.map { $0.map(\.visibility) } ?? [Double](repeating: 0, count: BlazePoseLandmark.count) }

        // Raw torso length, for the outlier scale.
        var torsoRaw: [Double] = []
        for l in lms.compactMap({ $0 }) {
            if let s = LifterSelector.midpoint(l, .leftShoulder, .rightShoulder, config.minVisibility),
               let h = LifterSelector.midpoint(l, .leftHip, .rightHip, config.minVisibility) {
                torsoRaw.append(s.distance(to: h))
            }
        }
        guard let rawTorso = quantile(torsoRaw, 0.9), rawTorso > 1 else { return nil }

        let cleaner = SignalCleaner(fps: fps, scalePx: rawTorso, config: config)
        let series = LandmarkSeries(landmarks: lms, cleaner: cleaner)
        self.series = series

        func meanVisibility(_ marks: [BlazePoseLandmark]) -> Double {
            var s = 0.0, n = 0
            for l in lms.compactMap({ $0 }) {
                for m in marks { s += l[m.rawValue].visibility; n += 1 }
            }
            return n == 0 ? 0 : s / Double(n)
        }
        func choose(_ left: Double, _ right: Double) -> SideChoice {
            let hi = max(left, right), lo = min(left, right)
            if hi <= 0 { return .both(left: 1, right: 1) }
            if lo < config.sideDominanceRatio * hi { return left >= right ? .left : .right }
            return .both(left: left, right: right)
        }
        legs = choose(meanVisibility([.leftHip, .leftKnee, .leftAnkle]),
                      meanVisibility([.rightHip, .rightKnee, .rightAnkle]))
        arms = choose(meanVisibility([.leftShoulder, .leftElbow, .leftWrist]),
                      meanVisibility([.rightShoulder, .rightElbow, .rightWrist]))

        // Body measures from the cleaned points.
        var torsoClean: [Double] = []
        var widths: [Double] = []
        for i in 0..<slots {
            let p = { (l: BlazePoseLandmark) -> Point? in
                guard let x = series.x(l).values[i], let y = series.y(l).values[i] else { return nil }
                return Point(x: x, y: y)
            }
            if let ls = p(.leftShoulder), let rs = p(.rightShoulder), let lh = p(.leftHip), let rh = p(.rightHip) {
                let t = ((ls + rs) * 0.5).distance(to: (lh + rh) * 0.5)
                torsoClean.append(t)
                if t > 1 { widths.append((ls.distance(to: rs) + lh.distance(to: rh)) / 2 / t) }
            } else if let s = p(.leftShoulder) ?? p(.rightShoulder), let h = p(.leftHip) ?? p(.rightHip) {
                torsoClean.append(s.distance(to: h))
            }
        }
        let t = quantile(torsoClean, 0.9) ?? rawTorso
        torso = t > 1 ? t : rawTorso
        // Width ratio over the frames where the torso is near full length (upright or lying flat).
        widthRatio = median(widths) ?? 0
        if widthRatio >= config.frontViewWidthRatio {
            view = .front
        } else if widthRatio >= config.sideViewWidthRatio {
            view = .oblique
        } else {
            view = .side
        }
    }

    // MARK: Points

    func point(_ l: BlazePoseLandmark, _ i: Int) -> Point? {
        series.point(l, i)
    }

    /// True when the landmark's sample at `i` is a measurement (not filled, not missing) for both
    /// coordinates.
    func measured(_ l: BlazePoseLandmark, _ i: Int) -> Bool {
        guard i >= 0, i < count else { return false }
        let qx = series.x(l).quality, qy = series.y(l).quality
        guard i < qx.count, i < qy.count else { return false }
        return qx[i] == .measured && qy[i] == .measured
    }

    /// True when the landmark has a value (measured or filled) at `i`.
    func available(_ l: BlazePoseLandmark, _ i: Int) -> Bool { point(l, i) != nil }

    /// Combines a left/right measure with the side choice; falls back to the other side when the
    /// chosen one is missing in this frame.
    func combine(_ choice: SideChoice, left: Double?, right: Double?) -> Double? {
        switch choice {
        case .left: return left ?? right
        case .right: return right ?? left
        case let .both(wl, wr):
            switch (left, right) {
            case let (l?, r?): return (l * wl + r * wr) / max(wl + wr, 1e-9)
            case let (l?, nil): return l
            case let (nil, r?): return r
            default: return nil
            }
        }
    }

    /// Mid-point of a left/right pair of landmarks (plain mean; either one alone when the other is
    /// missing).
    func mid(_ l: BlazePoseLandmark, _ r: BlazePoseLandmark, _ i: Int) -> Point? {
        switch (point(l, i), point(r, i)) {
        case let (a?, b?): return (a + b) * 0.5
        case let (a?, nil): return a
        case let (nil, b?): return b
        default: return nil
        }
    }

    /// A per-frame series of a left/right measure combined with `choice`.
    func series(_ choice: SideChoice, _ f: (_ left: Bool, _ i: Int) -> Double?) -> [Double?] {
        (0..<count).map { i in combine(choice, left: f(true, i), right: f(false, i)) }
    }

    // MARK: Derived measures

    /// Hip centre y minus knee centre y (px, positive = hip below knee).
    func depthMargin(_ i: Int) -> Double? {
        combine(legs,
                left: diffY(.leftHip, .leftKnee, i),
                right: diffY(.rightHip, .rightKnee, i))
    }

    private func diffY(_ a: BlazePoseLandmark, _ b: BlazePoseLandmark, _ i: Int) -> Double? {
        guard let pa = point(a, i), let pb = point(b, i) else { return nil }
        return pa.y - pb.y
    }

    func kneeAngle(_ i: Int) -> Double? {
        combine(legs,
                left: angle(.leftHip, .leftKnee, .leftAnkle, i),
                right: angle(.rightHip, .rightKnee, .rightAnkle, i))
    }

    func hipAngle(_ i: Int) -> Double? {
        combine(legs,
                left: angle(.leftShoulder, .leftHip, .leftKnee, i),
                right: angle(.rightShoulder, .rightHip, .rightKnee, i))
    }

    func elbowAngle(_ i: Int) -> Double? {
        combine(arms,
                left: angle(.leftShoulder, .leftElbow, .leftWrist, i),
                right: angle(.rightShoulder, .rightElbow, .rightWrist, i))
    }

    /// Hip–ankle distance (px).
    func legExtension(_ i: Int) -> Double? {
        combine(legs, left: dist(.leftHip, .leftAnkle, i), right: dist(.rightHip, .rightAnkle, i))
    }

    /// Shoulder–wrist distance (px).
    func armExtension(_ i: Int) -> Double? {
        combine(arms, left: dist(.leftShoulder, .leftWrist, i), right: dist(.rightShoulder, .rightWrist, i))
    }

    /// Hip–knee distance (px).
    func thighLength(_ i: Int) -> Double? {
        combine(legs, left: dist(.leftHip, .leftKnee, i), right: dist(.rightHip, .rightKnee, i))
    }

    private func angle(_ a: BlazePoseLandmark, _ v: BlazePoseLandmark, _ b: BlazePoseLandmark, _ i: Int) -> Double? {
        guard let pa = point(a, i), let pv = point(v, i), let pb = point(b, i) else { return nil }
        return jointAngle(pa, pv, pb)
    }

    private func dist(_ a: BlazePoseLandmark, _ b: BlazePoseLandmark, _ i: Int) -> Double? {
        guard let pa = point(a, i), let pb = point(b, i) else { return nil }
        return pa.distance(to: pb)
    }

    /// Mean y of the hips (combined with the leg choice).
    func hipY(_ i: Int) -> Double? {
        combine(legs, left: point(.leftHip, i)?.y, right: point(.rightHip, i)?.y)
    }

    /// Bar height proxy: mean y of the wrists (combined with the arm choice).
    func wristY(_ i: Int) -> Double? {
        combine(arms, left: point(.leftWrist, i)?.y, right: point(.rightWrist, i)?.y)
    }

    /// Mean raw visibility of landmarks at slot `i`, limited to the chosen sides.
    func visibility(of marks: [(left: BlazePoseLandmark, right: BlazePoseLandmark)], choice: SideChoice,
                    at i: Int) -> Double {
        guard i >= 0, i < count else { return 0 }
        let v = visibility[i]
        var values: [Double] = []
        for (l, r) in marks {
            switch choice {
            case .left: values.append(v[l.rawValue])
            case .right: values.append(v[r.rawValue])
            case .both: values.append(max(v[l.rawValue], v[r.rawValue]))
            }
        }
        return values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
    }
}
