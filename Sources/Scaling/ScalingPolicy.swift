import Foundation

/// The worker fleet's scaling policy: the content of `scaling/worker-policy.json`, which is the one
/// source of truth for the CloudFormation template and for the simulator.
public struct ScalingPolicy: Codable, Sendable, Equatable {
    public var version: Int
    public var service: String
    public var notes: String?
    public var capacity: Capacity
    public var metric: MetricDefinition
    public var serviceTime: ServiceTime
    public var targetTracking: TargetTracking
    /// Step policy that takes the service from 0 tasks to a few; nil means "no wake policy" (then
    /// nothing ever scales a service at zero out again: target tracking multiplies by capacity 0).
    public var wakeFromZero: StepPolicy?
    /// Step policy that sets the capacity to 0 once the jobs queue is empty and nothing is in flight.
    public var scaleToZero: StepPolicy?
    public var capacityProvider: CapacityProvider
    public var task: TaskTiming

    public struct Capacity: Codable, Sendable, Equatable {
        public var minTasks: Int
        public var maxTasks: Int
    }

    public struct MetricDefinition: Codable, Sendable, Equatable {
        public var namespace: String
        public var dimensions: [String]
        public var periodSeconds: Int
        public var backlogPerTask: PublishedMetric
        public var desiredTasks: PublishedMetric
    }

    public struct PublishedMetric: Codable, Sendable, Equatable {
        public var name: String
        public var unit: String
        public var statistic: String
        public var formula: String?
    }

    public struct ServiceTime: Codable, Sendable, Equatable {
        /// Mean processing time of one job of `referenceClipSeconds` of video.
        public var defaultSeconds: Double
        public var referenceClipSeconds: Double
        public var source: String?

        /// Processing seconds per second of video.
        public var secondsPerClipSecond: Double { defaultSeconds / referenceClipSeconds }
    }

    public struct TargetTracking: Codable, Sendable, Equatable {
        public var acceptableLatencySeconds: Double
        /// BacklogPerTask to hold: acceptable latency ÷ mean service time.
        public var targetValue: Double
        /// Target tracking tracks max(BacklogPerTask, this floor), so it computes at least
        /// ceil(capacity × floor ÷ target) = 1 task while the service runs: target tracking never scales
        /// to 0; only `scaleToZero` does, once nothing is visible or in flight.
        public var trackedValueFloor: Double
        public var scaleOutCooldownSeconds: Double
        public var scaleInCooldownSeconds: Double
        public var disableScaleIn: Bool
    }

    public enum ComparisonOperator: String, Codable, Sendable, Equatable {
        case greaterThanOrEqualToThreshold = "GreaterThanOrEqualToThreshold"
        case greaterThanThreshold = "GreaterThanThreshold"
        case lessThanThreshold = "LessThanThreshold"
        case lessThanOrEqualToThreshold = "LessThanOrEqualToThreshold"

        public func breaches(_ value: Double, _ threshold: Double) -> Bool {
            switch self {
            case .greaterThanOrEqualToThreshold: return value >= threshold
            case .greaterThanThreshold: return value > threshold
            case .lessThanThreshold: return value < threshold
            case .lessThanOrEqualToThreshold: return value <= threshold
            }
        }
    }

    public enum AdjustmentType: String, Codable, Sendable, Equatable {
        case changeInCapacity = "ChangeInCapacity"
        case exactCapacity = "ExactCapacity"
        case percentChangeInCapacity = "PercentChangeInCapacity"
    }

    public enum MissingData: String, Codable, Sendable, Equatable {
        case breaching, notBreaching, ignore, missing
    }

    /// One step adjustment; bounds are relative to the alarm threshold as in Application Auto Scaling
    /// (lower bound inclusive, upper bound exclusive, nil = infinity).
    public struct Step: Codable, Sendable, Equatable {
        public var lowerBound: Double?
        public var upperBound: Double?
        public var adjustment: Int
    }

    public struct StepPolicy: Codable, Sendable, Equatable {
        public var metrics: [String]
        public var comparisonOperator: ComparisonOperator
        public var threshold: Double
        public var evaluationPeriods: Int
        public var datapointsToAlarm: Int
        public var treatMissingData: MissingData
        public var adjustmentType: AdjustmentType
        public var steps: [Step]
        public var cooldownSeconds: Double

