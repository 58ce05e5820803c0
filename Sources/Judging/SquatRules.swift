// The squat (IPF): knees locked at the start, depth at the bottom, one bottom, no downward movement on
// the way up, knees locked at the finish.

import PoseData

extension LiftContext {
    func judgeSquat() -> LiftOutcome {
        var out = LiftOutcome(count: s.count)
        let n = s.count
        let hipY = (0..<n).map { s.hipY($0) }
        let height = hipY.map { $0.map { -$0 } }
        out.trackedY = hipY
        let present = height.indices.filter { height[$0] != nil }
        guard let first = present.first, let last = present.last, present.count >= 3 else {
            out.problems.append("the lifter's hips are not visible in enough frames to find a squat")
            return out
        }
        let heights = present.compactMap { height[$0] }
        guard let standing = quantile(heights, 0.95), var bottom = Movement.argmin(height, in: first...last),
              var lowest = height[bottom] else {
            out.problems.append("no squat found")
            return out
        }
        var travel = standing - lowest
        guard travel >= config.minTravel * s.torso else {
            out.problems.append("no squat found: the hips moved only \(fmt(travel / s.torso)) torso lengths "
                                + "(at least \(fmt(config.minTravel)) needed)")
            if partial { awaitingSquat(&out, present: present) }
            return out
        }
        // More than one squat: the attempt is the first (in a meet the first descent after the signal
        // is the attempt; what follows is not part of it), so its bottom and travel are the first
        // squat's. The verdict is blocked below either way.
        let atRest = { [tol = config.phaseTolerance * travel] (v: Double) in v >= standing - tol }
        let reps = Movement.repetitions(height, atRest: atRest, far: { $0 <= standing - travel / 2 })
        if reps > 1, let attempt = Movement.firstRepetition(height, atRest: atRest, far: { $0 <= standing - travel / 2 }),
           let b = Movement.argmin(height, in: attempt), let v = height[b], standing - v >= config.minTravel * s.torso {
            bottom = b
            lowest = v
            travel = standing - v
        }
        let tol = config.phaseTolerance * travel
        let fine = fineTolerance(travel: travel, noiseOf: [.leftHip, .rightHip])
        let w = lockWindowFrames
        let start = (first...bottom).reversed().first { (height[$0] ?? -.infinity) >= standing - tol }.map {
            Movement.refine(height, slot: $0, direction: -1, level: standing, fine: fine, limit: first...bottom)
        }
        let lockout = (bottom...last).first { (height[$0] ?? -.infinity) >= standing - tol }.map {
            Movement.refine(height, slot: $0, direction: 1, level: standing, fine: fine, limit: bottom...last)
        }
        let liftRange = (start ?? first)...(lockout ?? last)

        // Thigh length while standing (the thigh is foreshortened when it tilts toward the camera),
        // from the set-up when it stands for at least the lock window (`lockWindowSeconds`): that
        // scale is settled once the lift has started, so a depth measured at the bottom keeps its
        // value whatever follows (a judgment made while the clip is still arriving gives the same
        // numbers as the final one).
        let standingSlots = present.filter { (height[$0] ?? -.infinity) >= standing - tol }
        let setupThighs = start.map { start in standingSlots.filter { $0 <= start }.compactMap { s.thighLength($0) } } ?? []
        let standingThighs = setupThighs.count >= max(3, w) ? setupThighs
            : standingSlots.compactMap { s.thighLength($0) }
        let allThighs = present.compactMap { s.thighLength($0) }
        guard let thigh = median(standingThighs) ?? quantile(allThighs, 0.9), thigh > 1 else {
            out.problems.append("the lifter's thighs are not visible: no scale for depth")
            return out
        }
        out.thighPx = thigh

        out.problems += lostProblems(liftRange, available: { s.depthMargin($0) != nil }, what: "hips and knees")
        if start == nil {
            out.problems.append("the clip starts after the descent began: no standing start")
        }
        if reps > 1 {
            out.blocking.append("\(reps) squats in the clip: a verdict is for one attempt")
        }

        // Depth.
        let margin = (0..<n).map { s.depthMargin($0) }
        out.depthPx = margin
        out.depthThigh = margin.map { $0.map { $0 / thigh } }
        let depth = depthRule(margin: margin, thigh: thigh, range: liftRange)
        out.rules.append(depth.rule)
        if let d = depth.decided { out.decided[.squatDepth] = d }

        // Knees locked at the start. Side and oblique views: the knee angle. Front views, where knee
        // flexion happens along the camera axis: the hip–ankle extension relative to the standing
        // frames (90th percentile, robust to the noise of single frames).
        var measures: [LockMeasure] = []
        var preface = ""
        if s.view != .front {
            measures.append(angleMeasure("knee angle", { s.kneeAngle($0) }))
        } else {
            preface = "front view, knee angle not visible: "
            let extensionRef = quantile(standingSlots.compactMap { s.legExtension($0) }, 0.9)
            measures.append(extensionMeasure("hip–ankle extension vs. standing", { s.legExtension($0) },
                                             reference: extensionRef))
        }
        let startWindow = start.map { max(first, $0 - w)...$0 }
        let kneesStart = lockRule(.squatKneesLockedStart, measures: measures, window: startWindow,
                                  moment: "standing start", preface: preface)
        out.rules.insert(kneesStart, at: 0)
        out.decided[.squatKneesLockedStart] = start

        // One bottom, no downward movement on the way up.
        let bottoms = singleBottomRule(height: height, range: liftRange, travel: travel, lowest: lowest, thigh: thigh)
        out.rules.append(bottoms.rule)
        if let d = bottoms.decided { out.decided[.squatSingleBottom] = d }

        let fall = Movement.riseThenFall(height, in: liftRange)
        let downBand = Band(pass: config.downwardPass, fail: config.downwardFail, higherIsBetter: false)
        let downValue = fall.amount / thigh
        let downStatus = downBand.grade(downValue)
        let downNote: String
        if let slot = fall.slot, fall.amount > 0 {
            downNote = "largest downward movement after rising: \(fmt(fall.amount, 1)) px = \(fmt(downValue, 3)) thigh "
                + "from \(at(slot)) (\(downBand.describe(" thigh")))"
        } else {
            downNote = "the hips never moved down after starting up (\(downBand.describe(" thigh")))"
        }
        out.rules.append(result(.squatNoDownwardAscent, downStatus, value: downValue, band: downBand, unit: .thigh,
                                slot: fall.slot, note: downNote))
        out.decided[.squatNoDownwardAscent] = downStatus == .passed ? (lockout ?? last) : (fall.slot ?? last)

        // Knees locked at the finish: after reaching standing height, or at the highest point after the
        // bottom when the lifter never got there.
        let finish = finishWindow(height: height, after: bottom, lockout: lockout, last: last)
        out.problems += finish.problems
        let kneesFinish = lockRule(.squatKneesLockedFinish, measures: measures, window: finish.window,
                                   moment: "finish", complete: finish.complete, preface: preface + (lockout == nil
                                       ? "never back to standing height; best after the bottom: " : ""))
        out.rules.append(kneesFinish)
        out.decided[.squatKneesLockedFinish] = finish.window?.upperBound

        // Phases and key frames.
        let bottomZone = Movement.plateau(height, around: bottom, tolerance: tol) ?? bottom...bottom
        for i in 0..<n where height[i] != nil {
            if let start, i <= start {
                out.phases[i] = .setup
            } else if let lockout, i >= lockout {
                out.phases[i] = .lockout
            } else if bottomZone.contains(i) {
                out.phases[i] = .bottom
            } else if i < bottomZone.lowerBound {
                out.phases[i] = .descent
            } else {
                out.phases[i] = .ascent
            }
        }
        out.keySlots = (start, depth.slot ?? bottom, lockout)
        return out
    }

