// The bench press (IPF): the bar motionless on the chest before the press, no downward movement during
// the press, elbows locked at the finish, buttocks on the bench throughout. The bar is the mid-point of
// the wrists.

import PoseData

extension LiftContext {
    func judgeBench() -> LiftOutcome {
        var out = LiftOutcome(count: s.count)
        let n = s.count
        let wristY = (0..<n).map { s.wristY($0) }
        let height = wristY.map { $0.map { -$0 } }
        out.trackedY = wristY
        let present = height.indices.filter { height[$0] != nil }
        guard let first = present.first, let last = present.last, present.count >= 3,
              var chest = Movement.argmin(height, in: first...last), var low = height[chest] else {
            out.problems.append("the lifter's wrists are not visible in enough frames to find a press")
            return out
        }
        // More than one press: the attempt is the first (as for the squat), so its chest frame and
        // travel are the first press's. The verdict is blocked below either way.
        let clipTop = Movement.values(height, in: first...last).max() ?? low
        let clipTol = config.phaseTolerance * (clipTop - low)
        let reps = Movement.repetitions(height, atRest: { $0 >= clipTop - clipTol },
                                        far: { $0 <= clipTop - (clipTop - low) / 2 })
        var end = last
        if reps > 1, let attempt = Movement.firstRepetition(height, atRest: { $0 >= clipTop - clipTol },
                                                            far: { $0 <= clipTop - (clipTop - low) / 2 }),
           let c = Movement.argmin(height, in: attempt), let v = height[c] {
            chest = c
            low = v
            end = attempt.upperBound
        }
        let topBefore = Movement.values(height, in: first...chest).max() ?? low
        let topAfter = Movement.values(height, in: chest...end).max() ?? low
        let travel = max(topBefore, topAfter) - low
        guard travel >= config.minTravel * s.torso else {
            out.problems.append("no press found: the bar moved only \(fmt(travel / s.torso)) torso lengths "
                                + "(at least \(fmt(config.minTravel)) needed)")
            if partial { awaitingLift(&out, present: present, kind: .bench) }
            return out
        }
        let tol = config.phaseTolerance * travel
        let fine = fineTolerance(travel: travel, noiseOf: [.leftWrist, .rightWrist])
        let w = lockWindowFrames
        let start = topBefore - low >= config.minTravel * s.torso
            ? (first...chest).reversed().first { (height[$0] ?? -.infinity) >= topBefore - tol }.map {
                Movement.refine(height, slot: $0, direction: -1, level: topBefore, fine: fine, limit: first...chest)
            } : nil
        let lockout = topAfter - low >= config.minTravel * s.torso
            ? (chest...last).first { (height[$0] ?? -.infinity) >= topAfter - tol }.map {
                Movement.refine(height, slot: $0, direction: 1, level: topAfter, fine: fine, limit: chest...last)
            } : nil
        let liftRange = (start ?? first)...(lockout ?? last)
        let top = max(topBefore, topAfter)
        if reps > 1 {
            out.blocking.append("\(reps) presses in the clip: a verdict is for one attempt")
        }
        out.problems += lostProblems(liftRange, available: { s.wristY($0) != nil }, what: "wrists")
        if start == nil { out.problems.append("the clip starts after the descent began: no start at arm's length") }

        // Motionless on the chest: around the lowest point, the bar's speed (central difference over
        // ±0.1 s of the smoothed height) stays below the speed tolerance and its height within the
        // motion tolerance of the lowest point.
        let speedTol = config.pauseSpeedTolerance * s.torso
        let rangeTol = config.pauseMotionTolerance * s.torso
        let k = max(1, Int((0.1 * s.fps).rounded()))
        let speed: [Double?] = (0..<n).map { i in
            guard i - k >= 0, i + k < n, let a = height[i - k], let b = height[i + k] else { return nil }
            return abs(b - a) / (2 * Double(k) / s.fps)
        }
        func still(_ i: Int) -> Bool {
            guard let v = speed[i], let y = height[i] else { return false }
            return v <= speedTol && abs(y - low) <= rangeTol
        }
        var pause = chest...chest
        if still(chest) {
            var a = chest, b = chest
            while a - 1 >= 0 && still(a - 1) { a -= 1 }
            while b + 1 < n && still(b + 1) { b += 1 }
            pause = a...b
        }
        let pauseSeconds = Double(pause.upperBound - pause.lowerBound) / s.fps
        let pauseBand = Band(pass: config.pausePassSeconds, fail: config.pauseFailSeconds, higherIsBetter: true)
        var pauseStatus = pauseBand.grade(pauseSeconds)
        var pauseNote = "the bar was still (slower than \(fmt(speedTol, 0)) px/s, within \(fmt(rangeTol, 1)) px of its "
            + "lowest point) for \(fmt(pauseSeconds)) s, \(at(pause.lowerBound)) to \(at(pause.upperBound)) "
            + "(\(pauseBand.describe(" s")))"
        let edgesSeen = (pause.lowerBound > first || start != nil) && pause.upperBound < last
        let measuredInPause = pause.filter { i in
            s.measured(.leftWrist, i) || s.measured(.rightWrist, i)
        }.count
        if pauseStatus != .failed && (!edgesSeen || measuredInPause * 2 < pause.count) {
            pauseStatus = .unknown
            pauseNote += "; the wrists were not measured through the pause"
        }
        out.rules.append(result(.benchPauseOnChest, pauseStatus, value: pauseSeconds, band: pauseBand,
                                unit: .seconds, slot: chest, note: pauseNote))
        out.decided[.benchPauseOnChest] = pause.upperBound

        // No downward movement during the press.
        let fall = Movement.riseThenFall(height, in: chest...(lockout ?? last))
        let downBand = Band(pass: config.downwardPass, fail: config.downwardFail, higherIsBetter: false)
        let downValue = fall.amount / s.torso
        let downStatus = downBand.grade(downValue)
        out.rules.append(result(.benchNoDownwardPress, downStatus, value: downValue, band: downBand, unit: .torso,
                                slot: fall.slot,
                                note: "largest downward movement of the bar during the press: \(fmt(fall.amount, 1)) px"
                                    + " = \(fmt(downValue, 3)) torso (\(downBand.describe(" torso")))"))
        out.decided[.benchNoDownwardPress] = downStatus == .passed ? (lockout ?? last) : (fall.slot ?? last)

        // Elbows locked at the finish.
        let finish = finishWindow(height: height, after: chest, lockout: lockout, last: last)
        out.problems += finish.problems
        // Arm's length: the 90th percentile of the shoulder–wrist distance while the bar is up.
        let up = present.filter { (height[$0] ?? -.infinity) >= top - tol }
        let armRef = quantile(up.compactMap { s.armExtension($0) }, 0.9)
        var measures: [LockMeasure] = []
        var preface = ""
        if s.view != .front {
            measures.append(angleMeasure("elbow angle", { s.elbowAngle($0) }))
        } else {
            preface = "view along the body, elbow angle not visible: "
        }
        measures.append(extensionMeasure("shoulder–wrist extension vs. arm's length", { s.armExtension($0) },
                                         reference: armRef))
        out.rules.append(lockRule(.benchElbowsLockedFinish, measures: measures, window: finish.window,
                                  moment: "finish", complete: finish.complete, preface: preface + (lockout == nil
                                      ? "the bar never returned to arm's length; best after the chest: " : "")))
        out.decided[.benchElbowsLockedFinish] = finish.window?.upperBound

        // Buttocks on the bench: the hips do not rise above their height at the start.
        let hipHeight = (0..<n).map { s.hipY($0).map { -$0 } }
        let baseRange = start.map { max(first, $0 - w)...$0 } ?? first...min(last, first + w)
        let buttBand = Band(pass: config.buttocksPass, fail: config.buttocksFail, higherIsBetter: false)
        if let base = median(Movement.values(hipHeight, in: baseRange)),
           let top = Movement.argmax(hipHeight, in: liftRange), let topValue = hipHeight[top] {
            let rise = max(0, topValue - base) / s.torso
            let status = buttBand.grade(rise)
            out.rules.append(result(.benchButtocksOnBench, status, value: rise, band: buttBand, unit: .torso, slot: top,
                                    note: "highest hip position during the lift: \(fmt(max(0, topValue - base), 1)) px"
                                        + " = \(fmt(rise, 3)) torso above the start (\(buttBand.describe(" torso")))"))
            out.decided[.benchButtocksOnBench] = status == .failed ? top : liftRange.upperBound
        } else {
            out.rules.append(result(.benchButtocksOnBench, .unknown, value: nil, band: buttBand, unit: .torso, slot: nil,
                                    note: "the hips are not visible"))
        }

        // Phases and key frames.
        for i in 0..<n where height[i] != nil {
            if let start, i <= start {
                out.phases[i] = .setup
            } else if let lockout, i >= lockout {
                out.phases[i] = .lockout
            } else if pause.contains(i) {
                out.phases[i] = .bottom
            } else if i < pause.lowerBound {
                out.phases[i] = .descent
            } else {
                out.phases[i] = .ascent
            }
        }
        out.keySlots = (start, chest, lockout)
        return out
    }
}