        /// The step whose interval contains `metricValue - threshold`, as Application Auto Scaling picks
        /// it: for an alarm on the high side (Greater…) the lower bound is inclusive and the upper bound
        /// exclusive; on the low side (Less…) the lower bound is exclusive and the upper bound inclusive.
        /// nil bounds are infinite.
        public func step(for metricValue: Double) -> Step? {
            let d = metricValue - threshold
            let highSide = comparisonOperator == .greaterThanThreshold || comparisonOperator == .greaterThanOrEqualToThreshold
            return steps.first { s in
                let lowerOK = s.lowerBound.map { highSide ? d >= $0 : d > $0 } ?? true
                let upperOK = s.upperBound.map { highSide ? d < $0 : d <= $0 } ?? true
                return lowerOK && upperOK
            }
        }
    }

    public enum LaunchType: String, Codable, Sendable, Equatable {
        case ec2 = "EC2"
        case fargate = "FARGATE"
    }

    public struct CapacityProvider: Codable, Sendable, Equatable {
        public var launchType: LaunchType
        public var tasksPerInstance: Int
        /// Time from the capacity provider's launch decision until the instance can take tasks.
        public var instanceWarmupSeconds: Double
        public var targetCapacityPercent: Int
        public var minimumScalingStepSize: Int
        public var maximumScalingStepSize: Int
    }

    public struct TaskTiming: Codable, Sendable, Equatable {
        /// Placement to RUNNING: image pull and container start.
        public var startSeconds: Double
        /// RUNNING to ready for jobs: OpenVINO model compilation.
        public var modelLoadSeconds: Double
        public var stopTimeoutSeconds: Double
    }
}

/// Why a policy file was rejected.
public enum PolicyError: Error, Equatable, CustomStringConvertible {
    case empty
    case tooLarge(bytes: Int, limit: Int)
    case notJSON(String)
    case unknownKey(path: String)
    case invalid(path: String, reason: String)

    public var description: String {
        switch self {
        case .empty: return "policy: the file is empty"
        case let .tooLarge(bytes, limit): return "policy: \(bytes) bytes is more than the \(limit)-byte limit"
        case let .notJSON(why): return "policy: not a valid policy document: \(why)"
        case let .unknownKey(path): return "policy: unknown key \(path) (a typo would silently change nothing)"
        case let .invalid(path, reason): return "policy: \(path): \(reason)"
        }
    }
}

extension ScalingPolicy {
    public static let maxDocumentBytes = 1 << 20

    /// Parses and validates a policy document.
    public static func decode(_ data: Data) throws(PolicyError) -> ScalingPolicy {
        if data.isEmpty { throw .empty }
        if data.count > maxDocumentBytes { throw .tooLarge(bytes: data.count, limit: maxDocumentBytes) }
        let raw: Any
        do {
            raw = try JSONSerialization.jsonObject(with: data, options: [])
        } catch {
            throw .notJSON("JSON syntax error (\(String(describing: error).prefix(200)))")
        }
        try checkKeys(raw, schema: policySchema, path: "$")
        let policy: ScalingPolicy
        do {
            policy = try JSONDecoder().decode(ScalingPolicy.self, from: data)
        } catch let error as DecodingError {
            throw .notJSON(describe(error))
        } catch {
            throw .notJSON(String(describing: error))
        }
        try policy.validate()
        return policy
    }

    public static func decode(_ text: String) throws(PolicyError) -> ScalingPolicy {
        try decode(Data(text.utf8))
    }

    /// The policy that deploy/refvision.yaml deploys (embedded copy of scaling/worker-policy.json).
    public static func deployed() throws(PolicyError) -> ScalingPolicy {
        try decode(DeployedPolicy.json)
    }

    // MARK: validation