    /// `awaitingLift` for a squat, with the depth gauge on the thigh's median over those frames (the
    /// set-up's scale `judgeSquat` uses).
    private func awaitingSquat(_ out: inout LiftOutcome, present: [Int]) {
        guard let thigh = median(present.compactMap { s.thighLength($0) }), thigh > 1 else { return }
        awaitingLift(&out, present: present, kind: .squat)
        out.depthPx = (0..<s.count).map { s.depthMargin($0) }
        out.depthThigh = out.depthPx.map { $0.map { $0 / thigh } }
    }

    private func depthRule(margin: [Double?], thigh: Double, range: ClosedRange<Int>)
        -> (rule: RuleResult, slot: Int?, decided: Int?) {
        // Noise of the depth signal: the hip and knee y noise of the sides used.
        func noise(_ hip: BlazePoseLandmark, _ knee: BlazePoseLandmark) -> Double? {
            guard let a = s.series.y(hip).noise, let b = s.series.y(knee).noise else { return nil }
            return (a * a + b * b).squareRoot()
        }
        let noiseL = noise(.leftHip, .leftKnee), noiseR = noise(.rightHip, .rightKnee)
        var sigma: Double?
        switch s.legs {
        case .left: sigma = noiseL ?? noiseR
        case .right: sigma = noiseR ?? noiseL
        case .both:
            if let l = noiseL, let r = noiseR { sigma = (l * l + r * r).squareRoot() / 2 } else { sigma = noiseL ?? noiseR }
        }
        let noiseBand = config.depthNoiseFactor * (sigma ?? 0) / thigh
        let half = max(config.depthBand, noiseBand)
        let band = Band(pass: config.depthOffset + half, fail: config.depthOffset - half, higherIsBetter: true)
        guard let slot = Movement.argmax(margin, in: range), let highest = margin[slot] else {
            return (result(.squatDepth, .unknown, value: nil, band: band, unit: .thigh, slot: nil,
                           note: "hips and knees not visible at the bottom"), nil, nil)
        }
        // The deepest point: the vertex of a quadratic fitted around the highest smoothed margin. The
        // plain maximum of a noisy signal is biased deep by about one noise deviation; the fit is not,
        // and it keeps a rounded bottom's true depth.
        let fitHalf = max(1, Int((config.depthFitSeconds * s.fps / 2).rounded()))
        let fitRange = max(range.lowerBound, slot - fitHalf)...min(range.upperBound, slot + fitHalf)
        let m = Movement.quadraticPeak(margin, around: slot, in: fitRange) ?? highest
        let value = m / thigh
        var status = band.grade(value)
        var note = "at the bottom the hip centre is \(fmt(abs(m), 1)) px \(m >= 0 ? "below" : "above") the knee centre"
            + " = \(fmt(value, 3)) thigh (thigh \(fmt(thigh, 1)) px); the IPF boundary is modelled at "
            + "\(fmt(config.depthOffset, 3)) thigh ± \(fmt(half, 3)): \(band.describe(" thigh"))"
        if noiseBand > config.depthBand {
            note += "; band widened for a noisy track (noise \(fmt(sigma ?? 0, 1)) px per frame)"
        }
        // The bottom must have been seen: measured hips and knees, visible enough, around the deepest
        // frame. A clear pass stays a pass (the true bottom is at least as deep as what was seen).
        let h = max(fitHalf, Int((config.smoothingWindowSeconds * s.fps / 2).rounded()))
        let around = (slot - h)...(slot + h)
        let (hip, knee) = s.legs == .right ? (BlazePoseLandmark.rightHip, BlazePoseLandmark.rightKnee)
            : (BlazePoseLandmark.leftHip, BlazePoseLandmark.leftKnee)
        let (hip2, knee2) = s.legs == .right ? (BlazePoseLandmark.leftHip, BlazePoseLandmark.leftKnee)
            : (BlazePoseLandmark.rightHip, BlazePoseLandmark.rightKnee)
        let measuredCount = around.filter { i in
            (s.measured(hip, i) && s.measured(knee, i)) || (s.measured(hip2, i) && s.measured(knee2, i))
        }.count
        let visibility = around.map {
            s.visibility(of: [(.leftHip, .rightHip), (.leftKnee, .rightKnee)], choice: s.legs, at: $0)
        }.reduce(0, +) / Double(around.count)
        // Seen on both sides: every frame around the bottom has a value (measured or a short fill).
        let covered = around.allSatisfy { $0 >= 0 && $0 < margin.count && margin[$0] != nil }
        let seen = covered && measuredCount * 2 >= around.count && visibility >= config.minVisibility
        if !seen && status != .passed {
            status = .unknown
            note += "; the bottom was not seen clearly (hips/knees measured in \(measuredCount) of "
                + "\(around.count) frames around it, mean visibility \(fmt(visibility))), so it may have been deeper"
        }
        // Known once the lifter is clearly deep enough, or at the bottom.
        var decided = slot
        if status == .passed {
            decided = range.first { i in (margin[i].map { $0 / thigh } ?? -.infinity) >= band.pass } ?? slot
        }
        return (result(.squatDepth, status, value: value, band: band, unit: .thigh, slot: slot, note: note), slot, decided)
    }

