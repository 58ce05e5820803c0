// Properties over hundreds of seeded synthetic lifts: a clear truth gets the right call; a truth inside
// an uncertainty band gets needs_review (or at most the call on its own side), never the opposite call;
// the lifter is one person for the whole clip and is never confused with the people around.

import PoseData
import Testing
@testable import Judging
import Scaling

/// What a case allows.
struct Expected: CustomStringConvertible {
    var allowed: Set<Decision>

    static func exactly(_ d: Decision) -> Expected { Expected(allowed: [d]) }
    static func oneOf(_ d: Decision...) -> Expected { Expected(allowed: Set(d)) }

    var description: String { allowed.map(\.rawValue).sorted().joined(separator: " or ") }
}

/// Checks the verdict against the expectation and the lifter against the generator's truth.
func check(_ clip: SyntheticClip, _ expected: Expected, lift: LiftKind, inferred: Bool,
           sourceLocation: SourceLocation = #_sourceLocation) {
    let a = analyze(clip.track)
    let v = a.verdict
    let summary = "\(clip.description)\n → \(v.decision.rawValue): "
        + v.rules.map { "\($0.id.rawValue)=\($0.status.rawValue)(\($0.value.map { fmt($0, 3) } ?? "-"))" }
            .joined(separator: " ") + "\n   reasons: \(v.reasons)"
    #expect(expected.allowed.contains(v.decision), "expected \(expected): \(summary)", sourceLocation: sourceLocation)
    #expect(v.lift == lift, "lift \(v.lift?.rawValue ?? "nil"): \(summary)", sourceLocation: sourceLocation)
    #expect(v.liftSource == (inferred ? .inferred : .key), sourceLocation: sourceLocation)
    // The lifter: whenever the judge names a person, it is the lifter, in every frame.
    var wrong = 0
    for (f, truth) in zip(a.frames, clip.lifterIndex) {
        if let chosen = f.lifterPerson, chosen != truth { wrong += 1 }
    }
    #expect(wrong == 0, "lifter confused in \(wrong) frames: \(summary)", sourceLocation: sourceLocation)
    let tracked = a.frames.filter { $0.lifterPerson != nil }.count
    let present = clip.lifterIndex.compactMap { $0 }.count
    #expect(tracked * 10 >= present * 9, "lifter tracked in only \(tracked) of \(present) frames: \(summary)",
            sourceLocation: sourceLocation)
}

@Suite("Synthetic lifts: properties")
struct SyntheticPropertyTests {
    static let config = JudgingConfig.default

    // MARK: Squat

    enum SquatKind: String, CaseIterable {
        case good, shallow, innerBand, edgeDeep, edgeShallow, bounce, hitch, noLockout
    }

    static func squatCase(_ seed: Int) -> (SyntheticClip, Expected, Bool) {
        var r = SeededRandom(seed: UInt64(seed) &* 0x9E37_79B9 &+ 101)
        var s = SquatSpec.random(&r)
        let kind = SquatKind.allCases[seed % SquatKind.allCases.count]
        let c = config
        s.bystanders = Synth.randomBystanders(&r, duration: 6, lift: .squat)
        let expected: Expected
        switch kind {
        case .good:
            s.depth = r.uniform(c.depthOffset + c.depthBand + 0.05, 0.55)
            expected = .exactly(.goodLift)
        case .shallow:
            s.depth = r.uniform(-0.55, c.depthOffset - c.depthBand - 0.05)
            expected = .exactly(.noLift)
        case .innerBand:
            // Truth well inside the band: the judge must ask for review.
            s.depth = r.uniform(c.depthOffset - 0.03, c.depthOffset + 0.015)
            expected = .exactly(.needsReview)
        case .edgeDeep:
            s.depth = r.uniform(c.depthOffset + 0.01, c.depthOffset + c.depthBand + 0.05)
            expected = .oneOf(.goodLift, .needsReview)
        case .edgeShallow:
            s.depth = r.uniform(c.depthOffset - c.depthBand - 0.05, c.depthOffset - 0.01)
            expected = .oneOf(.noLift, .needsReview)
        case .bounce:
            s.depth = r.uniform(0.2, 0.5)
            s.bounce = r.uniform(0.18, 0.35)
            expected = .exactly(.noLift)
        case .hitch:
            s.depth = r.uniform(0.2, 0.5)
            s.hitch = r.uniform(0.17, 0.3)
            expected = .exactly(.noLift)
        case .noLockout:
            s.depth = r.uniform(0.2, 0.5)
            s.finishBend = r.uniform(0.4, 0.6)
            expected = .exactly(.noLift)
        }
        let named = seed % 3 != 0
        return (s.clip(seed: UInt64(seed), named: named), expected, !named)
    }

