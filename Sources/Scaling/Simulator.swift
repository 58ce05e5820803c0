import Foundation

/// Everything about the world around the policy that the simulator needs and the policy doesn't say:
/// AWS's fixed behaviour (target tracking's 3-of-3 and 15-of-15 alarms), delays, prices.
public struct SimulationEnvironment: Sendable, Equatable {
    /// Upload → job visible on the jobs queue (S3 event → EventBridge → intake → dispatcher).
    public var dispatchDelaySeconds: Double = 2
    /// Metric datapoint → alarm evaluated and scaling action taken (CloudWatch ingestion + evaluation).
    public var alarmDelaySeconds: Double = 60
    /// Extra lag of the AWS/SQS metrics behind the custom metrics (wake and zero alarms). SQS only
    /// emits metrics for active queues, so the first message after a long quiet spell can take longer.
    public var sqsMetricLagSeconds: Double = 0
    /// Tasks waiting for an instance → the capacity provider's managed scaling launches instances.
    public var capacityProviderReactionSeconds: Double = 60
    /// An empty instance is terminated after this long (managed scaling's 15-minute scale-in alarm).
    public var instanceIdleScaleInSeconds: Double = 900
    /// Target tracking's scale-out alarm: this many 1-minute datapoints above target in a row.
    public var scaleOutDatapoints = 3
    /// Target tracking's scale-in alarm: this many datapoints below `scaleInThresholdRatio` × target.
    public var scaleInDatapoints = 15
    public var scaleInThresholdRatio = 0.9
    /// Tasks already running and ready (with their instances) at the start.
    public var initialTasks = 0
    /// After the last arrival, give up waiting for the fleet to return to zero after this long.
    public var maxDrainSeconds: Double = 6 * 3600
    public var instancePricePerHour: Double
    public var taskPricePerHour: Double

    /// inf2.xlarge on-demand, us-east-1 (USD per hour).
    public static let defaultInstancePricePerHour = 0.7582
    /// A 4 vCPU / 8 GiB Linux x86 Fargate task, us-east-1: 4 × 0.04048 + 8 × 0.004445.
    public static let defaultFargateTaskPricePerHour = 0.19748

    /// Defaults; prices follow the policy's launch type (instances for EC2, tasks for Fargate).
    public init(policy: ScalingPolicy) {
        switch policy.capacityProvider.launchType {
        case .ec2:
            instancePricePerHour = Self.defaultInstancePricePerHour
            taskPricePerHour = 0
        case .fargate:
            instancePricePerHour = 0
            taskPricePerHour = Self.defaultFargateTaskPricePerHour
        }
    }

    public func validate(policy: ScalingPolicy) throws(SimulationError) {
        func check(_ ok: Bool, _ field: String, _ reason: String) throws(SimulationError) {
            if !ok { throw .invalidEnvironment(field: field, reason: reason) }
        }
        for (v, f) in [(dispatchDelaySeconds, "dispatch-delay"), (alarmDelaySeconds, "alarm-delay"),
                       (sqsMetricLagSeconds, "sqs-metric-lag"), (capacityProviderReactionSeconds, "capacity-provider-reaction"),
                       (instanceIdleScaleInSeconds, "instance-idle-scale-in")] {
            try check(v.isFinite && v >= 0 && v <= 86_400, f, "must be in 0...86400 seconds")
        }
        try check((1...1_440).contains(scaleOutDatapoints), "scale-out-datapoints", "must be in 1...1440")
        try check((1...1_440).contains(scaleInDatapoints), "scale-in-datapoints", "must be in 1...1440")
        try check(scaleInThresholdRatio > 0 && scaleInThresholdRatio <= 1, "scale-in-threshold-ratio", "must be in (0, 1]")
        try check(initialTasks >= 0 && initialTasks <= policy.capacity.maxTasks, "initial-tasks", "must be in 0...maxTasks")
        try check(maxDrainSeconds.isFinite && maxDrainSeconds >= 0 && maxDrainSeconds <= 7 * 86_400, "max-drain",
                  "must be in 0...604800 seconds")
        try check(instancePricePerHour.isFinite && instancePricePerHour >= 0 && instancePricePerHour <= 10_000,
                  "instance-price", "must be in 0...10000 USD/hour")
        try check(taskPricePerHour.isFinite && taskPricePerHour >= 0 && taskPricePerHour <= 10_000,
                  "task-price", "must be in 0...10000 USD/hour")
    }
}

