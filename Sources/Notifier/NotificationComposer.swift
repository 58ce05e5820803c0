import Fleet
import Foundation
import Judging

/// Writes the e-mail about one decision: the subject (`Squat — J. Doe — attempt 2 — NO LIFT (depth)`),
/// a plain-text body with the verdict, every rule with its measured value and threshold, and the signed
/// replay link; and the SNS message attributes the coaches' filter policies select on. Pure.
public enum NotificationComposer {
    /// - Parameters:
    ///   - record: the decision (state `judged`, `failed`, or `notified` when re-composing).
    ///   - link: the signed replay link, if one could be made.
    ///   - linkExpires: when the link stops working.
    ///   - audience: `coaches` or `staff` (an attribute; the staff subscription filters on it).
    public static func compose(_ record: DecisionRecord, link: String?, linkExpires: Date?, audience: String) -> OutgoingNotification {
        let verdict = record.verdict.flatMap { try? JSONDecoder().decode(Verdict.self, from: Data($0.utf8)) }
        let failed = record.decidedState == .failed
        let lift = (record.lift.flatMap(LiftKind.init(rawValue:)) ?? verdict?.lift)?.title ?? "Lift"
        let athlete = record.athlete.map(displayName) ?? "unknown athlete"

        var subjectParts = [lift, athlete]
        if let attempt = record.attempt { subjectParts.append("attempt \(attempt)") }
        subjectParts.append(headline(record, verdict: verdict))
        let subject = subjectParts.joined(separator: " — ")

        var body: [String] = []
        var title = "\(lift) — \(record.athlete ?? "unknown athlete")"
        if let attempt = record.attempt { title += " — attempt \(attempt)" }
        body.append(title)
        if let meet = record.meet { body.append("Meet: \(meet)" + (record.team.map { " · Team: \($0)" } ?? "")) }
        body.append("")
        if failed {
            body.append("Not judged: \(failureWords(record.failure)).")
            if let reason = record.reason, !reason.isEmpty { body.append("Details: \(reason)") }
            body.append("")
            body.append("The video was not judged and no replay was made. Please check the upload (a readable video")
            body.append("of one lift, at most 10 minutes and 4096 pixels a side) and upload it again.")
        } else {
            body.append("Decision: \(decisionWords(record.decision))")
            if let verdict, !verdict.reasons.isEmpty {
                body.append("Why: \(verdict.reasons[0])")
                for reason in verdict.reasons.dropFirst().prefix(4) { body.append("     \(reason)") }
            } else if let reason = record.reason, !reason.isEmpty {
                body.append("Why: \(reason)")
            }
            if let verdict, !verdict.rules.isEmpty {
                body.append("")
                body.append("Rules:")
                for rule in verdict.rules { body.append("  " + ruleLine(rule)) }
            }
            if record.decision == Decision.needsReview.rawValue {
                body.append("")
                body.append("NEEDS REVIEW means the video does not support a clear call: a referee should watch the replay.")
            }
        }
        if let link {
            body.append("")
            var line = "Watch the annotated replay"
            if let linkExpires { line += " (link valid until \(HumanDate.utc(linkExpires)))" }
            body.append(line + ":")
            body.append(link)
        }
        body.append("")
        body.append("--")
        body.append("Video: \(record.key)")
        body.append("Job: \(record.jobId)")
        body.append("Sent by refvision. Ask the meet staff to change which lifters you hear about.")

        var attributes = attributes(record, verdict: verdict)
        attributes["audience"] = audience
        return OutgoingNotification(jobId: record.jobId, subject: subject, body: body.joined(separator: "\n") + "\n",
                                    attributes: attributes, link: link)
    }

    /// The attributes without the audience, which is decided from them before composing. The verdict is
    /// read only when the record does not name the lift.
    public static func attributes(_ record: DecisionRecord) -> [String: String] {
        attributes(record, verdict: record.lift == nil
            ? record.verdict.flatMap { try? JSONDecoder().decode(Verdict.self, from: Data($0.utf8)) } : nil)
    }

    static func attributes(_ record: DecisionRecord, verdict: Verdict?) -> [String: String] {
        var attributes: [String: String] = [:]
        attributes["decision"] = record.decidedState == .failed ? "failed" : (record.decision ?? "unknown")
        if let meet = record.meet, !meet.isEmpty { attributes["meet"] = meet }
        if let team = record.team, !team.isEmpty { attributes["team"] = team }
        if let athlete = record.athlete, !athlete.isEmpty { attributes["athlete"] = athlete }
        if let lift = record.lift ?? verdict?.lift?.rawValue { attributes["lift"] = lift }
        return attributes
    }

    /// `NO LIFT (depth)`, `GOOD LIFT`, `NEEDS REVIEW (depth uncertain)`, `NOT JUDGED (unreadable video)`.
    static func headline(_ record: DecisionRecord, verdict: Verdict?) -> String {
        if record.decidedState == .failed { return "NOT JUDGED (\(failureWords(record.failure)))" }
        let words = decisionWords(record.decision)
        guard let verdict else { return words }
        switch verdict.decision {
        case .goodLift:
            return words
        case .noLift:
            let failed = verdict.rules.filter { $0.status == .failed }.map { $0.id.shortName }
            return failed.isEmpty ? words : "\(words) (\(failed.prefix(2).joined(separator: ", ")))"
        case .needsReview:
            let unknown = verdict.rules.filter { $0.status == .unknown }.map { $0.id.shortName }
            return unknown.isEmpty ? words : "\(words) (\(unknown.prefix(2).joined(separator: ", ")) uncertain)"
        }
    }

    static func decisionWords(_ decision: String?) -> String {
        switch decision {
        case Decision.goodLift.rawValue: "GOOD LIFT"
        case Decision.noLift.rawValue: "NO LIFT"
        case Decision.needsReview.rawValue: "NEEDS REVIEW"
        default: "UNDECIDED"
        }
    }

    static func failureWords(_ failure: String?) -> String {
        switch failure {
        case "undecodable": "unreadable video"
        case "over_limits": "video too large or too long"
        case "no_lifter": "no lifter found"
        case "not_found": "video not found"
        case "invalid_job": "invalid job"
        default: "processing failed"
        }
    }

    /// `jane-doe` / `Jane Doe` → `J. Doe`; a single name stays as it is (capitalised).
    public static func displayName(_ athlete: String) -> String {
        let words = athlete.split(whereSeparator: { $0 == "-" || $0 == "_" || $0 == " " || $0 == "." }).map(String.init)
        guard let first = words.first else { return athlete }
        func capitalised(_ word: String) -> String { word.prefix(1).uppercased() + word.dropFirst() }
        guard words.count > 1 else { return capitalised(first) }
        return "\(first.prefix(1).uppercased()). " + words.dropFirst().map(capitalised).joined(separator: " ")
    }

    /// `✗ depth: -0.05 thigh (needs ≥ +0.00) at 3.20 s`.
    static func ruleLine(_ rule: RuleResult) -> String {
        let mark = switch rule.status {
        case .passed: "[pass]"
        case .failed: "[FAIL]"
        case .unknown: "[ ?  ]"
        }
        var line = "\(mark) \(rule.id.title)"
        if let value = rule.value {
            line += String(format: ": %.2f %@ (threshold %.2f)", value, rule.unit.rawValue, rule.threshold)
        } else {
            line += ": not measured"
        }
        if let time = rule.time { line += String(format: " at %.2f s", time) }
        if !rule.note.isEmpty { line += " — \(rule.note)" }
        return line
    }
}
