import Foundation
import Testing
@testable import Scaling

@Suite("Scaling simulator")
struct SimulatorTests {
    let deployed: ScalingPolicy

    init() throws { deployed = try ScalingPolicy.deployed() }

    func stream(every interval: Double, for seconds: Double, service: Double, from start: Double = 0) -> [Job] {
        stride(from: start, to: start + seconds, by: interval).map { Job(upload: $0, serviceSeconds: service) }
    }

    // MARK: closed forms

    @Test func constantRateWithEnoughTasksHasLatencyEqualToServiceTime() throws {
        var p = deployed
        p.targetTracking.disableScaleIn = true
        var env = SimulationEnvironment(policy: p)
        env.dispatchDelaySeconds = 0
        env.initialTasks = p.capacity.maxTasks
        let jobs = stream(every: 2, for: 3600, service: 12) // 6 jobs in flight at any time, 8 tasks
        let r = try Simulator.run(jobs: jobs, policy: p, environment: env, startTime: 0)
        #expect(r.decided == 1800)
        #expect(r.latencies.allSatisfy { $0 == 12 })
        let l = try #require(r.latency)
        #expect(l.p50 == 12 && l.p95 == 12 && l.p99 == 12 && l.max == 12)
        #expect(r.maxQueueDepth == 0)
        #expect(r.endedAtZero)
        // The only action is the scale to zero once the stream has stopped for 15 datapoints.
        let last = try #require(r.actions.last)
        #expect(r.actions.count == 1 && last.cause == .scaleToZero && last.to == 0)
        #expect(last.time >= 3600 + 15 * 60)
    }

    @Test func targetTrackingScalesALightStreamInToOneTaskWithoutHurtingLatency() throws {
        var env = SimulationEnvironment(policy: deployed)
        env.dispatchDelaySeconds = 0
        env.initialTasks = 8
        let r = try Simulator.run(jobs: stream(every: 20, for: 3600, service: 12), policy: deployed, environment: env,
                                  startTime: 0)
        #expect(r.latencies.allSatisfy { $0 == 12 })
        // 15 datapoints (t = 0…840) below 0.9 × target, evaluated one alarm delay later:
        // ceil(8 × floor ÷ target) = 1, never 0 while the service runs.
        let first = try #require(r.actions.first)
        #expect(first == ScalingAction(time: 14 * 60 + 60, from: 8, to: 1, cause: .targetTrackingIn))
        #expect(!r.actions.contains { $0.cause == .targetTrackingIn && $0.to == 0 })
    }

    @Test func oneMessageAtZeroTasksIsDecidedAfterWarmUpPlusServiceTime() throws {
        var p = deployed
        p.task.startSeconds = 0
        p.task.modelLoadSeconds = 0
        var env = SimulationEnvironment(policy: p)
        env.dispatchDelaySeconds = 0
        env.alarmDelaySeconds = 0
        env.capacityProviderReactionSeconds = 0
        let r = try Simulator.run(jobs: [Job(upload: 0, serviceSeconds: 12)], policy: p, environment: env, startTime: 0)
        #expect(r.latencies == [p.capacityProvider.instanceWarmupSeconds + 12])
        #expect(r.actions.first == ScalingAction(time: 0, from: 0, to: 1, cause: .wakeFromZero))
        #expect(r.wakeUps == 1)
        #expect(r.endedAtZero)
    }

    @Test func oneMessageAtZeroTasksTakesEveryStepOfTheColdPath() throws {
        let env = SimulationEnvironment(policy: deployed)
        let r = try Simulator.run(jobs: [Job(upload: 0, serviceSeconds: 12)], policy: deployed, environment: env, startTime: 0)
        // Visible at 2 s; first datapoint that sees it at 60 s; alarm acts at 120 s; the capacity
        // provider launches at 180 s; instance warm-up; task start; model load; service.
        let cp = deployed.capacityProvider, task = deployed.task
        let launched = 60 + env.alarmDelaySeconds + env.capacityProviderReactionSeconds
        let placed = launched + cp.instanceWarmupSeconds
        let decided = placed + task.startSeconds + task.modelLoadSeconds + 12
        #expect(decided == 442)
        #expect(r.latencies == [decided])
        #expect(r.firstDecisionFromZeroSeconds == decided)
        #expect(r.actions.map(\.cause) == [.wakeFromZero, .scaleToZero])
        // The zero alarm needs 15 empty datapoints: t = 480 … 1320, acting at 1380. The empty
        // instance is terminated 15 minutes after its task stops.
        let zeroAt = 480 + 14 * 60 + env.alarmDelaySeconds
        #expect(r.actions[1].time == zeroAt)
        let terminated = zeroAt + env.instanceIdleScaleInSeconds
        #expect(r.endTime == terminated)
        #expect(abs(r.taskMinutes - (zeroAt - placed) / 60) < 1e-9)
        #expect(abs(r.instanceHours - (terminated - launched) / 3600) < 1e-9)
        #expect(abs(r.costUSD - r.instanceHours * SimulationEnvironment.defaultInstancePricePerHour) < 1e-9)
        #expect(r.endedAtZero)
        #expect(r.json() == #"{"jobs":1,"latency_s":{"p50":442.0,"p95":442.0,"p99":442.0,"max":442.0},"max_queue_depth":1,"task_minutes":17.0,"instance_hours":0.58,"cost_usd":0.44,"first_decision_from_zero_s":442.0,"ended_at_zero":true,"undecided":0}"#)
    }