public enum SimulationError: Error, Equatable, CustomStringConvertible {
    case invalidEnvironment(field: String, reason: String)
    case invalidJobs(String)
    case spanTooLong(seconds: Double)

    public var description: String {
        switch self {
        case let .invalidEnvironment(field, reason): return "simulation: \(field) \(reason)"
        case let .invalidJobs(why): return "simulation: \(why)"
        case let .spanTooLong(s): return "simulation: spans \(Int(s)) s, more than 40 days"
        }
    }
}

public struct LatencySummary: Sendable, Equatable {
    public var p50: Double
    public var p95: Double
    public var p99: Double
    public var max: Double
    public var mean: Double

    /// Nearest-rank percentiles.
    public init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        let s = values.sorted()
        func rank(_ p: Double) -> Double { s[Swift.max(0, Int((p / 100 * Double(s.count)).rounded(.up)) - 1)] }
        p50 = rank(50); p95 = rank(95); p99 = rank(99)
        max = s[s.count - 1]
        mean = s.reduce(0, +) / Double(s.count)
    }
}

/// State at one metric tick (every minute).
public struct TimelinePoint: Sendable, Equatable {
    public var time: Double
    public var visible: Int
    public var inFlight: Int
    public var desired: Int
    public var running: Int
    public var instances: Int
    /// The BacklogPerTask datapoint published at this tick.
    public var backlogPerTask: Int
    /// Decisions since the previous tick and the longest upload→decision latency among them.
    public var decisions: Int
    public var maxLatency: Double?
}

public struct ScalingAction: Sendable, Equatable {
    public enum Cause: String, Sendable, Equatable {
        case targetTrackingOut = "target tracking out"
        case targetTrackingIn = "target tracking in"
        case wakeFromZero = "wake from zero"
        case scaleToZero = "scale to zero"
    }

    public var time: Double
    public var from: Int
    public var to: Int
    public var cause: Cause
}

public struct SimulationReport: Sendable, Equatable {
    public var jobs: Int
    public var decided: Int
    public var latency: LatencySummary?
    public var maxQueueDepth: Int
    public var taskMinutes: Double
    public var instanceHours: Double
    public var costUSD: Double
    /// Upload of the first job that found the fleet at zero → the first decision after it.
    public var firstDecisionFromZeroSeconds: Double?
    public var worstDecisionFromZeroSeconds: Double?
    public var wakeUps: Int
    /// Jobs taken away from a task that was stopped while working on them (released and restarted).
    /// The policies never stop a busy task, so this stays 0; it is counted to prove it.
    public var interruptedJobs: Int
    public var endedAtZero: Bool
    public var peakDesired: Int
    public var peakRunning: Int
    public var peakInstances: Int
    public var startTime: Double
    public var endTime: Double
    public var timeline: [TimelinePoint]
    public var actions: [ScalingAction]
    /// Per job (input order): upload → decision, nil if never decided.
    public var latencies: [Double?]
}

public enum Simulator {
    /// Runs the policy against the jobs. `startTime` defaults to the first arrival's minute; the fleet
    /// starts at zero (or `environment.initialTasks` ready tasks).
    public static func run(
        jobs: [Job], policy: ScalingPolicy, environment: SimulationEnvironment, startTime: Double? = nil
    ) throws(SimulationError) -> SimulationReport {
        try environment.validate(policy: policy)
        for j in jobs where !(j.upload.isFinite && j.serviceSeconds.isFinite && j.serviceSeconds > 0) {
            throw .invalidJobs("a job has a non-finite time or a non-positive service time")
        }
        let period = Double(policy.metric.periodSeconds)
        let firstVisible = jobs.map { $0.upload + environment.dispatchDelaySeconds }.min()
        let start = startTime ?? ((firstVisible ?? 0) / period).rounded(.down) * period
        let lastVisible = jobs.map { $0.upload + environment.dispatchDelaySeconds }.max() ?? start
        guard start.isFinite, lastVisible - start + environment.maxDrainSeconds <= 40 * 86_400 else {
            throw .spanTooLong(seconds: lastVisible - start + environment.maxDrainSeconds)
        }
        if let f = firstVisible, f < start { throw .invalidJobs("a job arrives before the start time") }
        let engine = Engine(jobs: jobs, policy: policy, env: environment, start: start, lastVisible: lastVisible)
        return engine.run()
    }
}