    public func validate() throws(PolicyError) {
        func check(_ ok: Bool, _ path: String, _ reason: String) throws(PolicyError) {
            if !ok { throw .invalid(path: path, reason: reason) }
        }
        func seconds(_ v: Double, _ path: String, max: Double = 86_400) throws(PolicyError) {
            try check(v.isFinite && v >= 0 && v <= max, path, "must be a number of seconds in 0...\(Int(max))")
        }
        try check(version == 1, "$.version", "only version 1 is understood")
        try check(capacity.minTasks >= 0, "$.capacity.minTasks", "must be ≥ 0")
        try check(capacity.maxTasks >= 1 && capacity.maxTasks <= 10_000, "$.capacity.maxTasks", "must be in 1...10000")
        try check(capacity.minTasks <= capacity.maxTasks, "$.capacity", "minTasks must be ≤ maxTasks")
        try check(!metric.namespace.isEmpty && !metric.namespace.hasPrefix("AWS/"), "$.metric.namespace",
                  "must be a custom namespace (not empty, not AWS/...)")
        try check(!metric.dimensions.isEmpty && metric.dimensions.count <= 30, "$.metric.dimensions", "1...30 names")
        try check(metric.periodSeconds == 60, "$.metric.periodSeconds",
                  "the fleet publishes every minute and target tracking uses 1-minute datapoints: must be 60")
        try check(serviceTime.defaultSeconds.isFinite && serviceTime.defaultSeconds > 0 && serviceTime.defaultSeconds <= 86_400,
                  "$.serviceTime.defaultSeconds", "must be in (0, 86400]")
        try check(serviceTime.referenceClipSeconds.isFinite && serviceTime.referenceClipSeconds > 0
                  && serviceTime.referenceClipSeconds <= 86_400, "$.serviceTime.referenceClipSeconds", "must be in (0, 86400]")
        let tt = targetTracking
        try seconds(tt.acceptableLatencySeconds, "$.targetTracking.acceptableLatencySeconds")
        try check(tt.targetValue.isFinite && tt.targetValue > 0 && tt.targetValue <= 1_000_000,
                  "$.targetTracking.targetValue", "must be in (0, 1e6]")
        try check(tt.trackedValueFloor.isFinite && tt.trackedValueFloor > 0 && tt.trackedValueFloor < 0.9 * tt.targetValue,
                  "$.targetTracking.trackedValueFloor", "must be > 0 and below the scale-in threshold (0.9 × targetValue)")
        try seconds(tt.scaleOutCooldownSeconds, "$.targetTracking.scaleOutCooldownSeconds")
        try seconds(tt.scaleInCooldownSeconds, "$.targetTracking.scaleInCooldownSeconds")
        if let w = wakeFromZero {
            try w.validate(path: "$.wakeFromZero")
            try check(w.metrics == ["ApproximateNumberOfMessagesVisible"], "$.wakeFromZero.metrics",
                      "the wake alarm watches [\"ApproximateNumberOfMessagesVisible\"] (gated on DesiredTasks = 0)")
            try check(w.adjustmentType == .changeInCapacity, "$.wakeFromZero.adjustmentType",
                      "must be ChangeInCapacity (ExactCapacity could cut a fleet that is still starting)")
            try check(w.steps.allSatisfy { $0.adjustment > 0 }, "$.wakeFromZero.steps", "every adjustment must add tasks")
        }
        if let z = scaleToZero {
            try z.validate(path: "$.scaleToZero")
            try check(z.metrics == ["ApproximateNumberOfMessagesVisible", "ApproximateNumberOfMessagesNotVisible"],
                      "$.scaleToZero.metrics",
                      "the zero alarm watches visible + in-flight: [\"ApproximateNumberOfMessagesVisible\", \"ApproximateNumberOfMessagesNotVisible\"]")
            try check(z.adjustmentType == .exactCapacity && z.steps.allSatisfy { $0.adjustment == 0 },
                      "$.scaleToZero", "must set ExactCapacity 0")
            try check(z.comparisonOperator == .lessThanOrEqualToThreshold && z.threshold == 0,
                      "$.scaleToZero", "must fire only when visible + in-flight ≤ 0 (never kill in-flight work)")
        }
        let cp = capacityProvider
        try check(cp.tasksPerInstance >= 1 && cp.tasksPerInstance <= 1_000, "$.capacityProvider.tasksPerInstance", "must be in 1...1000")
        try seconds(cp.instanceWarmupSeconds, "$.capacityProvider.instanceWarmupSeconds", max: 10_000)
        try check((1...100).contains(cp.targetCapacityPercent), "$.capacityProvider.targetCapacityPercent", "must be in 1...100")
        try check(cp.minimumScalingStepSize >= 1 && cp.minimumScalingStepSize <= cp.maximumScalingStepSize
                  && cp.maximumScalingStepSize <= 10_000, "$.capacityProvider",
                  "need 1 ≤ minimumScalingStepSize ≤ maximumScalingStepSize ≤ 10000")
        try seconds(task.startSeconds, "$.task.startSeconds")
        try seconds(task.modelLoadSeconds, "$.task.modelLoadSeconds")
        try seconds(task.stopTimeoutSeconds, "$.task.stopTimeoutSeconds")
    }
}

