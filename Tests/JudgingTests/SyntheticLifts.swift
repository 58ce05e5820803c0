// A synthetic kinematics generator: parametrised squats, bench presses and deadlifts of a 3-D stick
// figure, projected by a camera at any yaw, with BlazePose-like noise, dropouts, outliers and other
// people in the frame. Each case knows its truth (depth, downward movements, bounces, lockout).
//
// World frame of the lifter: x = the lifter's left, y = up, z = forward (where the lifter faces),
// metres; the floor is y = 0. Camera yaw 0 = in front of the lifter, 90° = at the lifter's right side
// (the lifter then faces image-right).

import Foundation
import PoseData
@testable import Judging
import Scaling

struct V3 {
    var x, y, z: Double
    static func + (a: V3, b: V3) -> V3 { V3(x: a.x + b.x, y: a.y + b.y, z: a.z + b.z) }
    static func - (a: V3, b: V3) -> V3 { V3(x: a.x - b.x, y: a.y - b.y, z: a.z - b.z) }
    static func * (a: V3, k: Double) -> V3 { V3(x: a.x * k, y: a.y * k, z: a.z * k) }
    var length: Double { (x * x + y * y + z * z).squareRoot() }
    var unit: V3 { let l = length; return l > 0 ? self * (1 / l) : self }
    func dot(_ b: V3) -> Double { x * b.x + y * b.y + z * b.z }
    func cross(_ b: V3) -> V3 { V3(x: y * b.z - z * b.y, y: z * b.x - x * b.z, z: x * b.y - y * b.x) }
}

func rad(_ d: Double) -> Double { d * .pi / 180 }

/// Segment lengths (m).
struct Body {
    var thigh = 0.45, shank = 0.42, torso = 0.52, upperArm = 0.30, forearm = 0.27
    var hipWidth = 0.20, shoulderWidth = 0.38, head = 0.25, ankleHeight = 0.08

    static func random(_ r: inout SeededRandom) -> Body {
        let k = r.uniform(0.85, 1.15)
        var b = Body()
        b.thigh *= k * r.uniform(0.9, 1.1)
        b.shank *= k * r.uniform(0.9, 1.1)
        b.torso *= k * r.uniform(0.9, 1.1)
        b.upperArm *= k * r.uniform(0.92, 1.08)
        b.forearm *= k * r.uniform(0.92, 1.08)
        b.hipWidth *= k * r.uniform(0.9, 1.15)
        b.shoulderWidth *= k * r.uniform(0.9, 1.15)
        b.head *= k
        return b
    }
}

/// The key joints of one pose.
struct Joints {
    var shoulderL, shoulderR, elbowL, elbowR, wristL, wristR: V3
    var hipL, hipR, kneeL, kneeR, ankleL, ankleR: V3
    /// Unit vectors: where the face/feet point, and the head's up direction.
    var forward: V3
    var headUp: V3

    /// The 33 BlazePose landmarks, with a lateral side per landmark (+1 left, -1 right, 0 centre).
    func landmarks() -> [(V3, Double)] {
        let neck = (shoulderL + shoulderR) * 0.5
        let lateral = (shoulderL - shoulderR).unit
        let headC = neck + headUp * 0.17
        let nose = headC + forward * 0.09
        var out: [(V3, Double)] = []
        out.append((nose, 0))
        for s in [1.0, -1.0] {  // eyes: inner, centre, outer per side (left first)
            for k in [0.015, 0.03, 0.045] { out.append((nose + headUp * 0.03 + lateral * (s * k) - forward * 0.01, s)) }
        }
        // BlazePose order: 1-3 left eye, 4-6 right eye.
        out.append((headC + lateral * 0.075, 1))   // 7 left ear
        out.append((headC - lateral * 0.075, -1))  // 8 right ear
        out.append((nose - headUp * 0.04 + lateral * 0.02, 1))
        out.append((nose - headUp * 0.04 - lateral * 0.02, -1))
        out.append((shoulderL, 1)); out.append((shoulderR, -1))
        out.append((elbowL, 1)); out.append((elbowR, -1))
        out.append((wristL, 1)); out.append((wristR, -1))
        let handL = (wristL - elbowL).unit, handR = (wristR - elbowR).unit
        for (k, off) in [(0.08, 0.02), (0.09, 0.0), (0.05, -0.02)] {  // pinky, index, thumb
            out.append((wristL + handL * k + lateral * off, 1))
            out.append((wristR + handR * k - lateral * off, -1))
        }
        out.append((hipL, 1)); out.append((hipR, -1))
        out.append((kneeL, 1)); out.append((kneeR, -1))
        out.append((ankleL, 1)); out.append((ankleR, -1))
        let down = V3(x: 0, y: -1, z: 0)
        out.append((ankleL - forward * 0.06 + down * 0.05, 1)); out.append((ankleR - forward * 0.06 + down * 0.05, -1))
        out.append((ankleL + forward * 0.17 + down * 0.07, 1)); out.append((ankleR + forward * 0.17 + down * 0.07, -1))
        return out
    }
}