// MARK: - the engine

private final class Engine {
    enum TaskState: Int, CaseIterable { case pending, starting, loading, idle, busy, draining, stopped }

    struct SimTask {
        var state: TaskState
        var instance: Int?
        var placedAt: Double?
        var stoppedAt: Double?
        var job: Int?
    }

    struct SimInstance {
        var ready = false
        var terminated = false
        var launchedAt: Double
        var terminatedAt: Double?
        var used = 0
        var emptySince: Double
    }

    struct Sample {
        var time: Double
        var visible: Int
        var inFlight: Int
        var running: Int
        var desired: Int
        var backlog: Int
    }

    struct StepState {
        var cooldownEnd = -Double.infinity
        var base = 0
    }

    enum Event {
        case tick
        case evaluateTargetTracking(Int)
        case evaluateSteps(Int)
        case capacityCheck
        case instanceReady(Int)
        case taskRunning(Int)
        case taskReady(Int)
        case jobDone(Int)
    }

    let jobs: [Job]
    let policy: ScalingPolicy
    let env: SimulationEnvironment
    let start: Double
    let lastVisible: Double
    let period: Double
    let tasksPerInstance: Int
    let maxInstances: Int

    var now: Double
    var events = EventQueue<Event>()
    var desired = 0
    var tasks: [SimTask] = []
    /// Ids of tasks not yet stopped, oldest first (the scans below stay small on long runs).
    var aliveIDs: [Int] = []
    var counts = [Int](repeating: 0, count: TaskState.allCases.count)
    var idleTasks: [Int] = []
    var pendingQueue: [Int] = []
    var pendingHead = 0
    var instances: [SimInstance] = []
    /// Ids of instances not yet terminated, oldest first.
    var liveInstanceIDs: [Int] = []
    var activeInstances = 0
    var capacityCheckScheduled = false
    var queue: [Int] = []
    var queueHead = 0
    var inFlight = 0
    var samples: [Sample] = []
    var scaleOutCooldownEnd = -Double.infinity
    var scaleInCooldownEnd = -Double.infinity
    var wakeState = StepState()
    var zeroState = StepState()

    // results
    var latencies: [Double?]
    var decided = 0
    var releasedJobs = 0
    var maxQueueDepth = 0
    var waking = false
    var wakeStartUpload = 0.0
    var firstFromZero: Double?
    var worstFromZero: Double?
    var wakeUps = 0
    var peakDesired = 0
    var peakRunning = 0
    var peakInstances = 0
    var timeline: [TimelinePoint] = []
    var actions: [ScalingAction] = []
    var minuteDecisions = 0
    var minuteMaxLatency: Double?
    var finished = false
    var endedAtZero = false

    init(jobs: [Job], policy: ScalingPolicy, env: SimulationEnvironment, start: Double, lastVisible: Double) {
        self.jobs = jobs
        self.policy = policy
        self.env = env
        self.start = start
        self.lastVisible = lastVisible
        period = Double(policy.metric.periodSeconds)
        tasksPerInstance = policy.capacityProvider.tasksPerInstance
        let perInstance = Double(tasksPerInstance) * Double(policy.capacityProvider.targetCapacityPercent) / 100
        maxInstances = Int((Double(policy.capacity.maxTasks) / perInstance).rounded(.up))
        now = start
        latencies = Array(repeating: nil, count: jobs.count)
    }

    var isFargate: Bool { policy.capacityProvider.launchType == .fargate }
    var liveTasks: Int { counts[0] + counts[1] + counts[2] + counts[3] + counts[4] }
    var runningTasks: Int { counts[2] + counts[3] + counts[4] + counts[5] }
    var aliveTasks: Int { liveTasks + counts[5] }
    var placedTasks: Int { counts[1] + counts[2] + counts[3] + counts[4] + counts[5] }
    var pendingCount: Int { pendingQueue.count - pendingHead }
    var visible: Int { queue.count - queueHead }

