/// A built-in meet-day arrival generator: a quiet night, then sessions of flights on several
/// platforms (squat, bench, deadlift; three attempts each), with breaks between lifts and sessions,
/// every attempt filmed by each platform camera and uploaded shortly after, then a quiet evening.
/// Times are seconds since midnight of the meet day.
public struct MeetDay: Sendable, Equatable {
    public var platforms = 3
    public var sessions = 2
    public var flightsPerSession = 2
    public var liftersPerFlight = 12
    /// Attempts per minute on one platform.
    public var attemptsPerMinute = 1.0
    public var camerasPerPlatform = 2
    /// Break after squats and after bench of each session.
    public var breakBetweenLiftsMinutes = 15.0
    public var breakBetweenSessionsMinutes = 60.0
    /// Change of flight within a lift (warm-up room to platform).
    public var flightChangeMinutes = 3.0
    /// The first attempt of the day; before it is the quiet night.
    public var firstAttemptHour = 9.0
    public var uploadDelaySeconds: ClosedRange<Double> = 10...45
    public var clipSeconds: ClosedRange<Double> = 6...14
    /// Relative jitter of the time between attempts (0.25 = ±25 %).
    public var paceJitter = 0.25

    public init() {}

    public static let maxUploads = 1_000_000

    public func validate() throws(MeetDayError) {
        func check(_ ok: Bool, _ field: String, _ reason: String) throws(MeetDayError) {
            if !ok { throw .invalid(field: field, reason: reason) }
        }
        try check((1...50).contains(platforms), "platforms", "must be in 1...50")
        try check((1...6).contains(sessions), "sessions", "must be in 1...6")
        try check((1...10).contains(flightsPerSession), "flights", "must be in 1...10")
        try check((1...40).contains(liftersPerFlight), "lifters", "must be in 1...40")
        try check((1...6).contains(camerasPerPlatform), "cameras", "must be in 1...6")
        try check(attemptsPerMinute.isFinite && attemptsPerMinute >= 0.1 && attemptsPerMinute <= 6,
                  "attempts-per-minute", "must be in 0.1...6")
        for (v, f) in [(breakBetweenLiftsMinutes, "break-minutes"), (breakBetweenSessionsMinutes, "session-break-minutes"),
                       (flightChangeMinutes, "flight-change-minutes")] {
            try check(v.isFinite && v >= 0 && v <= 600, f, "must be in 0...600")
        }
        try check(firstAttemptHour.isFinite && firstAttemptHour >= 0 && firstAttemptHour < 24, "start-hour", "must be in 0..<24")
        try check(uploadDelaySeconds.lowerBound >= 0 && uploadDelaySeconds.upperBound <= 3_600, "upload-delay", "must be within 0...3600 s")
        try check(clipSeconds.lowerBound > 0 && clipSeconds.upperBound <= 3_600, "clip-seconds", "must be within (0, 3600] s")
        try check(paceJitter >= 0 && paceJitter < 1, "pace-jitter", "must be in 0..<1")
    }

    /// Uploads of the day, sorted by time; the same seed gives the same day.
    public func generate(seed: UInt64) throws(MeetDayError) -> [Upload] {
        try validate()
        var rng = SeededRandom(seed: seed)
        var uploads: [Upload] = []
        uploads.reserveCapacity(expectedUploads)
        let pace = 60 / attemptsPerMinute
        for _ in 0..<platforms {
            var t = firstAttemptHour * 3600 + rng.uniform(0, 120) // platforms don't start in lockstep
            for session in 0..<sessions {
                if session > 0 { t += breakBetweenSessionsMinutes * 60 }
                for lift in 0..<3 {
                    if lift > 0 { t += breakBetweenLiftsMinutes * 60 }
                    for flight in 0..<flightsPerSession {
                        if flight > 0 { t += flightChangeMinutes * 60 }
                        for _ in 0..<(3 * liftersPerFlight) { // three rounds of attempts
                            for _ in 0..<camerasPerPlatform {
                                let delay = rng.uniform(uploadDelaySeconds.lowerBound, uploadDelaySeconds.upperBound)
                                let clip = rng.uniform(clipSeconds.lowerBound, clipSeconds.upperBound)
                                uploads.append(Upload(time: t + delay, clipSeconds: clip))
                            }
                            t += pace * rng.uniform(1 - paceJitter, 1 + paceJitter)
                        }
                    }
                }
            }
        }
        if uploads.count > Self.maxUploads { throw .invalid(field: "meet", reason: "more than \(Self.maxUploads) uploads") }
        return uploads.enumerated().sorted { a, b in
            a.element.time != b.element.time ? a.element.time < b.element.time : a.offset < b.offset
        }.map(\.element)
    }

    /// platforms × sessions × 3 lifts × flights × 3 attempts × lifters × cameras.
    public var expectedUploads: Int {
        platforms * sessions * 3 * flightsPerSession * 3 * liftersPerFlight * camerasPerPlatform
    }
}

public enum MeetDayError: Error, Equatable, CustomStringConvertible {
    case invalid(field: String, reason: String)

    public var description: String {
        switch self {
        case let .invalid(field, reason): return "meet day: \(field) \(reason)"
        }
    }
}
