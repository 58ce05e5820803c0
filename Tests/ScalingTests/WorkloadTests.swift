import Testing
@testable import Scaling

@Suite("Service times and the meet-day generator")
struct WorkloadTests {
    let policy: ScalingPolicy

    init() throws { policy = try ScalingPolicy.deployed() }

    @Test func serviceSpecsParse() throws {
        #expect(try ServiceTimeModel.parse("clip", policy: policy) == .perClipSecond(1.0))
        #expect(try ServiceTimeModel.parse("clip:0.5", policy: policy) == .perClipSecond(0.5))
        #expect(try ServiceTimeModel.parse("fixed", policy: policy) == .fixed(10))
        #expect(try ServiceTimeModel.parse("fixed:7.5", policy: policy) == .fixed(7.5))
        #expect(try ServiceTimeModel.parse("exp:12", policy: policy) == .exponential(mean: 12))
        #expect(try ServiceTimeModel.parse("lognormal:12,0.4", policy: policy) == .lognormal(mean: 12, cv: 0.4))
        #expect(try ServiceTimeModel.parse("uniform:8,16", policy: policy) == .uniform(8, 16))
    }

    @Test func badServiceSpecsAreRefused() {
        for spec in ["", "gamma:2", "fixed:", "fixed:0", "fixed:-3", "fixed:nan", "exp", "exp:inf", "exp:1,2",
                     "lognormal:12", "lognormal:12,-1", "uniform:9,3", "uniform:a,b", "clip:0",
                     String(repeating: "x", count: 500)] {
            #expect(throws: ServiceTimeError.self, "\(spec.prefix(20))") { try ServiceTimeModel.parse(spec, policy: policy) }
        }
    }

    @Test func measuredServiceTimeScalesWithTheClip() {
        let jobs = Workload.jobs(for: [Upload(time: 0, clipSeconds: 10), Upload(time: 5, clipSeconds: 5)],
                                 service: .measured(policy), seed: 1)
        #expect(jobs == [Job(upload: 0, serviceSeconds: 10), Job(upload: 5, serviceSeconds: 5)])
    }

    @Test func randomServiceTimesAreReproducibleAndHaveTheRightMean() {
        let uploads = (0..<20_000).map { Upload(time: Double($0), clipSeconds: 10) }
        let a = Workload.jobs(for: uploads, service: .exponential(mean: 12), seed: 42)
        let b = Workload.jobs(for: uploads, service: .exponential(mean: 12), seed: 42)
        let c = Workload.jobs(for: uploads, service: .exponential(mean: 12), seed: 43)
        #expect(a == b)
        #expect(a != c)
        let mean = a.map(\.serviceSeconds).reduce(0, +) / Double(a.count)
        #expect(abs(mean - 12) < 0.4)
        let ln = Workload.jobs(for: uploads, service: .lognormal(mean: 12, cv: 0.5), seed: 7).map(\.serviceSeconds)
        let lnMean = ln.reduce(0, +) / Double(ln.count)
        #expect(abs(lnMean - 12) < 0.4)
        let sd = (ln.map { ($0 - lnMean) * ($0 - lnMean) }.reduce(0, +) / Double(ln.count)).squareRoot()
        #expect(abs(sd / lnMean - 0.5) < 0.05)
        let u = Workload.jobs(for: uploads, service: .uniform(8, 16), seed: 7).map(\.serviceSeconds)
        #expect(u.allSatisfy { $0 >= 8 && $0 < 16 })
    }

    @Test func meetDayHasTheScheduledUploadsAQuietNightAndBreaks() throws {
        let day = MeetDay()
        let uploads = try day.generate(seed: 3)
        #expect(uploads.count == day.expectedUploads)
        #expect(uploads.count == 3 * 2 * 3 * 2 * 3 * 12 * 2)
        #expect(zip(uploads, uploads.dropFirst()).allSatisfy { $0.time <= $1.time })
        let first = try #require(uploads.first).time
        #expect(first >= 9 * 3600 + 10)
        #expect(first < 9 * 3600 + 120 + 60)
        #expect(uploads.allSatisfy { $0.time < 24 * 3600 })
        #expect(uploads.allSatisfy { $0.clipSeconds >= 6 && $0.clipSeconds <= 14 })
        // The session break (60 min) shows up as the longest gap; lift breaks (15 min) appear too.
        let gaps = zip(uploads, uploads.dropFirst()).map { $1.time - $0.time }.sorted(by: >)
        #expect(gaps[0] > 50 * 60)
        #expect(gaps.filter { $0 > 10 * 60 }.count >= 2)
    }

    @Test func meetDayIsReproducibleBySeed() throws {
        let a = try MeetDay().generate(seed: 11)
        let b = try MeetDay().generate(seed: 11)
        let c = try MeetDay().generate(seed: 12)
        #expect(a == b)
        #expect(a != c)
    }

    @Test func impossibleMeetDaysAreRefused() {
        var d = MeetDay(); d.platforms = 0
        #expect(throws: MeetDayError.self) { try d.generate(seed: 1) }
        d = MeetDay(); d.attemptsPerMinute = .nan
        #expect(throws: MeetDayError.self) { try d.generate(seed: 1) }
        d = MeetDay(); d.firstAttemptHour = 24
        #expect(throws: MeetDayError.self) { try d.generate(seed: 1) }
        d = MeetDay(); d.breakBetweenLiftsMinutes = -1
        #expect(throws: MeetDayError.self) { try d.generate(seed: 1) }
        d = MeetDay(); d.liftersPerFlight = 1_000
        #expect(throws: MeetDayError.self) { try d.generate(seed: 1) }
    }
}