/// Two-link inverse kinematics: the elbow (or knee) between `a` and `c` with segment lengths l1, l2,
/// bending toward `pole`.
func ik(_ a: V3, _ c: V3, _ l1: Double, _ l2: Double, pole: V3) -> V3 {
    let d = c - a
    let dist = min(d.length, l1 + l2 - 1e-9)
    let u = d.unit
    let along = (l1 * l1 - l2 * l2 + dist * dist) / (2 * dist)
    let h = max(0, l1 * l1 - along * along).squareRoot()
    var n = pole - u * pole.dot(u)
    if n.length < 1e-9 { n = V3(x: 0, y: 0, z: 1) - u * u.z }
    return a + u * along + n.unit * h
}

/// Camera and image.
struct Camera {
    var yaw: Double
    /// Pixels per metre at the lifter.
    var scale: Double
    var originX: Double
    var groundY: Double
    var width = 1280
    var height = 720

    var right: V3 { V3(x: cos(rad(yaw)), y: 0, z: sin(rad(yaw))) }
    /// Unit vector from the scene toward the camera.
    var toward: V3 { V3(x: -sin(rad(yaw)), y: 0, z: cos(rad(yaw))) }

    func project(_ p: V3, scale k: Double = 1, offsetX: Double = 0) -> (x: Double, y: Double) {
        (originX + offsetX + scale * k * p.dot(right), groundY - scale * k * p.y)
    }
}

/// A timeline of progress values: piecewise segments with easing.
struct Timeline {
    enum Ease { case smooth, accelerate, decelerate, linear }
    struct Segment { var duration: Double; var from: Double; var to: Double; var ease: Ease }
    var segments: [Segment] = []

    mutating func hold(_ d: Double, at v: Double) { segments.append(Segment(duration: d, from: v, to: v, ease: .linear)) }
    mutating func move(_ d: Double, to v: Double, _ ease: Ease = .smooth) {
        let from = segments.last?.to ?? v
        segments.append(Segment(duration: d, from: from, to: v, ease: ease))
    }

    var duration: Double { segments.reduce(0) { $0 + $1.duration } }

    func value(at t: Double) -> Double {
        var t0 = 0.0
        for s in segments where s.duration > 0 {
            if t <= t0 + s.duration {
                let u = s.duration > 0 ? max(0, min(1, (t - t0) / s.duration)) : 1
                let e: Double
                switch s.ease {
                case .smooth: e = (1 - cos(.pi * u)) / 2
                case .accelerate: e = u * u
                case .decelerate: e = 1 - (1 - u) * (1 - u)
                case .linear: e = u
                }
                return s.from + (s.to - s.from) * e
            }
            t0 += s.duration
        }
        return segments.last?.to ?? 0
    }
}

/// Noise and data faults.
struct NoiseSpec {
    var jitterPx = 0.0
    var hipBiasPx = 0.0
    /// Probability per frame that a dropout (lifter missing) of 1-3 frames starts.
    var dropoutRate = 0.0
    /// Probability per frame that one landmark of the lifter goes invisible for 1-4 frames.
    var landmarkDropRate = 0.0
    /// Probability per frame that one landmark jumps 25-60 px for one frame (still "visible").
    var outlierRate = 0.0