    func run() -> SimulationReport {
        // Arrivals are streamed in time order (priority 1: after completions and starts at the same
        // instant, before ticks and alarm evaluations) instead of filling the heap.
        let order = jobs.indices.sorted { a, b in
            jobs[a].upload != jobs[b].upload ? jobs[a].upload < jobs[b].upload : a < b
        }
        var nextArrival = 0
        if env.initialTasks > 0 {
            desired = env.initialTasks
            peakDesired = desired
            for _ in 0..<env.initialTasks {
                var instance: Int?
                if !isFargate {
                    let i = freeInstance() ?? launchInstance(readyNow: true)
                    instances[i].used += 1
                    instance = i
                }
                let id = newTask(.idle)
                tasks[id].instance = instance
                tasks[id].placedAt = now
                idleTasks.append(id)
            }
        }
        events.push(.tick, at: start, priority: 3)
        let arrivalPriority = 1
        while !finished {
            let arrivalTime = nextArrival < order.count ? jobs[order[nextArrival]].upload + env.dispatchDelaySeconds : .infinity
            let eventFirst = events.peek().map {
                $0.time < arrivalTime || ($0.time == arrivalTime && $0.priority < arrivalPriority)
            } ?? false
            if !eventFirst, nextArrival < order.count {
                now = arrivalTime
                arrive(order[nextArrival])
                nextArrival += 1
                continue
            }
            guard let (t, e) = events.pop() else { break }
            now = t
            switch e {
            case .tick: tick()
            case let .evaluateTargetTracking(k): evaluateTargetTracking(k)
            case let .evaluateSteps(k): evaluateSteps(k)
            case .capacityCheck: capacityCheck()
            case let .instanceReady(i): instanceReady(i)
            case let .taskRunning(id): taskRunning(id)
            case let .taskReady(id): taskReady(id)
            case let .jobDone(id): jobDone(id)
            }
        }
        return report()
    }

    // MARK: tasks and instances

    func newTask(_ state: TaskState) -> Int {
        tasks.append(SimTask(state: state))
        counts[state.rawValue] += 1
        aliveIDs.append(tasks.count - 1)
        return tasks.count - 1
    }

    func setState(_ id: Int, _ state: TaskState) {
        counts[tasks[id].state.rawValue] -= 1
        tasks[id].state = state
        counts[state.rawValue] += 1
        peakRunning = max(peakRunning, runningTasks)
        if state == .stopped, let k = aliveIDs.lastIndex(of: id) { aliveIDs.remove(at: k) }
    }

    func freeInstance() -> Int? {
        liveInstanceIDs.first { instances[$0].ready && instances[$0].used < tasksPerInstance }
    }

    @discardableResult
    func launchInstance(readyNow: Bool) -> Int {
        instances.append(SimInstance(ready: readyNow, launchedAt: now, emptySince: now))
        liveInstanceIDs.append(instances.count - 1)
        activeInstances += 1
        peakInstances = max(peakInstances, activeInstances)
        let id = instances.count - 1
        if !readyNow {
            events.push(.instanceReady(id), at: now + policy.capacityProvider.instanceWarmupSeconds, priority: 0)
        }
        return id
    }

    func setDesired(_ n: Int, cause: ScalingAction.Cause) {
        guard n != desired else { return }
        actions.append(ScalingAction(time: now, from: desired, to: n, cause: cause))
        desired = n
        peakDesired = max(peakDesired, n)
        reconcile()
    }

    /// ECS's service scheduler: start tasks up to the desired count, or stop the surplus — pending
    /// first, then starting, then idle; a busy task is protected (task scale-in protection) and only
    /// drains: it finishes its job and then stops. In-flight work is never killed.
    func reconcile() {
        var live = liveTasks
        if live < desired {
            // A draining task that ECS hasn't been able to stop yet simply stays.
            for id in aliveIDs.reversed() where live < desired && tasks[id].state == .draining {
                setState(id, .busy)
                live += 1
            }
            while live < desired {
                pendingQueue.append(newTask(.pending))
                live += 1
            }
            placePending()
            return
        }
        var excess = live - desired
        while excess > 0, pendingCount > 0 {
            let id = pendingQueue.removeLast()
            setState(id, .stopped)
            tasks[id].stoppedAt = now
            excess -= 1
        }
        for state in [TaskState.starting, .loading, .idle] where excess > 0 {
            for id in aliveIDs.reversed() where excess > 0 && tasks[id].state == state {
                stop(id)
                excess -= 1
            }
        }
        for id in aliveIDs.reversed() where excess > 0 && tasks[id].state == .busy {
            setState(id, .draining)
            excess -= 1
        }
        placePending()
    }