    @Test func withoutTheWakePolicyTargetTrackingNeverLeavesZero() throws {
        var p = deployed
        p.wakeFromZero = nil
        var env = SimulationEnvironment(policy: p)
        env.maxDrainSeconds = 3600
        let r = try Simulator.run(jobs: [Job(upload: 0, serviceSeconds: 12)], policy: p, environment: env, startTime: 0)
        #expect(r.decided == 0)
        #expect(r.actions.isEmpty)
        #expect(r.peakDesired == 0)
        #expect(!r.endedAtZero)
        #expect(r.json().contains(#""latency_s":{"p50":null,"p95":null,"p99":null,"max":null}"#))
        #expect(r.json().contains(#""undecided":1}"#))
    }

    @Test func fargateSkipsInstancesAndBillsTasks() throws {
        var p = deployed
        p.capacityProvider.launchType = .fargate
        let env = SimulationEnvironment(policy: p)
        let r = try Simulator.run(jobs: [Job(upload: 0, serviceSeconds: 12)], policy: p, environment: env, startTime: 0)
        #expect(r.latencies == [60 + env.alarmDelaySeconds + p.task.startSeconds + p.task.modelLoadSeconds + 12])
        #expect(r.instanceHours == 0 && r.peakInstances == 0)
        #expect(abs(r.costUSD - r.taskMinutes / 60 * SimulationEnvironment.defaultFargateTaskPricePerHour) < 1e-9)
        #expect(r.endedAtZero)
    }

    // MARK: the policies' arithmetic

