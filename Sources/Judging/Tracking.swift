// Linking the people of consecutive frames into tracks, and picking the lifter's track.
//
// The pose model reports the people of each frame in no particular order. Tracks are built by
// matching each frame's people to the tracks seen recently: the cost of a match is the distance from
// the track's predicted torso centre (constant velocity) to the person's, in torso lengths; pairs are
// taken cheapest first (a greedy global assignment), gated by distance and by size. The lifter is then
// one whole track, so the judge never switches people mid-lift.

import PoseData

/// One usable person in one frame.
struct Observation: Sendable {
    var slot: Int
    var personIndex: Int
    var centre: Point
    /// Torso length in px, or a fraction of the visible extent when the torso is not visible.
    var size: Double
    /// The landmarks with non-finite values made invisible.
    var landmarks: [Landmark]
}

/// A person followed across frames.
struct PeopleTrack: Sendable {
    var id: Int
    /// Observations in frame order.
    var observations: [Observation]

    var firstSlot: Int { observations.first?.slot ?? 0 }
    var lastSlot: Int { observations.last?.slot ?? 0 }
}

/// Why a person in a frame was not used.
struct SkippedPeople: Sendable, Equatable {
    var malformed = 0
    var invisible = 0
    var overLimit = 0
}

enum Tracker {
    /// The usable observation of a person, or `nil` (with the reason counted) when it has none.
    static func observation(_ person: PersonPose, slot: Int, index: Int, minVisibility: Double,
                            skipped: inout SkippedPeople) -> Observation? {
        guard person.landmarks.count == BlazePoseLandmark.count else {
            skipped.malformed += 1
            return nil
        }
        var landmarks = person.landmarks
        var visibleCount = 0
        var minX = Double.infinity, maxX = -Double.infinity, minY = Double.infinity, maxY = -Double.infinity
        var sumX = 0.0, sumY = 0.0
        for k in 0..<landmarks.count {
            var l = landmarks[k]
            if !(l.x.isFinite && l.y.isFinite && l.visibility.isFinite && l.x > -1e7 && l.x < 1e7
                 && l.y > -1e7 && l.y < 1e7) {
                l = Landmark(x: 0, y: 0, visibility: 0)
                landmarks[k] = l
            } else if l.visibility < 0 || l.visibility > 1 {
                l.visibility = max(0, min(1, l.visibility))
                landmarks[k] = l
            }
            guard l.visibility >= minVisibility else { continue }
            visibleCount += 1
            minX = min(minX, l.x); maxX = max(maxX, l.x)
            minY = min(minY, l.y); maxY = max(maxY, l.y)
            sumX += l.x; sumY += l.y
        }
        guard visibleCount >= 3 else {
            skipped.invisible += 1
            return nil
        }
        func mid(_ a: BlazePoseLandmark, _ b: BlazePoseLandmark) -> (Point, Int)? {
            let pa = landmarks[a.rawValue], pb = landmarks[b.rawValue]
            let va = pa.visibility >= minVisibility, vb = pb.visibility >= minVisibility
            switch (va, vb) {
            case (true, true): return (Point(x: (pa.x + pb.x) / 2, y: (pa.y + pb.y) / 2), 2)
            case (true, false): return (Point(x: pa.x, y: pa.y), 1)
            case (false, true): return (Point(x: pb.x, y: pb.y), 1)
            case (false, false): return nil
            }
        }
        let shoulders = mid(.leftShoulder, .rightShoulder)
        let hips = mid(.leftHip, .rightHip)
        let extent = Point(x: maxX - minX, y: maxY - minY).length
        var centre = Point(x: sumX / Double(visibleCount), y: sumY / Double(visibleCount))
        var size = 0.25 * extent
        switch (shoulders, hips) {
        case let ((s, ns)?, (h, nh)?):
            centre = (s * Double(ns) + h * Double(nh)) * (1 / Double(ns + nh))
            size = max(size, s.distance(to: h))
        case let ((s, _)?, nil): centre = s
        case let (nil, (h, _)?): centre = h
        case (nil, nil): break
        }
        guard size > 1e-6 else {
            skipped.invisible += 1
            return nil
        }
        return Observation(slot: slot, personIndex: index, centre: centre, size: size, landmarks: landmarks)
    }