    func stop(_ id: Int) {
        if tasks[id].state == .idle, let k = idleTasks.lastIndex(of: id) { idleTasks.remove(at: k) }
        if let j = tasks[id].job {
            // A task stopped with a job releases it (visibility 0): the job goes back to the head of
            // the queue and starts over. The policies above never do this to a busy task.
            tasks[id].job = nil
            inFlight -= 1
            releasedJobs += 1
            if queueHead > 0 {
                queueHead -= 1
                queue[queueHead] = j
            } else {
                queue.insert(j, at: 0)
            }
        }
        if let i = tasks[id].instance {
            instances[i].used -= 1
            if instances[i].used == 0 { instances[i].emptySince = now }
        }
        setState(id, .stopped)
        tasks[id].stoppedAt = now
    }

    func placePending() {
        while pendingCount > 0 {
            let id = pendingQueue[pendingHead]
            if !isFargate {
                guard let i = freeInstance() else {
                    scheduleCapacityCheck()
                    break
                }
                instances[i].used += 1
                tasks[id].instance = i
            }
            pendingHead += 1
            setState(id, .starting)
            tasks[id].placedAt = now
            events.push(.taskRunning(id), at: now + policy.task.startSeconds, priority: 0)
        }
        if pendingHead > 1024, pendingHead * 2 > pendingQueue.count {
            pendingQueue.removeFirst(pendingHead)
            pendingHead = 0
        }
    }

    func scheduleCapacityCheck() {
        guard !capacityCheckScheduled else { return }
        capacityCheckScheduled = true
        events.push(.capacityCheck, at: now + env.capacityProviderReactionSeconds, priority: 2)
    }

    func instancesNeeded() -> Int {
        let cp = policy.capacityProvider
        let perInstance = Double(tasksPerInstance) * Double(cp.targetCapacityPercent) / 100
        return min(maxInstances, Int((Double(placedTasks + pendingCount) / perInstance - 1e-9).rounded(.up)))
    }

    /// ECS managed scaling: launch instances for tasks waiting for capacity, within the step sizes.
    func capacityCheck() {
        capacityCheckScheduled = false
        guard pendingCount > 0 else { return }
        let cp = policy.capacityProvider
        let needed = instancesNeeded()
        var launch = needed - activeInstances
        if launch > 0 {
            launch = min(max(launch, cp.minimumScalingStepSize), cp.maximumScalingStepSize, maxInstances - activeInstances)
            for _ in 0..<max(launch, 0) { launchInstance(readyNow: false) }
        }
        if activeInstances < needed { scheduleCapacityCheck() }
    }

    func instanceReady(_ i: Int) {
        guard !instances[i].terminated else { return }
        instances[i].ready = true
        instances[i].emptySince = now
        placePending()
    }

    func taskRunning(_ id: Int) {
        guard tasks[id].state == .starting else { return }
        setState(id, .loading)
        events.push(.taskReady(id), at: now + policy.task.modelLoadSeconds, priority: 0)
    }

    func taskReady(_ id: Int) {
        guard tasks[id].state == .loading else { return }
        setState(id, .idle)
        idleTasks.append(id)
        dispatchJobs()
    }

    // MARK: jobs

    func arrive(_ j: Int) {
        if desired == 0, aliveTasks == 0, !waking {
            waking = true
            wakeStartUpload = jobs[j].upload
            wakeUps += 1
        }
        queue.append(j)
        dispatchJobs()
        maxQueueDepth = max(maxQueueDepth, visible)
    }

    /// Each idle task long-polls the jobs queue and takes one job at a time, oldest first.
    func dispatchJobs() {
        while visible > 0, let id = idleTasks.popLast() {
            let j = queue[queueHead]
            queueHead += 1
            setState(id, .busy)
            tasks[id].job = j
            inFlight += 1
            events.push(.jobDone(id), at: now + jobs[j].serviceSeconds, priority: 0)
        }
        if queueHead > 4096, queueHead * 2 > queue.count {
            queue.removeFirst(queueHead)
            queueHead = 0
        }
    }