extension ScalingPolicy.StepPolicy {
    func validate(path: String) throws(PolicyError) {
        func check(_ ok: Bool, _ sub: String, _ reason: String) throws(PolicyError) {
            if !ok { throw .invalid(path: path + sub, reason: reason) }
        }
        try check(threshold.isFinite, ".threshold", "must be a finite number")
        try check((1...1_440).contains(evaluationPeriods), ".evaluationPeriods", "must be in 1...1440")
        try check(datapointsToAlarm >= 1 && datapointsToAlarm <= evaluationPeriods, ".datapointsToAlarm",
                  "must be in 1...evaluationPeriods")
        try check(cooldownSeconds.isFinite && cooldownSeconds >= 0 && cooldownSeconds <= 86_400, ".cooldownSeconds",
                  "must be in 0...86400")
        try check(!steps.isEmpty && steps.count <= 20, ".steps", "need 1...20 steps")
        for (i, s) in steps.enumerated() {
            try check(s.lowerBound?.isFinite ?? true, ".steps[\(i)].lowerBound", "must be finite")
            try check(s.upperBound?.isFinite ?? true, ".steps[\(i)].upperBound", "must be finite")
            if let l = s.lowerBound, let u = s.upperBound {
                try check(l < u, ".steps[\(i)]", "lowerBound must be < upperBound")
            }
            try check(abs(s.adjustment) <= 10_000, ".steps[\(i)].adjustment", "must be in -10000...10000")
            if i > 0 {
                let prev = steps[i - 1]
                try check(prev.upperBound != nil && s.lowerBound != nil && prev.upperBound == s.lowerBound,
                          ".steps[\(i)]", "steps must be sorted and contiguous (previous upperBound = this lowerBound)")
            }
        }
    }
}

// MARK: strict key checking

/// Allowed keys per object; nested objects have their own schema, arrays of objects use `.array`.
private indirect enum KeySchema: Sendable {
    case leaf
    case object([String: KeySchema])
    case array(KeySchema)
}

private let stepSchema: KeySchema = .object(["lowerBound": .leaf, "upperBound": .leaf, "adjustment": .leaf])
private let stepPolicySchema: KeySchema = .object([
    "metrics": .leaf, "comparisonOperator": .leaf, "threshold": .leaf, "evaluationPeriods": .leaf,
    "datapointsToAlarm": .leaf, "treatMissingData": .leaf, "adjustmentType": .leaf,
    "steps": .array(stepSchema), "cooldownSeconds": .leaf,
])
private let publishedMetricSchema: KeySchema = .object(["name": .leaf, "unit": .leaf, "statistic": .leaf, "formula": .leaf])
private let policySchema: KeySchema = .object([
    "version": .leaf, "service": .leaf, "notes": .leaf,
    "capacity": .object(["minTasks": .leaf, "maxTasks": .leaf]),
    "metric": .object([
        "namespace": .leaf, "dimensions": .leaf, "periodSeconds": .leaf,
        "backlogPerTask": publishedMetricSchema, "desiredTasks": publishedMetricSchema,
    ]),
    "serviceTime": .object(["defaultSeconds": .leaf, "referenceClipSeconds": .leaf, "source": .leaf]),
    "targetTracking": .object([
        "acceptableLatencySeconds": .leaf, "targetValue": .leaf, "trackedValueFloor": .leaf,
        "scaleOutCooldownSeconds": .leaf, "scaleInCooldownSeconds": .leaf, "disableScaleIn": .leaf,
    ]),
    "wakeFromZero": stepPolicySchema,
    "scaleToZero": stepPolicySchema,
    "capacityProvider": .object([
        "launchType": .leaf, "tasksPerInstance": .leaf, "instanceWarmupSeconds": .leaf,
        "targetCapacityPercent": .leaf, "minimumScalingStepSize": .leaf, "maximumScalingStepSize": .leaf,
    ]),
    "task": .object(["startSeconds": .leaf, "modelLoadSeconds": .leaf, "stopTimeoutSeconds": .leaf]),
])

private func checkKeys(_ value: Any, schema: KeySchema, path: String) throws(PolicyError) {
    switch schema {
    case .leaf:
        return
    case let .object(fields):
        guard let dict = value as? [String: Any] else {
            if value is NSNull { return } // optional object written as null
            throw .invalid(path: path, reason: "must be an object")
        }
        for key in dict.keys.sorted() {
            guard let sub = fields[key] else { throw .unknownKey(path: path + "." + key) }
            if let v = dict[key] { try checkKeys(v, schema: sub, path: path + "." + key) }
        }
    case let .array(element):
        guard let array = value as? [Any] else { throw .invalid(path: path, reason: "must be an array") }
        for (i, v) in array.enumerated() { try checkKeys(v, schema: element, path: "\(path)[\(i)]") }
    }
}

private func describe(_ error: DecodingError) -> String {
    func pathString(_ path: [CodingKey]) -> String {
        "$" + path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
    }
    switch error {
    case let .keyNotFound(key, ctx):
        return "missing key \(pathString(ctx.codingPath + [key]))"
    case let .typeMismatch(_, ctx):
        return "wrong type at \(pathString(ctx.codingPath)): \(ctx.debugDescription)"
    case let .valueNotFound(_, ctx):
        return "null at \(pathString(ctx.codingPath)) where a value is required"
    case let .dataCorrupted(ctx):
        return "bad value at \(pathString(ctx.codingPath)): \(ctx.debugDescription)"
    @unknown default:
        return String(describing: error)
    }
}