    /// Body landmarks compared between frames: shoulders, elbows, wrists, hips, knees, ankles.
    static let bodyLandmarks: [Int] = [11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28]

    /// Mean distance (px) between the body landmarks of `last`, moved by `shift`, and those of `next`,
    /// over the landmarks visible in both; the centre distance when fewer than 4 are. Comparing whole
    /// poses keeps two people apart when their torso centres cross (a spotter behind a squatting
    /// lifter): their arms and legs are still in different places.
    static func poseDistance(from last: Observation, shiftedBy shift: Point, to next: Observation,
                             minVisibility: Double) -> Double {
        var sum = 0.0, count = 0
        for k in bodyLandmarks {
            let a = last.landmarks[k], b = next.landmarks[k]
            guard a.visibility >= minVisibility, b.visibility >= minVisibility else { continue }
            sum += Point(x: a.x + shift.x - b.x, y: a.y + shift.y - b.y).length
            count += 1
        }
        if count >= 4 { return sum / Double(count) }
        return next.centre.distance(to: last.centre + shift)
    }

    /// Mean displacement of the body landmarks visible in both poses (the centre's when fewer than 4
    /// are): unlike the torso centre, it does not jump when a shoulder or hip drops out.
    static func displacement(from last: Observation, to next: Observation, minVisibility: Double) -> Point {
        var sx = 0.0, sy = 0.0, count = 0
        for k in bodyLandmarks {
            let a = last.landmarks[k], b = next.landmarks[k]
            guard a.visibility >= minVisibility, b.visibility >= minVisibility else { continue }
            sx += b.x - a.x
            sy += b.y - a.y
            count += 1
        }
        if count >= 4 { return Point(x: sx / Double(count), y: sy / Double(count)) }
        return next.centre - last.centre
    }

    /// Builds tracks from per-slot people.
    static func buildTracks(frames: [[PersonPose]], fps: Double, config: JudgingConfig,
                            skipped: inout SkippedPeople) -> [PeopleTrack] {
        struct Live {
            var track: PeopleTrack
            var velocity: Point
        }
        let maxGap = max(1, Int((config.trackMaxGapSeconds * fps).rounded()))
        var live: [Live] = []
        var closed: [PeopleTrack] = []
        var nextID = 0

        for (slot, people) in frames.enumerated() {
            var order = Array(people.indices)
            if order.count > config.maxPeoplePerFrame {
                order.sort { people[$0].score > people[$1].score }
                skipped.overLimit += order.count - config.maxPeoplePerFrame
                order = Array(order.prefix(config.maxPeoplePerFrame))
            }
            let observations = order.compactMap {
                observation(people[$0], slot: slot, index: $0, minVisibility: config.minVisibility, skipped: &skipped)
            }
            // Close tracks unseen for too long.
            var still: [Live] = []
            for l in live {
                if slot - l.track.lastSlot > maxGap { closed.append(l.track) } else { still.append(l) }
            }
            live = still

            var pairs: [(cost: Double, track: Int, obs: Int)] = []
            for (ti, l) in live.enumerated() {
                guard let last = l.track.observations.last else { continue }
                let gap = Double(slot - last.slot)
                let shift = l.velocity * gap
                for (oi, o) in observations.enumerated() {
                    let big = max(last.size, o.size), small = min(last.size, o.size)
                    guard small > 0, big / small <= 1.5 else { continue }
                    let cost = poseDistance(from: last, shiftedBy: shift, to: o, minVisibility: config.minVisibility) / big
                    if cost <= config.trackGate + config.trackMaxSpeed * gap / fps {
                        pairs.append((cost, ti, oi))
                    }
                }
            }
            pairs.sort { ($0.cost, $0.track, $0.obs) < ($1.cost, $1.track, $1.obs) }
            var trackTaken = Set<Int>(), obsTaken = Set<Int>()
            for p in pairs where !trackTaken.contains(p.track) && !obsTaken.contains(p.obs) {
                trackTaken.insert(p.track)
                obsTaken.insert(p.obs)
                let o = observations[p.obs]
                if let last = live[p.track].track.observations.last {
                    let gap = Double(max(1, slot - last.slot))
                    let step = displacement(from: last, to: o, minVisibility: config.minVisibility) * (1 / gap)
                    let v = live[p.track].velocity
                    live[p.track].velocity = v * 0.5 + step * 0.5
                }
                live[p.track].track.observations.append(o)
            }
            for (oi, o) in observations.enumerated() where !obsTaken.contains(oi) {
                live.append(Live(track: PeopleTrack(id: nextID, observations: [o]), velocity: Point(x: 0, y: 0)))
                nextID += 1
            }
        }
        closed.append(contentsOf: live.map(\.track))
        return closed.sorted { $0.id < $1.id }
    }
}

