// The judge: pose track in, verdict out. Pure: no I/O, no clocks, deterministic.

import PoseData

/// Judges a lift from its pose track. Never throws and never traps on bad input: unusable input gives
/// a `needs_review` verdict whose reasons say what was wrong.
///
/// - Parameters:
///   - lift: the lift if known (e.g. `--lift`); otherwise taken from `track.source` with
///     `LiftKind.fromKey`, otherwise inferred from the lifter's pose.
public func judge(_ track: PoseTrack, lift: LiftKind? = nil, config: JudgingConfig = .default) -> Verdict {
    Judge(config: config).judge(track, lift: lift)
}

/// The verdict plus the per-frame series the replay renderer draws (see `Analysis`).
public func analyze(_ track: PoseTrack, lift: LiftKind? = nil, config: JudgingConfig = .default) -> Analysis {
    Judge(config: config).analyze(track, lift: lift)
}

/// A judge with a fixed config.
public struct Judge: Sendable {
    public var config: JudgingConfig

    public init(config: JudgingConfig = .default) {
        self.config = config
    }

    public func judge(_ track: PoseTrack, lift: LiftKind? = nil) -> Verdict {
        analyze(track, lift: lift).verdict
    }

    /// `partial`: `track` is the start of a clip still arriving (the provisional judgments of the replay
    /// drawn during inference). A lift whose lifter has not moved yet is then analysed as set-up:
    /// every frame seen so far is `.setup` (for a squat, with the depth gauge measured on the set-up's
    /// thigh length) and the lift's rules are listed in `Analysis.pendingRules`, which is how the
    /// analysis of the whole clip will show those frames once the lift is found. The verdict is the
    /// same either way.
    public func analyze(_ track: PoseTrack, lift: LiftKind? = nil, partial: Bool = false) -> Analysis {
        // Frames in index order, duplicates dropped.
        var frames: [PoseFrame] = []
        var seen = Set<Int>()
        for f in track.frames.sorted(by: { $0.index < $1.index }) where seen.insert(f.index).inserted {
            frames.append(f)
        }
        var liftKind = lift
        var liftSource: LiftKindSource = lift == nil ? .unknown : .given
        if liftKind == nil, let k = LiftKind.fromKey(track.source) {
            liftKind = k
            liftSource = .key
        }

        func refuse(_ reasons: [String], tracks: [TrackSummary] = [], lifter: Int? = nil,
                    person: [Int?]? = nil) -> Analysis {
            let frameAnalyses = frames.enumerated().map { slot, f in
                FrameAnalysis(frame: f.index, time: time(of: f, slot: slot, fps: nil), phase: .unknown,
                              lifterPerson: person?[slot], depthMarginPx: nil, depthMarginThigh: nil, trackedY: nil)
            }
            let verdict = Verdict(decision: .needsReview, lift: liftKind, liftSource: liftSource, rules: [],
                                  keyFrames: KeyFrames(), lifterTrackId: lifter, view: nil, scale: nil,
                                  reasons: reasons, config: config)
            return Analysis(verdict: verdict, frames: frameAnalyses, ruleTimings: [], tracks: tracks)
        }

        do {
            try config.validate()
        } catch {
            return refuse([error.description])
        }
        guard !frames.isEmpty else { return refuse(["the pose track has no frames"]) }
        guard let fps = usableFPS(track.fps, frames: frames) else {
            return refuse(["the pose track's frame rate (\(track.fps)) is not usable and the frame times "
                           + "do not give one"])
        }

        var skipped = SkippedPeople()
        let tracks = Tracker.buildTracks(frames: frames.map(\.people), fps: fps, config: config, skipped: &skipped)
        var notes: [String] = []
        if skipped.malformed > 0 {
            notes.append("\(skipped.malformed) person entr\(skipped.malformed == 1 ? "y" : "ies") without 33 landmarks ignored")
        }
        if skipped.overLimit > 0 {
            notes.append("\(skipped.overLimit) low-score people beyond \(config.maxPeoplePerFrame) per frame ignored")
        }
        let choice = LifterSelector.choose(tracks, totalFrames: frames.count, frameWidth: Double(max(track.width, 1)),
                                           fps: fps, lift: liftKind, config: config)
        let summaries = tracks.map { t in
            TrackSummary(id: t.id, firstFrame: frames[t.firstSlot].index, lastFrame: frames[t.lastSlot].index,
                         frames: t.observations.count, score: roundTo(choice.scores[t.id] ?? 0, 4),
                         lifter: t.id == choice.lifter)
        }
        guard let lifterID = choice.lifter, let lifterTrack = tracks.first(where: { $0.id == lifterID }) else {
            var reasons = [choice.problem ?? "no lifter found"]
            if skipped.invisible > 0 {
                reasons.append("\(skipped.invisible) detected \(skipped.invisible == 1 ? "person had" : "people had") "
                               + "fewer than 3 landmarks with visibility ≥ \(fmt(config.minVisibility))")
            }
            return refuse(reasons + notes, tracks: summaries)
        }
        var person = [Int?](repeating: nil, count: frames.count)
        for o in lifterTrack.observations { person[o.slot] = o.personIndex }

        let times = frames.enumerated().map { time(of: $1, slot: $0, fps: fps) }
        guard let signals = LifterSignals(track: lifterTrack, slots: frames.count, times: times,
                                          frameIndices: frames.map(\.index), fps: fps, config: config) else {
            return refuse(["the lifter's shoulders and hips are never visible together"] + notes,
                          tracks: summaries, lifter: lifterID, person: person)
        }
        if liftKind == nil, let inferred = inferLift(signals, track: lifterTrack) {
            liftKind = inferred
            liftSource = .inferred
        }
        guard let kind = liftKind else {
            return refuse(["could not tell the lift from the file name or the pose; pass the lift explicitly"] + notes,
                          tracks: summaries, lifter: lifterID, person: person)
        }

        let context = LiftContext(s: signals, config: config, partial: partial)
        let outcome: LiftOutcome
        switch kind {
        case .squat: outcome = context.judgeSquat()
        case .bench: outcome = context.judgeBench()
        case .deadlift: outcome = context.judgeDeadlift()
        }

        let problems = outcome.problems
        // Problems that forbid any call: with two candidate lifters a failed rule may be the other
        // person's.
        var blocking: [String] = outcome.blocking
        if let rival = choice.rival {
            blocking.append("two people could be the lifter (tracks \(lifterID) and \(rival) score within "
                            + "\(fmt((1 - config.lifterAmbiguityRatio) * 100, 0)) %)")
        }
        let failed = outcome.rules.filter { $0.status == .failed }
        let unknown = outcome.rules.filter { $0.status == .unknown }
        let decision: Decision
        var reasons: [String] = []
        if !blocking.isEmpty {
            decision = .needsReview
            reasons += blocking + problems
            reasons += failed.map { "would fail \($0.id.rawValue): \($0.note)" }
            reasons += unknown.map { "undecided \($0.id.rawValue): \($0.note)" }
        } else if !failed.isEmpty {
            decision = .noLift
            reasons += failed.map { "failed \($0.id.rawValue): \($0.note)" }
            reasons += unknown.map { "also undecided \($0.id.rawValue): \($0.note)" }
            reasons += problems.map { "also: \($0)" }
        } else if !problems.isEmpty || !unknown.isEmpty || outcome.rules.isEmpty {
            decision = .needsReview
            reasons += problems
            reasons += unknown.map { "undecided \($0.id.rawValue): \($0.note)" }
            if outcome.rules.isEmpty && problems.isEmpty { reasons.append("no rule could be judged") }
        } else {
            decision = .goodLift
            reasons.append("all \(outcome.rules.count) \(kind.rawValue) rules passed clearly")
        }
        reasons += notes
        if liftSource == .inferred {
            reasons.append("lift inferred from the pose as \(kind.rawValue)")
        }

        func keyFrame(_ slot: Int?) -> KeyFrame? {
            guard let slot, slot >= 0, slot < frames.count else { return nil }
            return KeyFrame(frame: frames[slot].index, time: roundTo(times[slot], 4))
        }
        let keyFrames = KeyFrames(start: keyFrame(outcome.keySlots.start), bottom: keyFrame(outcome.keySlots.bottom),
                                  lockout: keyFrame(outcome.keySlots.lockout))
        let verdict = Verdict(decision: decision, lift: kind, liftSource: liftSource, rules: outcome.rules,
                              keyFrames: keyFrames, lifterTrackId: lifterID, view: signals.view,
                              scale: BodyScale(thighPx: outcome.thighPx.map { roundTo($0, 2) },
                                               torsoPx: roundTo(signals.torso, 2)),
                              reasons: reasons, config: config)
        let frameAnalyses = frames.enumerated().map { slot, f in
            FrameAnalysis(frame: f.index, time: roundTo(times[slot], 4), phase: outcome.phases[slot],
                          lifterPerson: person[slot],
                          depthMarginPx: outcome.depthPx[slot].map { roundTo($0, 2) },
                          depthMarginThigh: outcome.depthThigh[slot].map { roundTo($0, 4) },
                          trackedY: outcome.trackedY[slot].map { roundTo($0, 2) })
        }
        let timings = outcome.rules.map { r in
            let slot = outcome.decided[r.id]
            return RuleTiming(id: r.id, status: r.status, decidedFrame: keyFrame(slot)?.frame,
                              decidedTime: keyFrame(slot)?.time)
        }
        return Analysis(verdict: verdict, frames: frameAnalyses, ruleTimings: timings, tracks: summaries,
                        pendingRules: outcome.pendingRules)
    }