    static func random(_ r: inout SeededRandom) -> NoiseSpec {
        NoiseSpec(jitterPx: r.uniform(0, 3), hipBiasPx: r.chance(0.5) ? 1.7 : 0,
                  dropoutRate: r.chance(0.4) ? r.uniform(0, 0.03) : 0,
                  landmarkDropRate: r.chance(0.4) ? r.uniform(0, 0.05) : 0,
                  outlierRate: r.chance(0.4) ? r.uniform(0, 0.03) : 0)
    }
}

/// Someone else in the frame.
struct Bystander {
    enum Kind { case spotter, walker, referee }
    var kind: Kind
    var body: Body
    /// World position (m) relative to the lifter at t = 0, and facing (degrees about y).
    var x: Double
    var z: Double
    var facing: Double
    /// Metres per second along x (walkers).
    var speed: Double = 0
    /// Seconds during which the person is in the frame.
    var from: Double = 0
    var until: Double = .infinity
}

/// A generated clip: the pose track plus its truth.
struct SyntheticClip {
    var track: PoseTrack
    /// Per frame, the index of the lifter in `people` (nil in dropouts).
    var lifterIndex: [Int?]
    var description: String
}

enum Synth {
    /// A standing (or part-squatting) person's joints, feet planted at the origin.
    static func squatJoints(_ b: Body, alpha: Double, beta: Double, gamma: Double, kneeOut: Double,
                            barOnBack: Bool = true) -> Joints {
        let stance = b.hipWidth / 2 + 0.06
        func leg(_ s: Double) -> (hip: V3, knee: V3, ankle: V3) {
            let ankle = V3(x: s * stance, y: b.ankleHeight, z: 0)
            let knee = ankle + V3(x: s * kneeOut, y: b.shank * cos(rad(beta)), z: b.shank * sin(rad(beta)))
            let hip = V3(x: s * b.hipWidth / 2, y: knee.y + b.thigh * cos(rad(alpha)), z: knee.z - b.thigh * sin(rad(alpha)))
            return (hip, knee, ankle)
        }
        let l = leg(1), r = leg(-1)
        let midHip = (l.hip + r.hip) * 0.5
        let up = V3(x: 0, y: cos(rad(gamma)), z: sin(rad(gamma)))
        let neck = midHip + up * b.torso
        let sl = neck + V3(x: b.shoulderWidth / 2, y: 0, z: 0), sr = neck - V3(x: b.shoulderWidth / 2, y: 0, z: 0)
        var wl: V3, wr: V3
        if barOnBack {
            // Hands on the bar behind the neck.
            wl = sl + V3(x: 0.16, y: 0.03, z: -0.1)
            wr = sr + V3(x: -0.16, y: 0.03, z: -0.1)
        } else {
            wl = sl + V3(x: 0.02, y: -(b.upperArm + b.forearm) * 0.999, z: 0)
            wr = sr + V3(x: -0.02, y: -(b.upperArm + b.forearm) * 0.999, z: 0)
        }
        let el = ik(sl, wl, b.upperArm, b.forearm, pole: V3(x: 0.3, y: -1, z: -0.6))
        let er = ik(sr, wr, b.upperArm, b.forearm, pole: V3(x: -0.3, y: -1, z: -0.6))
        return Joints(shoulderL: sl, shoulderR: sr, elbowL: el, elbowR: er, wristL: wl, wristR: wr,
                      hipL: l.hip, hipR: r.hip, kneeL: l.knee, kneeR: r.knee, ankleL: l.ankle, ankleR: r.ankle,
                      forward: V3(x: 0, y: 0, z: 1), headUp: up)
    }