/// How likely each track is the lifter.
struct LifterChoice: Sendable {
    var scores: [Int: Double]
    /// The chosen track's id, or `nil` when none qualifies.
    var lifter: Int?
    /// The runner-up's id when it scores too close to the lifter.
    var rival: Int?
    /// Plain-words reason when no lifter qualifies.
    var problem: String?
}

enum LifterSelector {
    /// Fraction of a track's frames in which its torso is more than `lyingDegrees` from vertical.
    static func lyingFraction(_ t: PeopleTrack, lyingDegrees: Double, minVisibility: Double) -> Double {
        var lying = 0, measured = 0
        for o in t.observations {
            guard let s = midpoint(o.landmarks, .leftShoulder, .rightShoulder, minVisibility),
                  let h = midpoint(o.landmarks, .leftHip, .rightHip, minVisibility) else { continue }
            let d = s - h
            guard d.length > 1e-6 else { continue }
            measured += 1
            // Angle from vertical: 0 = upright (shoulders above hips).
            let fromVertical = atan2Degrees(abs(d.x), -d.y)
            if fromVertical > lyingDegrees && fromVertical < 180 - lyingDegrees { lying += 1 }
        }
        return measured == 0 ? 0 : Double(lying) / Double(measured)
    }

    static func midpoint(_ l: [Landmark], _ a: BlazePoseLandmark, _ b: BlazePoseLandmark,
                         _ minVisibility: Double) -> Point? {
        let pa = l[a.rawValue], pb = l[b.rawValue]
        return Point.weightedMean([
            (Point(x: pa.x, y: pa.y), pa.visibility >= minVisibility ? 1 : 0),
            (Point(x: pb.x, y: pb.y), pb.visibility >= minVisibility ? 1 : 0),
        ])
    }

