/// How long one job keeps a worker task busy.
public enum ServiceTimeModel: Sendable, Equatable, CustomStringConvertible {
    /// Proportional to the upload's clip length (`duration_s` of the trace).
    case perClipSecond(Double)
    case fixed(Double)
    case exponential(mean: Double)
    case lognormal(mean: Double, cv: Double)
    case uniform(Double, Double)

    public var description: String {
        switch self {
        case let .perClipSecond(r): return "clip × \(format(r)) s per clip second"
        case let .fixed(s): return "fixed \(format(s)) s"
        case let .exponential(m): return "exponential, mean \(format(m)) s"
        case let .lognormal(m, cv): return "log-normal, mean \(format(m)) s, cv \(format(cv))"
        case let .uniform(a, b): return "uniform \(format(a))–\(format(b)) s"
        }
    }

    /// The policy's measured service time, scaled by each clip's length.
    public static func measured(_ policy: ScalingPolicy) -> ServiceTimeModel {
        .perClipSecond(policy.serviceTime.secondsPerClipSecond)
    }

    /// Parses `clip`, `clip:RATE`, `fixed`, `fixed:S`, `exp:MEAN`, `lognormal:MEAN,CV`, `uniform:A,B`.
    /// `clip` and `fixed` without a value use the policy's measured service time.
    public static func parse(_ spec: String, policy: ScalingPolicy) throws(ServiceTimeError) -> ServiceTimeModel {
        guard spec.utf8.count <= 100 else { throw .invalid(spec: String(spec.prefix(100)), reason: "too long") }
        let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let kind = parts[0].lowercased()
        let args: [Double]
        if parts.count == 2 {
            var values: [Double] = []
            for a in parts[1].split(separator: ",", omittingEmptySubsequences: false) {
                guard let v = Trace.parsePlainNumber(Array(a.utf8)[...]) else {
                    throw .invalid(spec: spec, reason: "\"\(a)\" is not a number")
                }
                values.append(v)
            }
            args = values
        } else {
            args = []
        }
        func need(_ n: Int) throws(ServiceTimeError) {
            if args.count != n { throw .invalid(spec: spec, reason: "\(kind) takes \(n) value\(n == 1 ? "" : "s")") }
        }
        func positive(_ v: Double, _ what: String) throws(ServiceTimeError) {
            if !(v > 0 && v <= 86_400) { throw .invalid(spec: spec, reason: "\(what) must be in (0, 86400]") }
        }
        switch kind {
        case "clip":
            if args.isEmpty { return measured(policy) }
            try need(1); try positive(args[0], "seconds per clip second")
            return .perClipSecond(args[0])
        case "fixed":
            if args.isEmpty { return .fixed(policy.serviceTime.defaultSeconds) }
            try need(1); try positive(args[0], "service time")
            return .fixed(args[0])
        case "exp", "exponential":
            try need(1); try positive(args[0], "mean")
            return .exponential(mean: args[0])
        case "lognormal":
            try need(2); try positive(args[0], "mean")
            guard args[1] >= 0, args[1] <= 10 else { throw .invalid(spec: spec, reason: "cv must be in 0...10") }
            return .lognormal(mean: args[0], cv: args[1])
        case "uniform":
            try need(2); try positive(args[0], "lower bound"); try positive(args[1], "upper bound")
            guard args[0] <= args[1] else { throw .invalid(spec: spec, reason: "lower bound above upper bound") }
            return .uniform(args[0], args[1])
        default:
            throw .invalid(spec: spec, reason: "unknown kind (clip, fixed, exp, lognormal, uniform)")
        }
    }

    func sample(clipSeconds: Double, using rng: inout SeededRandom) -> Double {
        let v: Double
        switch self {
        case let .perClipSecond(r): v = clipSeconds * r
        case let .fixed(s): v = s
        case let .exponential(m): v = rng.exponential(mean: m)
        case let .lognormal(m, cv): v = cv == 0 ? m : rng.lognormal(mean: m, cv: cv)
        case let .uniform(a, b): v = rng.uniform(a, b)
        }
        // A job can't take less than a millisecond or more than a day.
        return min(max(v, 0.001), 86_400)
    }
}

public enum ServiceTimeError: Error, Equatable, CustomStringConvertible {
    case invalid(spec: String, reason: String)

    public var description: String {
        switch self {
        case let .invalid(spec, reason): return "service time \"\(spec)\": \(reason)"
        }
    }
}

/// One job: the upload time and how long it occupies a worker.
public struct Job: Sendable, Equatable {
    public var upload: Double
    public var serviceSeconds: Double

    public init(upload: Double, serviceSeconds: Double) {
        self.upload = upload
        self.serviceSeconds = serviceSeconds
    }
}

public enum Workload {
    /// Jobs for the uploads, service times drawn from `service` with `seed` (a stream separate from the
    /// arrival generator's, so comparing policies on the same arrivals sees the same service times).
    public static func jobs(for uploads: [Upload], service: ServiceTimeModel, seed: UInt64) -> [Job] {
        var rng = SeededRandom(seed: seed ^ 0x5EED_5E41_1CE7_1E5)
        return uploads.map { Job(upload: $0.time, serviceSeconds: service.sample(clipSeconds: $0.clipSeconds, using: &rng)) }
    }
}

func format(_ v: Double) -> String {
    if v == v.rounded(), abs(v) < 1e15 { return String(Int(v)) }
    let s = String((v * 1000).rounded() / 1000)
    return s
}