    /// Renders frames: the lifter's joints per time, plus bystanders, through the camera with noise.
    static func render(duration: Double, fps: Double, camera: Camera, noise: NoiseSpec,
                       bystanders: [Bystander], source: String, rng r: inout SeededRandom,
                       lifter: (Double) -> Joints, bystanderMotion: (Double) -> Double = { _ in 0 })
        -> (track: PoseTrack, lifterIndex: [Int?]) {
        let n = Int((duration * fps).rounded())
        var frames: [PoseFrame] = []
        var lifterIndex: [Int?] = []
        var dropLeft = 0
        var landmarkDrops: [Int: Int] = [:]
        for i in 0..<n {
            let t = Double(i) / fps
            var people: [PersonPose] = []
            // The lifter.
            if dropLeft > 0 {
                dropLeft -= 1
            } else if r.chance(noise.dropoutRate) {
                dropLeft = r.int(0...2)
            } else {
                for (k, v) in landmarkDrops { landmarkDrops[k] = v > 1 ? v - 1 : nil }
                if r.chance(noise.landmarkDropRate) { landmarkDrops[r.int(11...28)] = r.int(1...4) }
                let outlier = r.chance(noise.outlierRate) ? r.int(11...28) : -1
                let lms = lifter(t).landmarks()
                var out: [Landmark] = []
                for (k, (p, side)) in lms.enumerated() {
                    let q = camera.project(p)
                    let far = side * sin(rad(camera.yaw)) > 0
                    let vis = far ? 0.95 - 0.35 * abs(sin(rad(camera.yaw))) : 0.95
                    let jitter = noise.jitterPx * (far ? 1.5 : 1)
                    var x = q.x + jitter * r.normal(), y = q.y + jitter * r.normal()
                    var v = max(0.05, min(1, vis + 0.03 * r.normal()))
                    if k == 23 || k == 24 { y += noise.hipBiasPx }
                    if landmarkDrops[k] != nil {
                        v = r.uniform(0.02, 0.3)
                        x += r.uniform(-40, 40); y += r.uniform(-40, 40)
                    }
                    if k == outlier {
                        let a = r.uniform(0, 2 * .pi), m = r.uniform(25, 60)
                        x += m * cos(a); y += m * sin(a)
                    }
                    out.append(Landmark(x: x, y: y, visibility: v))
                }
                people.append(PersonPose(score: r.uniform(0.85, 1), landmarks: out))
            }
            var lifterAt: Int? = people.isEmpty ? nil : 0
            // Bystanders.
            for by in bystanders where t >= by.from && t <= by.until {
                let part = by.kind == .spotter ? bystanderMotion(t) : 0
                let j = squatJoints(by.body, alpha: 60 * part, beta: 20 * part, gamma: 25 * part, kneeOut: 0,
                                    barOnBack: false)
                let c = cos(rad(by.facing)), s = sin(rad(by.facing))
                let x0 = by.x + by.speed * (t - by.from)
                let depthScale = 1 / (1 - 0.25 * by.z)  // further away (z < 0) = smaller
                var out: [Landmark] = []
                for (p, _) in j.landmarks() {
                    let rotated = V3(x: p.x * c + p.z * s, y: p.y, z: -p.x * s + p.z * c)
                    let world = rotated + V3(x: x0, y: 0, z: by.z)
                    let q = camera.project(world, scale: depthScale)
                    let xj = noise.jitterPx * r.normal(), yj = noise.jitterPx * r.normal()
                    out.append(Landmark(x: q.x + xj, y: q.y + yj, visibility: max(0.05, min(1, 0.9 + 0.05 * r.normal()))))
                }
                // Only people at least partly inside the image are detected.
                let inside = out.contains { $0.x >= 0 && $0.x < Double(camera.width) }
                if inside { people.append(PersonPose(score: r.uniform(0.6, 0.99), landmarks: out)) }
            }
            // The model reports people in no particular order.
            for a in stride(from: people.count - 1, to: 0, by: -1) {
                let b = r.int(0...a)
                people.swapAt(a, b)
                if lifterAt == a { lifterAt = b } else if lifterAt == b { lifterAt = a }
            }
            frames.append(PoseFrame(index: i, time: t, people: people))
            lifterIndex.append(lifterAt)
        }
        return (PoseTrack(source: source, width: camera.width, height: camera.height, fps: fps, frames: frames),
                lifterIndex)
    }