    static func choose(_ tracks: [PeopleTrack], totalFrames: Int, frameWidth: Double, fps: Double,
                       lift: LiftKind?, config: JudgingConfig) -> LifterChoice {
        let minFrames = max(2, Int((config.minLifterSeconds * fps).rounded()))
        struct Stats {
            var id: Int
            var coverage: Double
            var size: Double
            var centrality: Double
            var motion: Double
            var lateral: Double
            var lying: Double
            var frames: Int
        }
        var stats: [Stats] = []
        for t in tracks {
            let sizes = t.observations.map(\.size)
            guard let size = median(sizes), size > 0 else { continue }
            let xs = t.observations.map(\.centre.x)
            let cx = median(xs) ?? frameWidth / 2
            let half = max(frameWidth / 2, 1)
            let centrality = max(0, 1 - abs(cx - frameWidth / 2) / half)
            func range(_ v: [Double]) -> Double {
                guard let lo = quantile(v, 0.05), let hi = quantile(v, 0.95) else { return 0 }
                return hi - lo
            }
            let hipY = t.observations.compactMap { midpoint($0.landmarks, .leftHip, .rightHip, config.minVisibility)?.y }
            let wristY = t.observations.compactMap {
                midpoint($0.landmarks, .leftWrist, .rightWrist, config.minVisibility)?.y
            }
            let motion = min(2, max(range(hipY), range(wristY)) / size)
            let lateral = range(xs) / size
            stats.append(Stats(id: t.id, coverage: Double(t.observations.count) / Double(max(1, totalFrames)),
                               size: size, centrality: centrality, motion: motion, lateral: lateral,
                               lying: lyingFraction(t, lyingDegrees: config.lyingTorsoDegrees,
                                                    minVisibility: config.minVisibility),
                               frames: t.observations.count))
        }
        var scores: [Int: Double] = [:]
        let maxSize = stats.map(\.size).max() ?? 1
        let maxMotion = max(stats.map(\.motion).max() ?? 0, 1e-6)
        for s in stats {
            let base = s.motion / maxMotion + s.size / maxSize + 0.5 * s.centrality
            // People walking through move sideways by many torso lengths; a lifter at most walks out.
            let stationarity = 1 / (1 + max(0, s.lateral - 1) / 2)
            scores[s.id] = s.coverage * base * stationarity
        }
        var candidates = stats.filter { $0.frames >= minFrames }
        guard !candidates.isEmpty else {
            let longest = stats.map(\.frames).max() ?? 0
            let problem = stats.isEmpty
                ? "no person was found in any frame"
                : "no person was tracked for at least \(fmt(config.minLifterSeconds)) s (longest track: \(longest) frame\(longest == 1 ? "" : "s"))"
            return LifterChoice(scores: scores, lifter: nil, rival: nil, problem: problem)
        }
        // Nobody lies down in a squat or deadlift video except on the bench, and a bench lifter lies.
        let lyingOnes = candidates.filter { $0.lying >= 0.5 && $0.coverage >= 0.3 }
        switch lift {
        case .bench:
            guard !lyingOnes.isEmpty else {
                return LifterChoice(scores: scores, lifter: nil, rival: nil,
                                    problem: "bench press, but nobody lies down for long enough")
            }
            candidates = lyingOnes
        case .squat, .deadlift:
            let upright = candidates.filter { $0.lying < 0.5 }
            guard !upright.isEmpty else {
                return LifterChoice(scores: scores, lifter: nil, rival: nil,
                                    problem: "\(lift?.rawValue ?? ""), but every tracked person is lying down")
            }
            candidates = upright
        case nil:
            if !lyingOnes.isEmpty { candidates = lyingOnes }
        }
        let ranked = candidates.sorted { (scores[$0.id] ?? 0, -$0.id) > (scores[$1.id] ?? 0, -$1.id) }
        guard let best = ranked.first else {
            return LifterChoice(scores: scores, lifter: nil, rival: nil, problem: "no lifter found")
        }
        var rival: Int?
        if ranked.count > 1 {
            let b = scores[best.id] ?? 0, r = scores[ranked[1].id] ?? 0
            if b > 0, r / b >= config.lifterAmbiguityRatio { rival = ranked[1].id }
        }
        return LifterChoice(scores: scores, lifter: best.id, rival: rival, problem: nil)
    }
}

/// A number for reasons and notes: up to `digits` decimals, trailing zeros dropped.
func fmt(_ v: Double, _ digits: Int = 2) -> String {
    guard v.isFinite else { return "\(v)" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let r = (v * scale).rounded() / scale
    var s = "\(r)"
    if s.contains("e") { return s }
    if s.hasSuffix(".0") { s.removeLast(2) }
    if s == "-0" { s = "0" }
    return s
}