    /// The track's fps when sane (1...1000), else one from the median frame-time step.
    private func usableFPS(_ fps: Double, frames: [PoseFrame]) -> Double? {
        if fps.isFinite, fps >= 1, fps <= 1000 { return fps }
        var steps: [Double] = []
        for (a, b) in zip(frames, frames.dropFirst()) {
            let dt = (b.time - a.time) / Double(max(1, b.index - a.index))
            if dt.isFinite, dt > 0 { steps.append(dt) }
        }
        guard let step = median(steps), step > 0 else { return nil }
        let estimate = 1 / step
        return estimate.isFinite && estimate >= 1 && estimate <= 1000 ? estimate : nil
    }

    private func time(of frame: PoseFrame, slot: Int, fps: Double?) -> Double {
        if frame.time.isFinite { return frame.time }
        if let fps { return Double(frame.index) / fps }
        return Double(slot)
    }

    /// Lying = bench; otherwise wrists near the shoulders at the start = squat, at the hips or lower =
    /// deadlift; `nil` in between.
    func inferLift(_ s: LifterSignals, track: PeopleTrack) -> LiftKind? {
        if LifterSelector.lyingFraction(track, lyingDegrees: config.lyingTorsoDegrees,
                                        minVisibility: config.minVisibility) >= 0.5 {
            return .bench
        }
        let startFrames = max(3, Int((1.0 * s.fps).rounded()))
        var drops: [Double] = []
        for i in 0..<s.count {
            guard let sh = s.mid(.leftShoulder, .rightShoulder, i), let wr = s.wristY(i) else { continue }
            drops.append((wr - sh.y) / s.torso)
            if drops.count >= startFrames { break }
        }
        guard let drop = median(drops) else { return nil }
        if drop < config.squatWristDrop { return .squat }
        if drop > config.deadliftWristDrop { return .deadlift }
        return nil
    }
}