    private func singleBottomRule(height: [Double?], range: ClosedRange<Int>, travel: Double, lowest: Double,
                                  thigh: Double) -> (rule: RuleResult, decided: Int?) {
        let zone = lowest + config.bottomZone * travel
        func bottoms(_ reversal: Double) -> [Int] {
            Movement.valleys(height, in: range, reversal: reversal).filter { (height[$0] ?? .infinity) <= zone }
        }
        let clear = bottoms(config.downwardFail * thigh)
        let loose = bottoms(config.downwardPass * thigh)
        let band = Band(pass: 1, fail: 2, higherIsBetter: false)
        let status: RuleStatus
        let count: Int
        let slot: Int?
        if clear.count >= 2 {
            status = .failed
            count = clear.count
            slot = clear[1]
        } else if loose.count >= 2 {
            status = .unknown
            count = loose.count
            slot = loose[1]
        } else {
            status = .passed
            count = max(1, loose.count)
            slot = loose.first
        }
        let note: String
        switch status {
        case .failed:
            note = "\(count) bottoms: the hips rose by ≥ \(fmt(config.downwardFail, 2)) thigh and sank back into "
                + "the bottom zone, second bottom at \(at(slot))"
        case .unknown:
            note = "\(count) possible bottoms separated by a rise between \(fmt(config.downwardPass, 2)) and "
                + "\(fmt(config.downwardFail, 2)) thigh (second at \(at(slot))): could be noise or a small bounce"
        case .passed:
            note = "one bottom"
        }
        var r = result(.squatSingleBottom, status, value: Double(count), band: band, unit: .count, slot: slot, note: note)
        r.threshold = 1
        r.reviewLow = nil
        r.reviewHigh = nil
        return (r, status == .passed ? range.upperBound : slot)
    }
}