    static func randomBystanders(_ r: inout SeededRandom, duration: Double, lift: LiftKind) -> [Bystander] {
        var out: [Bystander] = []
        if r.chance(0.35) {  // spotters / loaders behind, at the sides
            for s in [1.0, -1.0] where r.chance(0.7) {
                out.append(Bystander(kind: .spotter, body: Body.random(&r), x: s * r.uniform(0.9, 1.4),
                                     z: r.uniform(-1.2, -0.6), facing: r.uniform(-30, 30)))
            }
        }
        if r.chance(0.3) {  // someone walking through
            let dir = r.chance(0.5) ? 1.0 : -1.0
            let from = r.uniform(0, duration * 0.6)
            out.append(Bystander(kind: .walker, body: Body.random(&r), x: -dir * 3.2, z: r.uniform(-2.0, -0.8),
                                 facing: dir * 90, speed: dir * r.uniform(1.0, 1.6), from: from,
                                 until: from + r.uniform(2.5, 5)))
        }
        if r.chance(0.25) {  // a referee at the side, further back
            out.append(Bystander(kind: .referee, body: Body.random(&r), x: r.chance(0.5) ? 1.9 : -1.9,
                                 z: r.uniform(-2.2, -1.6), facing: r.uniform(-20, 20)))
        }
        return out
    }
}

// MARK: - Squat

struct SquatSpec: CustomStringConvertible {
    /// Hip centre below the knee centre at the bottom, in thigh lengths (the truth).
    var depth: Double
    var yaw: Double
    var descent = 1.2, ascent = 1.4, pause = 0.1, standBefore = 0.8, standAfter = 0.8
    /// Rise (thigh) before sinking back to the bottom a second time; 0 = none.
    var bounce = 0.0
    /// Downward hip movement (thigh) half-way up; 0 = none.
    var hitch = 0.0
    /// Progress at the finish: 0 = standing locked, 0.4 = well bent (no lockout).
    var finishBend = 0.0
    var body = Body()
    var noise = NoiseSpec()
    var bystanders: [Bystander] = []
    var scale = 300.0
    var fps = 30.0
    var shinLean = 35.0
    var torsoLean = 40.0
    var kneeOut = 0.04
    /// Image x of the lifter's feet; random near the centre when nil.
    var originX: Double?

    var description: String {
        "squat depth \(fmt(depth, 3)) yaw \(fmt(yaw, 0)) bounce \(fmt(bounce, 3)) hitch \(fmt(hitch, 3)) "
            + "finishBend \(fmt(finishBend)) jitter \(fmt(noise.jitterPx, 1)) drop \(fmt(noise.dropoutRate, 3)) "
            + "lmDrop \(fmt(noise.landmarkDropRate, 3)) outl \(fmt(noise.outlierRate, 3)) "
            + "people \(bystanders.map { "\($0.kind)" }) scale \(fmt(scale, 0)) fps \(fmt(fps, 0))"
    }

    var bottomAlpha: Double { 90 + asin(max(-0.99, min(0.99, depth))) * 180 / .pi }

    func joints(_ p: Double) -> Joints {
        Synth.squatJoints(body, alpha: bottomAlpha * p, beta: shinLean * p, gamma: torsoLean * p, kneeOut: kneeOut * p)
    }

    /// Hip height (m) at progress p.
    func hipHeight(_ p: Double) -> Double {
        body.ankleHeight + body.shank * cos(rad(shinLean * p)) + body.thigh * cos(rad(bottomAlpha * p))
    }

    /// The progress at which the hip is `amount` thigh lengths higher than at progress `from` (bisection).
    func progress(risingBy amount: Double, from: Double) -> Double {
        let target = hipHeight(from) + amount * body.thigh
        var lo = 0.0, hi = from
        for _ in 0..<60 {
            let mid = (lo + hi) / 2
            if hipHeight(mid) > target { lo = mid } else { hi = mid }
        }
        return (lo + hi) / 2
    }

    func timeline() -> Timeline {
        var t = Timeline()
        t.hold(standBefore, at: 0)
        t.move(descent, to: 1)
        t.hold(pause, at: 1)
        if bounce > 0 {
            let top = progress(risingBy: bounce, from: 1)
            t.move(0.35, to: top)
            t.move(0.35, to: 1)
        }
        if hitch > 0 {
            // Up half-way, sink by `hitch`, then stand.
            let half = progress(risingBy: 0.5 * (hipHeight(0) - hipHeight(1)) / body.thigh, from: 1)
            t.move(ascent * 0.5, to: half)
            // Find the progress that is `hitch` thigh lower than `half`.
            let target = hipHeight(half) - hitch * body.thigh
            var lo = half, hi = 1.0
            for _ in 0..<60 {
                let mid = (lo + hi) / 2
                if hipHeight(mid) > target { lo = mid } else { hi = mid }
            }
            t.move(0.3, to: (lo + hi) / 2)
            t.move(ascent * 0.6, to: finishBend)
        } else {
            t.move(ascent, to: finishBend)
        }
        t.hold(standAfter, at: finishBend)
        return t
    }

