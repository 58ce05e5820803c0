import Foundation
import Testing
@testable import Scaling

/// The repository root, found from this file's path (Tests/ScalingTests/PolicyTests.swift).
func repositoryRoot() -> URL {
    var url = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url
}

func deployedJSONObject() throws -> [String: Any] {
    let obj = try JSONSerialization.jsonObject(with: Data(DeployedPolicy.json.utf8))
    return try #require(obj as? [String: Any])
}

/// The deployed policy with `edit` applied to its JSON object, re-encoded.
func editedPolicyText(_ edit: (inout [String: Any]) -> Void) throws -> String {
    var obj = try deployedJSONObject()
    edit(&obj)
    let data = try JSONSerialization.data(withJSONObject: obj)
    return String(decoding: data, as: UTF8.self)
}

func edited(_ section: String, _ key: String, _ value: Any) throws -> String {
    try editedPolicyText { obj in
        var sub = obj[section] as? [String: Any] ?? [:]
        sub[key] = value
        obj[section] = sub
    }
}

@Suite("Scaling policy")
struct PolicyTests {
    @Test func deployedPolicyDecodesAndItsTargetIsLatencyOverServiceTime() throws {
        let p = try ScalingPolicy.deployed()
        #expect(p.capacity.minTasks == 0)
        #expect(p.metric.namespace == "Refvision")
        #expect(p.metric.backlogPerTask.name == "BacklogPerTask")
        #expect(p.metric.dimensions == ["Cluster", "Service"])
        #expect(p.wakeFromZero?.comparisonOperator == .greaterThanOrEqualToThreshold)
        #expect(p.wakeFromZero?.threshold == 1)
        #expect(p.scaleToZero?.adjustmentType == .exactCapacity)
        let tt = p.targetTracking
        #expect(abs(tt.targetValue - tt.acceptableLatencySeconds / p.serviceTime.defaultSeconds) < 1e-9)
        #expect(p.serviceTime.defaultSeconds == 10 && p.serviceTime.referenceClipSeconds == 10) // measured by make bench
    }

    @Test func embeddedCopyMatchesScalingWorkerPolicyJSON() throws {
        let file = repositoryRoot().appendingPathComponent("scaling/worker-policy.json")
        let text = try String(contentsOf: file, encoding: .utf8)
        #expect(DeployedPolicy.json + "\n" == text, "run scripts/sync-policy")
    }