    func jobDone(_ id: Int) {
        guard tasks[id].state == .busy || tasks[id].state == .draining, let j = tasks[id].job else { return }
        tasks[id].job = nil
        inFlight -= 1
        decided += 1
        let latency = now - jobs[j].upload
        latencies[j] = latency
        minuteDecisions += 1
        minuteMaxLatency = max(minuteMaxLatency ?? 0, latency)
        if waking {
            waking = false
            let fromZero = now - wakeStartUpload
            if firstFromZero == nil { firstFromZero = fromZero }
            worstFromZero = max(worstFromZero ?? 0, fromZero)
        }
        if tasks[id].state == .draining {
            stop(id)
            placePending()
        } else {
            setState(id, .idle)
            idleTasks.append(id)
            dispatchJobs()
        }
    }

    // MARK: metrics and alarms

    func tick() {
        let running = runningTasks
        let backlog = visible == 0 ? 0 : (visible + max(running, 1) - 1) / max(running, 1)
        samples.append(Sample(time: now, visible: visible, inFlight: inFlight, running: running, desired: desired, backlog: backlog))
        let k = samples.count - 1
        events.push(.evaluateTargetTracking(k), at: now + env.alarmDelaySeconds, priority: 4)
        events.push(.evaluateSteps(k), at: now + env.alarmDelaySeconds + env.sqsMetricLagSeconds, priority: 4)
        scaleInInstances()
        timeline.append(TimelinePoint(time: now, visible: visible, inFlight: inFlight, desired: desired, running: running,
                                      instances: activeInstances, backlogPerTask: backlog, decisions: minuteDecisions,
                                      maxLatency: minuteMaxLatency))
        minuteDecisions = 0
        minuteMaxLatency = nil
        let atZero = desired == 0 && aliveTasks == 0 && activeInstances == 0
        if now >= lastVisible, decided == jobs.count, atZero {
            finished = true
            endedAtZero = true
        } else if now >= lastVisible + env.maxDrainSeconds {
            finished = true
            endedAtZero = atZero && decided == jobs.count
        } else {
            events.push(.tick, at: now + period, priority: 3)
        }
    }

    /// Managed scaling scales in empty instances (managed termination protection keeps busy ones).
    func scaleInInstances() {
        guard !isFargate else { return }
        let needed = instancesNeeded()
        for i in liveInstanceIDs where activeInstances > needed {
            let inst = instances[i]
            if inst.ready, inst.used == 0, now - inst.emptySince >= env.instanceIdleScaleInSeconds {
                instances[i].terminated = true
                instances[i].terminatedAt = now
                activeInstances -= 1
            }
        }
        liveInstanceIDs.removeAll { instances[$0].terminated }
    }

    /// The target-tracking metric: IF(BacklogPerTask < floor, floor, BacklogPerTask).
    func trackedValue(_ s: Sample) -> Double {
        max(Double(s.backlog), policy.targetTracking.trackedValueFloor)
    }

    static func ceilCapacity(_ x: Double) -> Int {
        guard x.isFinite else { return Int.max / 2 }
        return Int(min((x - 1e-9).rounded(.up), 1e9))
    }

    /// Application Auto Scaling target tracking: scale out when the last N datapoints are above the
    /// target, to ceil(capacity × metric ÷ target); scale in when the last M are below 90 % of it.
    func evaluateTargetTracking(_ k: Int) {
        let tt = policy.targetTracking
        let target = tt.targetValue
        let value = trackedValue(samples[k])
        let n = env.scaleOutDatapoints
        if k + 1 >= n, ((k - n + 1)...k).allSatisfy({ trackedValue(samples[$0]) > target }) {
            guard now >= scaleOutCooldownEnd else { return }
            let want = min(policy.capacity.maxTasks, Self.ceilCapacity(Double(desired) * value / target))
            if want > desired {
                setDesired(want, cause: .targetTrackingOut)
                scaleOutCooldownEnd = now + tt.scaleOutCooldownSeconds
                scaleInCooldownEnd = now // a scale-out ends a scale-in cooldown
            }
            return
        }
        let m = env.scaleInDatapoints
        let low = env.scaleInThresholdRatio * target
        if !tt.disableScaleIn, k + 1 >= m, ((k - m + 1)...k).allSatisfy({ trackedValue(samples[$0]) < low }) {
            guard now >= scaleInCooldownEnd else { return }
            let want = max(policy.capacity.minTasks, Self.ceilCapacity(Double(desired) * value / target))
            if want < desired {
                setDesired(want, cause: .targetTrackingIn)
                scaleInCooldownEnd = now + tt.scaleInCooldownSeconds
            }
        }
    }

