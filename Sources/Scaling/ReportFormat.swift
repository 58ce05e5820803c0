import Foundation

extension SimulationReport {
    /// The machine-readable summary:
    /// `{"jobs":N,"latency_s":{"p50":…,"p95":…,"p99":…,"max":…},"max_queue_depth":…,"task_minutes":…,
    /// "instance_hours":…,"cost_usd":…,"first_decision_from_zero_s":…,"ended_at_zero":…,"undecided":…}`.
    /// Latencies are null when nothing was decided; first_decision_from_zero_s is null when no job
    /// ever found the fleet at zero.
    public func json() -> String {
        func num(_ v: Double?, _ decimals: Int) -> String {
            guard let v, v.isFinite else { return "null" }
            return String(format: "%.\(decimals)f", v)
        }
        let l = latency
        return "{\"jobs\":\(jobs),"
            + "\"latency_s\":{\"p50\":\(num(l?.p50, 1)),\"p95\":\(num(l?.p95, 1)),\"p99\":\(num(l?.p99, 1)),\"max\":\(num(l?.max, 1))},"
            + "\"max_queue_depth\":\(maxQueueDepth),"
            + "\"task_minutes\":\(num(taskMinutes, 1)),"
            + "\"instance_hours\":\(num(instanceHours, 2)),"
            + "\"cost_usd\":\(num(costUSD, 2)),"
            + "\"first_decision_from_zero_s\":\(num(firstDecisionFromZeroSeconds, 1)),"
            + "\"ended_at_zero\":\(endedAtZero),"
            + "\"undecided\":\(jobs - decided)}"
    }

    /// The per-minute timeline as CSV (seconds since the start).
    public func timelineCSV() -> String {
        var out = "time_s,visible,in_flight,desired,running,instances,backlog_per_task,decisions,max_latency_s\n"
        for p in timeline {
            let lat = p.maxLatency.map { String(format: "%.1f", $0) } ?? ""
            out += "\(Int((p.time - startTime).rounded())),\(p.visible),\(p.inFlight),\(p.desired),\(p.running),\(p.instances),"
            out += "\(p.backlogPerTask),\(p.decisions),\(lat)\n"
        }
        return out
    }

    /// A human-readable summary, one fact per line.
    public func text(label: String? = nil) -> String {
        func s(_ v: Double?) -> String { v.map { String(format: "%.1f s", $0) } ?? "–" }
        var lines: [String] = []
        if let label { lines.append("policy: \(label)") }
        lines.append("jobs: \(jobs) (\(decided) decided, \(jobs - decided) undecided)")
        if let l = latency {
            lines.append("latency upload→decision: p50 \(s(l.p50))  p95 \(s(l.p95))  p99 \(s(l.p99))  max \(s(l.max))")
        } else {
            lines.append("latency upload→decision: no decisions")
        }
        lines.append("max queue depth: \(maxQueueDepth); jobs interrupted by a stopping task: \(interruptedJobs)")
        lines.append("peak tasks: \(peakDesired) desired, \(peakRunning) running; peak instances: \(peakInstances)")
        lines.append(String(format: "task-minutes: %.1f  instance-hours: %.2f  cost: $%.2f", taskMinutes, instanceHours, costUSD))
        lines.append("wake-ups from zero: \(wakeUps); first decision from zero: \(s(firstDecisionFromZeroSeconds)); worst: \(s(worstDecisionFromZeroSeconds))")
        lines.append("scaling actions: \(actions.count)")
        lines.append("ended at zero: \(endedAtZero ? "yes" : "no") (simulated \(String(format: "%.1f", (endTime - startTime) / 3600)) h)")
        return lines.joined(separator: "\n")
    }
}

/// Two runs side by side, one metric per row.
public func compareTable(_ a: (String, SimulationReport), _ b: (String, SimulationReport)) -> String {
    func s(_ v: Double?) -> String { v.map { String(format: "%.1f", $0) } ?? "–" }
    let rows: [(String, String, String)] = [
        ("jobs decided", "\(a.1.decided)/\(a.1.jobs)", "\(b.1.decided)/\(b.1.jobs)"),
        ("latency p50 (s)", s(a.1.latency?.p50), s(b.1.latency?.p50)),
        ("latency p95 (s)", s(a.1.latency?.p95), s(b.1.latency?.p95)),
        ("latency p99 (s)", s(a.1.latency?.p99), s(b.1.latency?.p99)),
        ("latency max (s)", s(a.1.latency?.max), s(b.1.latency?.max)),
        ("max queue depth", "\(a.1.maxQueueDepth)", "\(b.1.maxQueueDepth)"),
        ("peak tasks", "\(a.1.peakDesired)", "\(b.1.peakDesired)"),
        ("task-minutes", s(a.1.taskMinutes), s(b.1.taskMinutes)),
        ("instance-hours", String(format: "%.2f", a.1.instanceHours), String(format: "%.2f", b.1.instanceHours)),
        ("cost (USD)", String(format: "%.2f", a.1.costUSD), String(format: "%.2f", b.1.costUSD)),
        ("wake-ups", "\(a.1.wakeUps)", "\(b.1.wakeUps)"),
        ("first decision from zero (s)", s(a.1.firstDecisionFromZeroSeconds), s(b.1.firstDecisionFromZeroSeconds)),
        ("ended at zero", a.1.endedAtZero ? "yes" : "no", b.1.endedAtZero ? "yes" : "no"),
    ]
    let w0 = max(rows.map(\.0.count).max() ?? 0, 6)
    let w1 = max(rows.map(\.1.count).max() ?? 0, a.0.count)
    let w2 = max(rows.map(\.2.count).max() ?? 0, b.0.count)
    func pad(_ s: String, _ w: Int) -> String { s + String(repeating: " ", count: max(0, w - s.count)) }
    var out = pad("", w0) + "  " + pad(a.0, w1) + "  " + b.0 + "\n"
    for r in rows { out += pad(r.0, w0) + "  " + pad(r.1, w1) + "  " + pad(r.2, w2) + "\n" }
    return out
}