    @Test func theExamplePoliciesAreValid() throws {
        let dir = repositoryRoot().appendingPathComponent("scaling/examples")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".json") }
        #expect(files.count >= 3)
        for f in files {
            let p = try ScalingPolicy.decode(try Data(contentsOf: dir.appendingPathComponent(f)))
            #expect(abs(p.targetTracking.targetValue - p.targetTracking.acceptableLatencySeconds / p.serviceTime.defaultSeconds) < 1e-9, "\(f)")
        }
    }

    @Test func stepIntervalsFollowApplicationAutoScaling() throws {
        let p = try ScalingPolicy.deployed()
        let wake = try #require(p.wakeFromZero)
        // Threshold 1; steps [0,4) +1, [4,19) +2, [19,∞) +4 relative to it, lower bound inclusive.
        #expect(wake.step(for: 1)?.adjustment == 1)
        #expect(wake.step(for: 4)?.adjustment == 1)
        #expect(wake.step(for: 5)?.adjustment == 2)
        #expect(wake.step(for: 19)?.adjustment == 2)
        #expect(wake.step(for: 20)?.adjustment == 4)
        #expect(wake.step(for: 10_000)?.adjustment == 4)
        #expect(wake.step(for: 0) == nil)
        let zero = try #require(p.scaleToZero)
        // Low side: upper bound inclusive, so exactly 0 visible + in flight matches.
        #expect(zero.step(for: 0)?.adjustment == 0)
        #expect(zero.step(for: 1) == nil)
    }

    @Test func rejectsEmptyCorruptTruncatedAndHugeDocuments() throws {
        #expect(throws: PolicyError.empty) { try ScalingPolicy.decode("") }
        #expect(throws: PolicyError.self) { try ScalingPolicy.decode("{not json") }
        #expect(throws: PolicyError.self) { try ScalingPolicy.decode("[]") }
        #expect(throws: PolicyError.self) { try ScalingPolicy.decode("null") }
        let text = DeployedPolicy.json
        let truncated = String(text.prefix(text.count / 2))
        #expect(throws: PolicyError.self) { try ScalingPolicy.decode(truncated) }
        let huge = String(repeating: " ", count: ScalingPolicy.maxDocumentBytes) + text
        #expect(throws: PolicyError.tooLarge(bytes: huge.utf8.count, limit: ScalingPolicy.maxDocumentBytes)) {
            try ScalingPolicy.decode(huge)
        }
        // Hostile nesting must fail cleanly, not overflow the stack.
        let nested = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: PolicyError.self) { try ScalingPolicy.decode(nested) }
        let binary = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 37) })
        #expect(throws: PolicyError.self) { try ScalingPolicy.decode(binary) }
    }

    @Test func rejectsUnknownKeysSoTyposDoNotPassSilently() throws {
        let typo = try edited("targetTracking", "scaleOutCoolDownSeconds", 60)
        #expect(throws: PolicyError.unknownKey(path: "$.targetTracking.scaleOutCoolDownSeconds")) {
            try ScalingPolicy.decode(typo)
        }
        let topLevel = try editedPolicyText { $0["wakeFromZer0"] = [:] }
        #expect(throws: PolicyError.unknownKey(path: "$.wakeFromZer0")) { try ScalingPolicy.decode(topLevel) }
        let inStep = try editedPolicyText { obj in
            var wake = obj["wakeFromZero"] as? [String: Any] ?? [:]
            wake["steps"] = [["lowerBound": 0, "adjustmnet": 1]]
            obj["wakeFromZero"] = wake
        }
        #expect(throws: PolicyError.unknownKey(path: "$.wakeFromZero.steps[0].adjustmnet")) { try ScalingPolicy.decode(inStep) }
    }

    @Test func rejectsMissingKeysAndWrongTypes() throws {
        let missing = try editedPolicyText { obj in
            var cap = obj["capacity"] as? [String: Any] ?? [:]
            cap.removeValue(forKey: "maxTasks")
            obj["capacity"] = cap
        }
        do {
            _ = try ScalingPolicy.decode(missing)
            Issue.record("a policy without maxTasks was accepted")
        } catch {
            #expect(error.description.contains("$.capacity.maxTasks"))
        }
        #expect(throws: PolicyError.self) { try ScalingPolicy.decode(try edited("capacity", "maxTasks", "eight")) }
        #expect(throws: PolicyError.self) { try ScalingPolicy.decode(try edited("capacityProvider", "launchType", "SPOT")) }
    }

    @Test func rejectsValuesThatCannotWork() throws {
        let cases: [(String, String, Any, String)] = [
            ("capacity", "maxTasks", 0, "$.capacity.maxTasks"),
            ("capacity", "minTasks", -1, "$.capacity.minTasks"),
            ("capacity", "minTasks", 9, "$.capacity"),
            ("targetTracking", "targetValue", 0, "$.targetTracking.targetValue"),
            ("targetTracking", "trackedValueFloor", 3, "$.targetTracking.trackedValueFloor"),
            ("targetTracking", "scaleInCooldownSeconds", -5, "$.targetTracking.scaleInCooldownSeconds"),
            ("metric", "periodSeconds", 300, "$.metric.periodSeconds"),
            ("metric", "namespace", "AWS/SQS", "$.metric.namespace"),
            ("serviceTime", "defaultSeconds", 0, "$.serviceTime.defaultSeconds"),
            ("capacityProvider", "tasksPerInstance", 0, "$.capacityProvider.tasksPerInstance"),
            ("capacityProvider", "targetCapacityPercent", 101, "$.capacityProvider.targetCapacityPercent"),
            ("task", "startSeconds", 1e9, "$.task.startSeconds"),
        ]
        for (section, key, value, path) in cases {
            let text = try edited(section, key, value)
            do {
                _ = try ScalingPolicy.decode(text)
                Issue.record("accepted \(section).\(key) = \(value)")
            } catch let PolicyError.invalid(p, _) {
                #expect(p == path, "\(section).\(key)")
            } catch {
                Issue.record("unexpected \(error) for \(section).\(key)")
            }
        }
    }

    @Test func wakeMustAddAndZeroMustOnlyFireWhenNothingIsInFlight() throws {
        let exact = try edited("wakeFromZero", "adjustmentType", "ExactCapacity")
        #expect(throws: PolicyError.self) { try ScalingPolicy.decode(exact) }
        let zeroOnBacklog = try edited("scaleToZero", "threshold", 3)
        #expect(throws: PolicyError.self) { try ScalingPolicy.decode(zeroOnBacklog) }
        let zeroVisibleOnly = try edited("scaleToZero", "metrics", ["ApproximateNumberOfMessagesVisible"])
        #expect(throws: PolicyError.self) { try ScalingPolicy.decode(zeroVisibleOnly) }
        let gap = try edited("wakeFromZero", "steps", [["lowerBound": 0, "upperBound": 4, "adjustment": 1],
                                                       ["lowerBound": 5, "adjustment": 2]])
        #expect(throws: PolicyError.self) { try ScalingPolicy.decode(gap) }
        let tooFew = try edited("scaleToZero", "datapointsToAlarm", 16)
        #expect(throws: PolicyError.self) { try ScalingPolicy.decode(tooFew) }
    }

    @Test func aPolicyWithoutWakeOrZeroIsStillValid() throws {
        let text = try editedPolicyText { obj in
            obj.removeValue(forKey: "wakeFromZero")
            obj["scaleToZero"] = NSNull()
        }
        let p = try ScalingPolicy.decode(text)
        #expect(p.wakeFromZero == nil && p.scaleToZero == nil)
    }
}