    func evaluateSteps(_ k: Int) {
        if let w = policy.wakeFromZero {
            // Alarm metric: IF(DesiredTasks == 0, ApproximateNumberOfMessagesVisible, 0).
            evaluateStep(w, k, cause: .wakeFromZero, state: &wakeState) { $0.desired == 0 ? Double($0.visible) : 0 }
        }
        if let z = policy.scaleToZero {
            // Alarm metric: ApproximateNumberOfMessagesVisible + ApproximateNumberOfMessagesNotVisible.
            evaluateStep(z, k, cause: .scaleToZero, state: &zeroState) { Double($0.visible + $0.inFlight) }
        }
    }

    /// A CloudWatch alarm (M of N datapoints) driving an Application Auto Scaling step policy. While
    /// the alarm stays in ALARM the policy is invoked at every evaluation. During a scale-out cooldown
    /// the capacity added by the activity that started it counts towards the next adjustment (so
    /// repeated +1s don't stack); a scale-in is not repeated during its cooldown.
    func evaluateStep(_ p: ScalingPolicy.StepPolicy, _ k: Int, cause: ScalingAction.Cause, state: inout StepState,
                      metric: (Sample) -> Double) {
        // Datapoints before the start weren't observed and never breach. (The fleet publishes every
        // minute, so the simulation has no missing data; treatMissingData matters only in AWS.)
        var breaching = 0
        for i in max(0, k - p.evaluationPeriods + 1)...k
        where p.comparisonOperator.breaches(metric(samples[i]), p.threshold) {
            breaching += 1
        }
        guard breaching >= p.datapointsToAlarm, let step = p.step(for: metric(samples[k])) else { return }
        let inCooldown = now < state.cooldownEnd
        let base = inCooldown ? state.base : desired
        var want: Int
        switch p.adjustmentType {
        case .changeInCapacity:
            want = base + step.adjustment
        case .exactCapacity:
            want = step.adjustment
        case .percentChangeInCapacity:
            let delta = Double(base) * Double(step.adjustment) / 100
            let rounded = delta > 0 ? max(1, delta.rounded(.down)) : delta < 0 ? min(-1, delta.rounded(.up)) : 0
            want = base + Int(rounded)
        }
        want = min(max(want, policy.capacity.minTasks), policy.capacity.maxTasks)
        if want > desired {
            if !inCooldown {
                state.base = desired
                state.cooldownEnd = now + p.cooldownSeconds
            }
            setDesired(want, cause: cause)
        } else if want < desired, !inCooldown {
            state.base = desired
            state.cooldownEnd = now + p.cooldownSeconds
            setDesired(want, cause: cause)
        }
    }

    // MARK: report

    func report() -> SimulationReport {
        var taskSeconds = 0.0
        for t in tasks {
            if let placed = t.placedAt { taskSeconds += (t.stoppedAt ?? now) - placed }
        }
        var instanceSeconds = 0.0
        for i in instances { instanceSeconds += (i.terminatedAt ?? now) - i.launchedAt }
        let instanceHours = instanceSeconds / 3600
        let cost = instanceHours * env.instancePricePerHour + taskSeconds / 3600 * env.taskPricePerHour
        return SimulationReport(
            jobs: jobs.count, decided: decided, latency: LatencySummary(latencies.compactMap { $0 }),
            maxQueueDepth: maxQueueDepth, taskMinutes: taskSeconds / 60, instanceHours: instanceHours, costUSD: cost,
            firstDecisionFromZeroSeconds: firstFromZero, worstDecisionFromZeroSeconds: worstFromZero, wakeUps: wakeUps,
            interruptedJobs: releasedJobs,
            endedAtZero: endedAtZero, peakDesired: peakDesired, peakRunning: peakRunning, peakInstances: peakInstances,
            startTime: start, endTime: now, timeline: timeline, actions: actions, latencies: latencies)
    }
}