    @Test("squats: clear truths get the right call, band truths never the opposite", arguments: 0..<160)
    func squat(seed: Int) {
        let (clip, expected, inferred) = Self.squatCase(seed)
        check(clip, expected, lift: .squat, inferred: inferred)
    }

    // MARK: Bench

    enum BenchKind: CaseIterable { case good, touchAndGo, hitch, noLockout, buttocks }

    static func benchCase(_ seed: Int) -> (SyntheticClip, Expected, Bool) {
        var r = SeededRandom(seed: UInt64(seed) &* 0x85EB_CA6B &+ 7)
        var b = BenchSpec.random(&r)
        let expected: Expected
        switch BenchKind.allCases[seed % BenchKind.allCases.count] {
        case .good:
            b.pause = r.uniform(0.7, 1.3)
            expected = .exactly(.goodLift)
        case .touchAndGo:
            b.touchAndGo = true
            expected = .exactly(.noLift)
        case .hitch:
            b.hitch = r.uniform(0.2, 0.32)
            expected = .exactly(.noLift)
        case .noLockout:
            b.finishReach = r.uniform(0.78, 0.86)
            expected = .exactly(.noLift)
        case .buttocks:
            b.buttocks = r.uniform(0.2, 0.35)
            expected = .exactly(.noLift)
        }
        let named = seed % 3 != 0
        return (b.clip(seed: UInt64(seed), named: named), expected, !named)
    }

    @Test("bench presses: clear truths get the right call", arguments: 0..<60)
    func bench(seed: Int) {
        let (clip, expected, inferred) = Self.benchCase(seed)
        check(clip, expected, lift: .bench, inferred: inferred)
    }

    // MARK: Deadlift

    enum DeadliftKind: CaseIterable { case good, hitch, softKnees, leaning }

    static func deadliftCase(_ seed: Int) -> (SyntheticClip, Expected, Bool) {
        var r = SeededRandom(seed: UInt64(seed) &* 0xC2B2_AE35 &+ 3)
        var d = DeadliftSpec.random(&r)
        let expected: Expected
        switch DeadliftKind.allCases[seed % DeadliftKind.allCases.count] {
        case .good:
            d.finishLean = r.uniform(-6, 3)
            expected = .exactly(.goodLift)
        case .hitch:
            d.hitch = r.uniform(0.2, 0.32)
            expected = .exactly(.noLift)
        case .softKnees:
            // Clearly bent, but still a pull: at least 20° straighter than at the start.
            d.startKnee = min(d.startKnee, 110)
            d.finishKnee = r.uniform(max(125, d.startKnee + 20), 140)
            expected = .exactly(.noLift)
        case .leaning:
            d.finishLean = r.uniform(28, 40)
            expected = .exactly(.noLift)
        }
        let named = seed % 3 != 0
        return (d.clip(seed: UInt64(seed), named: named), expected, !named)
    }

    @Test("deadlifts: clear truths get the right call", arguments: 0..<56)
    func deadlift(seed: Int) {
        let (clip, expected, inferred) = Self.deadliftCase(seed)
        check(clip, expected, lift: .deadlift, inferred: inferred)
    }
}
