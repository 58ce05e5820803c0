// The deadlift (IPF): no downward movement of the bar before lockout; at the finish the knees and hips
// are locked and the shoulders back (the lifter stands erect). The bar is the mid-point of the wrists.

import PoseData

extension LiftContext {
    func judgeDeadlift() -> LiftOutcome {
        var out = LiftOutcome(count: s.count)
        let n = s.count
        let wristY = (0..<n).map { s.wristY($0) }
        let height = wristY.map { $0.map { -$0 } }
        out.trackedY = wristY
        let present = height.indices.filter { height[$0] != nil }
        guard let first = present.first, let last = present.last, present.count >= 3,
              var top = Movement.argmax(height, in: first...last), var topValue = height[top],
              var floor = Movement.argmin(height, in: first...top), var floorValue = height[floor] else {
            out.problems.append("the lifter's wrists are not visible in enough frames to find a pull")
            return out
        }
        // More than one pull: the attempt is the first (as for the squat), so its top and floor are
        // the first pull's. The verdict is blocked below either way.
        let clipTol = config.phaseTolerance * (topValue - floorValue)
        let reps = Movement.repetitions(height, atRest: { [floorValue] in $0 <= floorValue + clipTol },
                                        far: { [topValue] in $0 >= topValue - clipTol })
        if reps > 1, let attempt = Movement.firstRepetition(height, atRest: { [floorValue] in $0 <= floorValue + clipTol },
                                                            far: { [topValue] in $0 >= topValue - clipTol }),
           let t = Movement.argmax(height, in: attempt), let tv = height[t],
           let f = Movement.argmin(height, in: first...t), let fv = height[f] {
            (top, topValue, floor, floorValue) = (t, tv, f, fv)
        }
        let travel = topValue - floorValue
        guard travel >= config.minTravel * s.torso else {
            out.problems.append("no pull found: the bar rose only \(fmt(travel / s.torso)) torso lengths "
                                + "(at least \(fmt(config.minTravel)) needed)")
            if partial { awaitingLift(&out, present: present, kind: .deadlift) }
            return out
        }
        let tol = config.phaseTolerance * travel
        let fine = fineTolerance(travel: travel, noiseOf: [.leftWrist, .rightWrist])
        let w = lockWindowFrames
        let coarseLockout = (floor...top).first { (height[$0] ?? -.infinity) >= topValue - tol } ?? top
        let lockoutSlot = Movement.refine(height, slot: coarseLockout, direction: 1, level: topValue, fine: fine,
                                          limit: coarseLockout...top)
        let coarseLiftoff = (floor...coarseLockout).reversed().first { (height[$0] ?? .infinity) <= floorValue + tol }
            ?? floor
        let liftoff = Movement.refine(height, slot: coarseLiftoff, direction: -1, level: floorValue, fine: fine,
                                      limit: floor...coarseLiftoff)
        let liftRange = liftoff...lockoutSlot
        if reps > 1 {
            out.blocking.append("\(reps) pulls in the clip: a verdict is for one attempt")
        }
        out.problems += lostProblems(liftRange, available: { s.wristY($0) != nil }, what: "wrists")

        // No downward movement of the bar before lockout.
        let fall = Movement.riseThenFall(height, in: liftRange)
        let downBand = Band(pass: config.downwardPass, fail: config.downwardFail, higherIsBetter: false)
        let downValue = fall.amount / s.torso
        let downStatus = downBand.grade(downValue)
        out.rules.append(result(.deadliftNoDownwardBar, downStatus, value: downValue, band: downBand, unit: .torso,
                                slot: fall.slot,
                                note: "largest downward movement of the bar before lockout: \(fmt(fall.amount, 1)) px"
                                    + " = \(fmt(downValue, 3)) torso (\(downBand.describe(" torso")))"))
        out.decided[.deadliftNoDownwardBar] = downStatus == .passed ? lockoutSlot : (fall.slot ?? lockoutSlot)

        // The finish: the hold at the top (the bar within the phase tolerance of its highest point), at
        // least `lockWindowSeconds` and at most 3 s from reaching it.
        var holdEnd = lockoutSlot
        while holdEnd + 1 <= min(last, lockoutSlot + Int(3 * s.fps)),
              let v = height[holdEnd + 1], v >= topValue - tol {
            holdEnd += 1
        }
        let finish = lockoutSlot...min(last, max(holdEnd, lockoutSlot + w))
        let complete = lockoutSlot + w <= last
        if !complete {
            out.problems.append(last < n - 1
                ? "lifter lost: not tracked after \(at(last)), during the lockout"
                : "the clip ends at \(at(last)), during the lockout")
        }
        let sideOnly = s.view == .front
            ? "front view: the lockout needs a side or oblique view; " : ""
        let kneeMeasures = s.view == .front ? [] : [angleMeasure("knee angle", { s.kneeAngle($0) })]
        let hipMeasures = s.view == .front ? [] : [angleMeasure("hip angle", { s.hipAngle($0) })]
        var knees = lockRule(.deadliftKneesLockedFinish, measures: kneeMeasures, window: finish, moment: "lockout",
                             complete: complete)
        var hips = lockRule(.deadliftHipsLockedFinish, measures: hipMeasures, window: finish, moment: "lockout",
                            complete: complete)
        if s.view == .front {
            knees.note = sideOnly + "knee angle not visible"
            hips.note = sideOnly + "hip angle not visible"
        }
        out.rules.append(knees)
        out.rules.append(hips)
        out.decided[.deadliftKneesLockedFinish] = finish.upperBound
        out.decided[.deadliftHipsLockedFinish] = finish.upperBound

        // Shoulders back: the torso's forward lean from vertical, most upright moment of the hold.
        let leanBand = Band(pass: config.shouldersPassDegrees, fail: config.shouldersFailDegrees, higherIsBetter: false)
        if s.view == .front {
            out.rules.append(result(.deadliftShouldersBackFinish, .unknown, value: nil, band: leanBand, unit: .degrees,
                                    slot: nil, note: sideOnly + "forward lean not visible"))
        } else if let facing = facingDirection() {
            var best: (value: Double, slot: Int)?
            for i in finish {
                guard let sh = s.mid(.leftShoulder, .rightShoulder, i), let hp = s.mid(.leftHip, .rightHip, i) else {
                    continue
                }
                let lean = atan2Degrees((sh.x - hp.x) * facing, hp.y - sh.y)
                if best == nil || lean < best?.value ?? lean { best = (lean, i) }
            }
            if let best {
                var status = leanBand.grade(best.value)
                if !complete && status == .failed { status = .unknown }
                out.rules.append(result(.deadliftShouldersBackFinish, status, value: best.value, band: leanBand,
                                        unit: .degrees, slot: best.slot,
                                        note: "torso leans \(fmt(best.value, 1))° \(best.value >= 0 ? "forward" : "back")"
                                            + " of vertical at \(at(best.slot)) (\(leanBand.describe("°")))"))
            } else {
                out.rules.append(result(.deadliftShouldersBackFinish, .unknown, value: nil, band: leanBand,
                                        unit: .degrees, slot: nil, note: "shoulders or hips not visible at lockout"))
            }
        } else {
            out.rules.append(result(.deadliftShouldersBackFinish, .unknown, value: nil, band: leanBand, unit: .degrees,
                                    slot: nil, note: "cannot tell which way the lifter faces (feet and nose unclear)"))
        }
        out.decided[.deadliftShouldersBackFinish] = finish.upperBound

        for i in 0..<n where height[i] != nil {
            if i < liftoff {
                out.phases[i] = .setup
            } else if i < lockoutSlot {
                out.phases[i] = .ascent
            } else {
                out.phases[i] = .lockout
            }
        }
        out.keySlots = (liftoff, nil, lockoutSlot)
        return out
    }

    /// +1 when the lifter faces image-right, -1 when image-left, from heel → toe (then nose vs.
    /// shoulders); `nil` when unclear.
    func facingDirection() -> Double? {
        var foot: [Double] = []
        var nose: [Double] = []
        for i in 0..<s.count {
            let l = s.point(.leftFootIndex, i).flatMap { t in s.point(.leftHeel, i).map { t.x - $0.x } }
            let r = s.point(.rightFootIndex, i).flatMap { t in s.point(.rightHeel, i).map { t.x - $0.x } }
            if let v = s.combine(s.legs, left: l, right: r) { foot.append(v) }
            if let nz = s.point(.nose, i), let sh = s.mid(.leftShoulder, .rightShoulder, i) { nose.append(nz.x - sh.x) }
        }
        if let m = median(foot), abs(m) >= 0.05 * s.torso { return m > 0 ? 1 : -1 }
        if let m = median(nose), abs(m) >= 0.05 * s.torso { return m > 0 ? 1 : -1 }
        return nil
    }
}