    func clip(seed: UInt64, named: Bool = true) -> SyntheticClip {
        var r = SeededRandom(seed: seed)
        let tl = timeline()
        let x = 640 + r.uniform(-60, 60)
        let camera = Camera(yaw: yaw, scale: scale, originX: originX ?? x, groundY: 700 - r.uniform(0, 30))
        let track = Synth.render(duration: tl.duration, fps: fps, camera: camera, noise: noise, bystanders: bystanders,
                                 source: named ? "synthetic/squat-\(seed).mp4" : "synthetic/clip-\(seed).mp4", rng: &r,
                                 lifter: { joints(tl.value(at: $0)) },
                                 bystanderMotion: { 0.3 * tl.value(at: $0) })
        return SyntheticClip(track: track.track, lifterIndex: track.lifterIndex, description: description)
    }

    static func random(_ r: inout SeededRandom) -> SquatSpec {
        var s = SquatSpec(depth: 0, yaw: r.uniform(0, 90))
        s.body = Body.random(&r)
        s.descent = r.uniform(0.7, 2.0)
        s.ascent = r.uniform(0.8, 2.5)
        s.pause = r.chance(0.5) ? 0 : r.uniform(0, 0.5)
        s.standBefore = r.uniform(0.6, 1.2)
        s.standAfter = r.uniform(0.6, 1.0)
        s.scale = r.uniform(230, 330)
        s.shinLean = r.uniform(25, 40)
        s.torsoLean = r.uniform(25, 50)
        s.kneeOut = r.uniform(0, 0.06)
        s.noise = NoiseSpec.random(&r)
        s.fps = r.chance(0.8) ? 30 : 60
        return s
    }
}

// MARK: - Bench press

struct BenchSpec: CustomStringConvertible {
    var yaw: Double
    var pause = 0.8
    /// Touch and go: the bar arrives fast and leaves at once.
    var touchAndGo = false
    /// Downward bar movement (torso) half-way up.
    var hitch = 0.0
    /// Shoulder–wrist distance at the finish as a fraction of the full reach (1 = locked).
    var finishReach = 1.0
    /// Hip rise (torso) during the press.
    var buttocks = 0.0
    var descent = 1.2, press = 1.2, holdBefore = 0.8, holdAfter = 0.8
    var body = Body()
    var noise = NoiseSpec()
    var scale = 280.0
    var fps = 30.0
    var spotter = false

    var description: String {
        "bench yaw \(fmt(yaw, 0)) pause \(fmt(pause)) tng \(touchAndGo) hitch \(fmt(hitch, 3)) reach \(fmt(finishReach)) "
            + "butt \(fmt(buttocks, 3)) jitter \(fmt(noise.jitterPx, 1)) drop \(fmt(noise.dropoutRate, 3)) spotter \(spotter)"
    }

    var benchTop: Double { 0.45 }
    var shoulderY: Double { benchTop + 0.08 }
    var grip: Double { 0.16 }
    var fullReach: Double { (body.upperArm + body.forearm) * 0.998 }

    /// Bar height above the shoulders for progress q (0 = arms straight, 1 = on the chest) and reach.
    func barLift(_ q: Double, reach: Double) -> Double {
        let top = (pow(fullReach * reach, 2) - grip * grip).squareRoot()
        let chest = 0.13
        return top + (chest - top) * q
    }