    @Test func targetTrackingScalesOutToCapacityTimesMetricOverTarget() throws {
        var p = deployed
        p.capacity.maxTasks = 100
        var env = SimulationEnvironment(policy: p)
        env.dispatchDelaySeconds = 0
        env.initialTasks = 1
        let jobs = (0..<100).map { _ in Job(upload: 0, serviceSeconds: 1000) }
        let r = try Simulator.run(jobs: jobs, policy: p, environment: env, startTime: 0)
        // One task busy, 99 visible: BacklogPerTask = 99 at t = 0, 60, 120 (3 of 3), acted on at 180.
        let first = try #require(r.actions.first)
        #expect(first == ScalingAction(time: 180, from: 1, to: Int((99 / p.targetTracking.targetValue).rounded(.up)),
                                       cause: .targetTrackingOut))
        // Nothing more during the scale-out cooldown.
        let next = try #require(r.actions.dropFirst().first { $0.cause == .targetTrackingOut })
        #expect(next.time >= 180 + p.targetTracking.scaleOutCooldownSeconds)
        // Managed scaling launches at most maximumScalingStepSize instances per reaction.
        for (a, b) in zip(r.timeline, r.timeline.dropFirst()) {
            #expect(b.instances - a.instances <= p.capacityProvider.maximumScalingStepSize)
        }
        #expect(r.decided == 100)
    }

    @Test func theCapacityCeilingHoldsUnderOverload() throws {
        let env = SimulationEnvironment(policy: deployed)
        let jobs = (0..<2000).map { _ in Job(upload: 0, serviceSeconds: 12) }
        let r = try Simulator.run(jobs: jobs, policy: deployed, environment: env, startTime: 0)
        #expect(r.peakDesired == deployed.capacity.maxTasks)
        #expect(r.peakRunning <= deployed.capacity.maxTasks)
        #expect(r.peakInstances <= deployed.capacity.maxTasks)
        #expect(r.decided == 2000)
        // 8 tasks can't do 2000 × 12 s of work in less than 3000 s.
        let latest = try #require(r.latency?.max)
        #expect(latest >= 2000 * 12 / 8)
        #expect(r.maxQueueDepth == 2000)
    }

    @Test func wakeAdjustmentsDoNotStackWithinTheCooldown() throws {
        var env = SimulationEnvironment(policy: deployed)
        env.dispatchDelaySeconds = 0
        let jobs = [Job(upload: 0, serviceSeconds: 12)] + (0..<10).map { _ in Job(upload: 30, serviceSeconds: 12) }
        let r = try Simulator.run(jobs: jobs, policy: deployed, environment: env, startTime: 0)
        // t=0: 1 visible → +1 at 60 (cooldown 120 s from 0 tasks). t=60: 11 visible, the datapoint still
        // says 0 desired → the +2 step applies to the capacity before the cooldown: 2, not 3.
        #expect(Array(r.actions.prefix(2)) == [ScalingAction(time: 60, from: 0, to: 1, cause: .wakeFromZero),
                                              ScalingAction(time: 120, from: 1, to: 2, cause: .wakeFromZero)])
    }

    @Test func scaleToZeroNeverKillsInFlightWork() throws {
        var env = SimulationEnvironment(policy: deployed)
        env.dispatchDelaySeconds = 0
        env.initialTasks = 1
        // 15 empty datapoints at t = 0…840 fire the zero alarm at 900; a long job picked up at 841 is
        // still running then. Task scale-in protection lets it finish.
        let r = try Simulator.run(jobs: [Job(upload: 841, serviceSeconds: 300)], policy: deployed, environment: env,
                                  startTime: 0)
        #expect(r.actions.first == ScalingAction(time: 900, from: 1, to: 0, cause: .scaleToZero))
        #expect(r.latencies == [300])
        #expect(r.interruptedJobs == 0)
        #expect(r.endedAtZero)
    }

    @Test func scaleToZeroOnlyFollowsEmptyDatapointsOnAMeetDay() throws {
        let uploads = try MeetDay().generate(seed: 5)
        let jobs = Workload.jobs(for: uploads, service: .measured(deployed), seed: 5)
        let env = SimulationEnvironment(policy: deployed)
        let r = try Simulator.run(jobs: jobs, policy: deployed, environment: env, startTime: 0)
        let zero = try #require(deployed.scaleToZero)
        let zeroActions = r.actions.filter { $0.cause == .scaleToZero }
        #expect(!zeroActions.isEmpty)
        for a in zeroActions {
            let window = r.timeline.filter {
                $0.time <= a.time - env.alarmDelaySeconds && $0.time > a.time - env.alarmDelaySeconds - Double(zero.evaluationPeriods) * 60
            }
            #expect(window.count == zero.evaluationPeriods)
            #expect(window.allSatisfy { $0.visible + $0.inFlight == 0 })
        }
        #expect(r.decided == r.jobs)
        #expect(r.interruptedJobs == 0)
        #expect(r.endedAtZero)
        #expect(r.peakDesired <= deployed.capacity.maxTasks)
    }

    @Test func seededMeetDaysAreReproducible() throws {
        func day(_ seed: UInt64) throws -> SimulationReport {
            let uploads = try MeetDay().generate(seed: seed)
            let jobs = Workload.jobs(for: uploads, service: .lognormal(mean: 12, cv: 0.3), seed: seed)
            return try Simulator.run(jobs: jobs, policy: deployed, environment: SimulationEnvironment(policy: deployed),
                                     startTime: 0)
        }
        let a = try day(9), b = try day(9), c = try day(10)
        #expect(a == b)
        #expect(a.json() == b.json())
        #expect(a.latencies != c.latencies)
    }

    // MARK: bad input

    @Test func badEnvironmentsAndJobsAreRefused() throws {
        var env = SimulationEnvironment(policy: deployed)
        env.alarmDelaySeconds = -1
        #expect(throws: SimulationError.self) { try Simulator.run(jobs: [], policy: deployed, environment: env) }
        env = SimulationEnvironment(policy: deployed)
        env.initialTasks = deployed.capacity.maxTasks + 1
        #expect(throws: SimulationError.self) { try Simulator.run(jobs: [], policy: deployed, environment: env) }
        env = SimulationEnvironment(policy: deployed)
        env.instancePricePerHour = .nan
        #expect(throws: SimulationError.self) { try Simulator.run(jobs: [], policy: deployed, environment: env) }
        env = SimulationEnvironment(policy: deployed)
        #expect(throws: SimulationError.self) {
            try Simulator.run(jobs: [Job(upload: .infinity, serviceSeconds: 1)], policy: deployed, environment: env)
        }
        #expect(throws: SimulationError.self) {
            try Simulator.run(jobs: [Job(upload: 0, serviceSeconds: 0)], policy: deployed, environment: env)
        }
        #expect(throws: SimulationError.self) {
            try Simulator.run(jobs: [Job(upload: 0, serviceSeconds: 1), Job(upload: 100 * 86_400, serviceSeconds: 1)],
                              policy: deployed, environment: env)
        }
        #expect(throws: SimulationError.self) {
            try Simulator.run(jobs: [Job(upload: 10, serviceSeconds: 1)], policy: deployed, environment: env, startTime: 60)
        }
    }

    @Test func noJobsEndAtZeroImmediately() throws {
        let r = try Simulator.run(jobs: [], policy: deployed, environment: SimulationEnvironment(policy: deployed))
        #expect(r.jobs == 0 && r.endedAtZero && r.latency == nil && r.costUSD == 0)
        #expect(r.json() == #"{"jobs":0,"latency_s":{"p50":null,"p95":null,"p99":null,"max":null},"max_queue_depth":0,"task_minutes":0.0,"instance_hours":0.00,"cost_usd":0.00,"first_decision_from_zero_s":null,"ended_at_zero":true,"undecided":0}"#)
    }

    @Test func nearestRankPercentiles() throws {
        let l = try #require(LatencySummary((1...100).map(Double.init)))
        #expect(l.p50 == 50 && l.p95 == 95 && l.p99 == 99 && l.max == 100 && l.mean == 50.5)
        let one = try #require(LatencySummary([7]))
        #expect(one.p50 == 7 && one.p99 == 7)
        #expect(LatencySummary([]) == nil)
    }
}