    func joints(q: Double, reach: Double, hipRise: Double) -> Joints {
        // Lying on the back, head toward +z; the lifter's "up" (head direction) is +z, face up (+y).
        let lateral = V3(x: 1, y: 0, z: 0)
        let sl = V3(x: body.shoulderWidth / 2, y: shoulderY, z: 0)
        let sr = V3(x: -body.shoulderWidth / 2, y: shoulderY, z: 0)
        let barZ = -0.06 * q
        let lift = barLift(q, reach: reach)
        let wl = V3(x: body.shoulderWidth / 2 + grip, y: shoulderY + lift, z: barZ)
        let wr = V3(x: -body.shoulderWidth / 2 - grip, y: shoulderY + lift, z: barZ)
        let el = ik(sl, wl, body.upperArm, body.forearm, pole: lateral * 0.7 + V3(x: 0, y: -0.5, z: -0.5))
        let er = ik(sr, wr, body.upperArm, body.forearm, pole: lateral * -0.7 + V3(x: 0, y: -0.5, z: -0.5))
        let hy = shoulderY + hipRise * body.torso
        let hl = V3(x: body.hipWidth / 2, y: hy, z: -body.torso)
        let hr = V3(x: -body.hipWidth / 2, y: hy, z: -body.torso)
        let kl = hl + V3(x: 0.05, y: 0.05, z: -body.thigh * 0.99)
        let kr = hr + V3(x: -0.05, y: 0.05, z: -body.thigh * 0.99)
        let al = V3(x: kl.x + 0.05, y: body.ankleHeight, z: kl.z + 0.08)
        let ar = V3(x: kr.x - 0.05, y: body.ankleHeight, z: kr.z + 0.08)
        return Joints(shoulderL: sl, shoulderR: sr, elbowL: el, elbowR: er, wristL: wl, wristR: wr,
                      hipL: hl, hipR: hr, kneeL: kl, kneeR: kr, ankleL: al, ankleR: ar,
                      forward: V3(x: 0, y: 1, z: 0), headUp: V3(x: 0, y: 0, z: 1))
    }

    func clip(seed: UInt64, named: Bool = true) -> SyntheticClip {
        var r = SeededRandom(seed: seed)
        // q: 0 = arms straight, 1 = chest. reach and hip rise follow the press.
        var q = Timeline()
        q.hold(holdBefore, at: 0)
        if touchAndGo {
            q.move(descent, to: 1, .accelerate)
        } else {
            q.move(descent, to: 1)
            q.hold(pause, at: 1)
        }
        let pressStart = q.duration
        if hitch > 0 {
            let travel = barLift(0, reach: 1) - barLift(1, reach: 1)
            let half = 0.5, back = min(1, half + hitch * body.torso / travel)
            q.move(press * 0.5, to: half, touchAndGo ? .decelerate : .smooth)
            q.move(0.3, to: back)
            q.move(press * 0.6, to: 0)
        } else {
            q.move(press, to: 0, touchAndGo ? .decelerate : .smooth)
        }
        let pressEnd = q.duration
        q.hold(holdAfter, at: 0)
        let duration = q.duration
        let camera = Camera(yaw: yaw, scale: scale, originX: 640 + r.uniform(-80, 80), groundY: 690 - r.uniform(0, 40))
        var people: [Bystander] = []
        if spotter {
            people.append(Bystander(kind: .spotter, body: Body.random(&r), x: 0, z: 0.55, facing: 180))
        }
        let track = Synth.render(duration: duration, fps: fps, camera: camera, noise: noise, bystanders: people,
                                 source: named ? "synthetic/bench-\(seed).mp4" : "synthetic/clip-\(seed).mp4", rng: &r, lifter: { t in
            let progress = t <= pressStart ? 0 : min(1, (t - pressStart) / max(0.01, pressEnd - pressStart))
            let reach = 1 - (1 - finishReach) * progress
            let rise = buttocks * (progress > 0.2 && progress < 0.8 ? 1 : 0) * sin(.pi * progress)
            return joints(q: q.value(at: t), reach: reach, hipRise: rise)
        })
        return SyntheticClip(track: track.track, lifterIndex: track.lifterIndex, description: description)
    }

    static func random(_ r: inout SeededRandom) -> BenchSpec {
        var s = BenchSpec(yaw: r.chance(0.5) ? r.uniform(65, 115) : r.uniform(245, 295))
        s.body = Body.random(&r)
        s.descent = r.uniform(0.8, 1.8)
        s.press = r.uniform(0.8, 2.0)
        s.holdBefore = r.uniform(0.6, 1.2)
        s.holdAfter = r.uniform(0.6, 1.0)
        s.scale = r.uniform(250, 340)
        s.noise = NoiseSpec.random(&r)
        s.noise.hipBiasPx = 0
        s.spotter = r.chance(0.4)
        return s
    }
}

// MARK: - Deadlift

struct DeadliftSpec: CustomStringConvertible {
    var yaw: Double
    /// Knee angle and forward torso lean at the finish (180 / 0 = locked and upright).
    var finishKnee = 180.0
    var finishLean = -3.0
    /// Downward bar movement (torso) during the pull.
    var hitch = 0.0
    var startKnee = 115.0, startLean = 55.0, startShin = 15.0
    var setup = 0.8, pull = 1.6, hold = 1.0
    var body = Body()
    var noise = NoiseSpec()
    var scale = 280.0
    var fps = 30.0
    var bystanders: [Bystander] = []

    var description: String {
        "deadlift yaw \(fmt(yaw, 0)) knee \(fmt(finishKnee, 0)) lean \(fmt(finishLean, 0)) hitch \(fmt(hitch, 3)) "
            + "jitter \(fmt(noise.jitterPx, 1)) drop \(fmt(noise.dropoutRate, 3)) people \(bystanders.map { "\($0.kind)" })"
    }

    func joints(_ p: Double) -> Joints {
        let knee = startKnee + (finishKnee - startKnee) * p
        let beta = startShin * (1 - p)
        let alpha = 180 - knee - beta
        let gamma = startLean + (finishLean - startLean) * p
        return Synth.squatJoints(body, alpha: alpha, beta: beta, gamma: gamma, kneeOut: 0, barOnBack: false)
    }

    func barHeight(_ p: Double) -> Double { (joints(p).wristL.y + joints(p).wristR.y) / 2 }

    func clip(seed: UInt64, named: Bool = true) -> SyntheticClip {
        var r = SeededRandom(seed: seed)
        var tl = Timeline()
        tl.hold(setup, at: 0)
        if hitch > 0 {
            let half = 0.5
            let target = barHeight(half) - hitch * body.torso
            var lo = 0.0, hi = half
            for _ in 0..<60 {
                let mid = (lo + hi) / 2
                if barHeight(mid) < target { lo = mid } else { hi = mid }
            }
            tl.move(pull * 0.5, to: half)
            tl.move(0.3, to: (lo + hi) / 2)
            tl.move(pull * 0.6, to: 1)
        } else {
            tl.move(pull, to: 1)
        }
        tl.hold(hold, at: 1)
        tl.move(1.0, to: 0.2)
        tl.hold(0.3, at: 0.2)
        let camera = Camera(yaw: yaw, scale: scale, originX: 640 + r.uniform(-60, 60), groundY: 700 - r.uniform(0, 30))
        let track = Synth.render(duration: tl.duration, fps: fps, camera: camera, noise: noise, bystanders: bystanders,
                                 source: named ? "synthetic/deadlift-\(seed).mp4" : "synthetic/clip-\(seed).mp4", rng: &r,
                                 lifter: { joints(tl.value(at: $0)) })
        return SyntheticClip(track: track.track, lifterIndex: track.lifterIndex, description: description)
    }

    static func random(_ r: inout SeededRandom) -> DeadliftSpec {
        var s = DeadliftSpec(yaw: r.chance(0.5) ? r.uniform(65, 115) : r.uniform(245, 295))
        s.body = Body.random(&r)
        s.startKnee = r.uniform(100, 125)
        s.startLean = r.uniform(45, 65)
        s.startShin = r.uniform(8, 20)
        s.setup = r.uniform(0.5, 1.2)
        s.pull = r.uniform(1.0, 3.0)
        s.hold = r.uniform(0.8, 1.5)
        s.scale = r.uniform(230, 320)
        s.noise = NoiseSpec.random(&r)
        s.bystanders = Synth.randomBystanders(&r, duration: s.setup + s.pull + s.hold + 1.3, lift: .deadlift)
        return s
    }
}
