@testable import Fleet
import FleetFixtures
import Foundation
import Judging
import ReplayLinks
@testable import Notifier
import Testing

@Suite struct ComposerTests {
    @Test func noLiftSubjectNamesTheFailedRule() {
        let record = SampleDecisions.squat(.noLift)
        let mail = NotificationComposer.compose(record, link: "https://replay.example.com/r/TOKEN",
                                                linkExpires: SampleDecisions.now.addingTimeInterval(7 * 86400), audience: "coaches")
        #expect(mail.subject == "Squat — J. Doe — attempt 2 — NO LIFT (depth)")
        #expect(mail.snsSubject == mail.subject)
        #expect(mail.body.contains("Decision: NO LIFT"))
        #expect(mail.body.contains("[FAIL] Depth: hip crease below the top of the knee: -0.09 thigh (threshold 0.00) at 3.20 s"))
        #expect(mail.body.contains("[pass] Knees locked at the start: 172.50 degrees"))
        #expect(mail.body.contains("https://replay.example.com/r/TOKEN"))
        #expect(mail.body.contains("link valid until 25 Nov 2026 11:06 UTC"))
        #expect(mail.attributes == ["audience": "coaches", "decision": "no_lift", "meet": "nationals-2026", "team": "lions",
                                    "athlete": "jane-doe", "lift": "squat"])
    }

    @Test func needsReviewAndGoodLiftHeadlines() {
        let review = NotificationComposer.compose(SampleDecisions.squat(.needsReview), link: nil, linkExpires: nil, audience: "staff")
        #expect(review.subject.hasSuffix("NEEDS REVIEW (depth uncertain)"))
        #expect(review.body.contains("a referee should watch the replay"))
        #expect(!review.body.contains("Watch the annotated replay"))
        let good = NotificationComposer.compose(SampleDecisions.squat(.goodLift), link: nil, linkExpires: nil, audience: "staff")
        #expect(good.subject == "Squat — J. Doe — attempt 2 — GOOD LIFT")
    }

    @Test func failedJobsHaveTheirOwnWording() {
        let mail = NotificationComposer.compose(SampleDecisions.failed(), link: nil, linkExpires: nil, audience: "staff")
        #expect(mail.subject == "Deadlift — B. Lee — attempt 1 — NOT JUDGED (unreadable video)")
        #expect(mail.body.contains("Not judged: unreadable video."))
        #expect(mail.body.contains("upload it again"))
        #expect(!mail.body.contains("Decision:"))
        #expect(mail.attributes["decision"] == "failed")
        #expect(mail.attributes["team"] == nil)
    }

    @Test(arguments: [
        ("jane-doe", "J. Doe"), ("Jane Doe", "J. Doe"), ("doe", "Doe"), ("mary_ann_smith", "M. Ann Smith"), ("", ""),
        ("Ünal-öz", "Ü. Öz"),
    ])
    func displayNames(athlete: String, expected: String) {
        #expect(NotificationComposer.displayName(athlete) == expected)
    }

    @Test func snsSubjectDropsControlCharactersAndStaysUnder100() {
        var record = SampleDecisions.squat(.noLift, athlete: "evil\r\nBcc: x@y.z " + String(repeating: "long-name ", count: 20))
        record.attempt = nil
        let mail = NotificationComposer.compose(record, link: nil, linkExpires: nil, audience: "staff")
        #expect(mail.snsSubject.count <= 99)
        #expect(!mail.snsSubject.contains("\r") && !mail.snsSubject.contains("\n"))
        #expect(mail.snsSubject.hasPrefix("Squat — E. X@y Z Long Name Long Name"))
        #expect(mail.snsSubject.hasSuffix("…"))
    }

    @Test func aRecordWithoutVerdictStillComposes() {
        var record = SampleDecisions.squat(.noLift)
        record.verdict = "{not json"
        record.lift = nil
        record.athlete = nil
        let mail = NotificationComposer.compose(record, link: nil, linkExpires: nil, audience: "staff")
        #expect(mail.subject == "Lift — unknown athlete — attempt 2 — NO LIFT")
        #expect(mail.body.contains("Why: depth: hip crease 0.09"))
    }
}

@Suite struct EmailTests {
    /// Decodes quoted-printable (soft breaks and =XX).
    static func decodeQP(_ text: String) -> String {
        var bytes: [UInt8] = []
        let lines = text.components(separatedBy: "\r\n")
        for (index, line) in lines.enumerated() {
            var chars = Array(line.utf8)
            var soft = false
            if chars.last == UInt8(ascii: "=") { chars.removeLast(); soft = true }
            var i = 0
            while i < chars.count {
                if chars[i] == UInt8(ascii: "="), i + 2 < chars.count + 0, let v = UInt8(String(decoding: chars[i + 1...i + 2], as: UTF8.self), radix: 16) {
                    bytes.append(v)
                    i += 3
                } else {
                    bytes.append(chars[i])
                    i += 1
                }
            }
            if !soft && index < lines.count - 1 { bytes.append(UInt8(ascii: "\n")) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The body of a rendered message, decoded per its Content-Transfer-Encoding.
    static func decodeBody(_ text: String) -> String {
        let parts = text.components(separatedBy: "\r\n\r\n")
        let body = parts.dropFirst().joined(separator: "\r\n\r\n")
        if parts[0].contains("Content-Transfer-Encoding: quoted-printable") { return decodeQP(body) }
        return body.replacingOccurrences(of: "\r\n", with: "\n")
    }

    static func decodeHeader(_ value: String) -> String {
        let unfolded = value.replacingOccurrences(of: "\r\n ", with: " ")
        guard unfolded.hasPrefix("=?UTF-8?B?") else { return unfolded }
        var data = Data()
        for word in unfolded.split(separator: " ") {
            let inner = word.dropFirst("=?UTF-8?B?".count).dropLast(2)
            data.append(Data(base64Encoded: String(inner)) ?? Data())
        }
        return String(decoding: data, as: UTF8.self)
    }

    static func headers(_ text: String) -> [(String, String)] {
        let head = text.components(separatedBy: "\r\n\r\n")[0]
        var result: [(String, String)] = []
        for line in head.components(separatedBy: "\r\n") {
            if line.hasPrefix(" "), let last = result.popLast() {
                result.append((last.0, last.1 + "\r\n" + line))
            } else if let colon = line.firstIndex(of: ":") {
                result.append((String(line[..<colon]), String(line[line.index(colon, offsetBy: 2)...])))
            }
        }
        return result
    }

    @Test func rendersRFC5322WithEncodedSubjectAndQuotedPrintableBody() throws {
        let body = "Decision: NO LIFT — depth −0.09\nA line that is long enough to need a soft break because it goes on and on and on past seventy-six characters.\nTrailing space \n"
        let email = EmailMessage(from: "refvision@localhost", to: "coach@example.com", subject: "Squat — J. Doe — NO LIFT (depth)",
                                 body: body, date: Date(timeIntervalSince1970: 1_795_000_000), messageId: "abc.1@refvision.local",
                                 extraHeaders: [("X-Refvision-Job", "abc")])
        let text = try email.rendered()
        for line in text.components(separatedBy: "\r\n\r\n")[0].components(separatedBy: "\r\n") {
            #expect(line.utf8.count <= 78, "header line too long: \(line)")
        }
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"), "bare LF")
        let headers = Self.headers(text)
        #expect(headers.map(\.0) == ["From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
                                     "Content-Transfer-Encoding", "X-Refvision-Job"])
        #expect(headers[7].1 == "8bit", "short lines stay readable in the outbox")
        #expect(Self.decodeHeader(headers[2].1) == "Squat — J. Doe — NO LIFT (depth)")
        #expect(headers[3].1 == "Wed, 18 Nov 2026 11:06:40 +0000")
        #expect(Self.decodeBody(text) == body)
    }

    @Test func aLineOver998OctetsSwitchesToQuotedPrintable() throws {
        let body = "short\n" + String(repeating: "long—", count: 400) + "\n= end \n"
        let text = try EmailMessage(from: "a@b.c", to: "c@d.e", subject: "s", body: body, date: Date(), messageId: "m@x").rendered()
        #expect(text.contains("Content-Transfer-Encoding: quoted-printable\r\n"))
        #expect(text.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 78 })
        #expect(Self.decodeBody(text) == body)
    }

    @Test(arguments: ["x\r\nBcc: victim@example.com", "x\nBcc: victim@example.com", "=?UTF-8?B?QmNjOiB4?=\r\nBcc: v@e.com"])
    func headerInjectionInTheSubjectStaysInTheSubject(subject: String) throws {
        let email = EmailMessage(from: "a@b.c", to: "coach@example.com", subject: subject, body: "b", date: Date(), messageId: "m@x")
        let text = try email.rendered()
        let head = text.components(separatedBy: "\r\n\r\n")[0]
        #expect(!head.components(separatedBy: "\r\n").contains { $0.hasPrefix("Bcc") })
        #expect(Self.decodeHeader(Self.headers(text)[2].1).contains("Bcc: "))
    }

    @Test(arguments: ["", "no-at-sign", "a@b@c", "a b@c.d", "<a@b.c>", "a@b.c\r\nBcc: x@y.z", "a@", "@b", "a@.b", "a@b..c",
                      "ü@b.c", String(repeating: "a", count: 65) + "@b.c", "a@" + String(repeating: "b", count: 260)])
    func hostileAddressesAreRefused(address: String) {
        #expect(throws: FleetError.self) { try EmailAddress.validate(address) }
        #expect(throws: FleetError.self) {
            try EmailMessage(from: "a@b.c", to: address, subject: "s", body: "b", date: Date(), messageId: "m@x").rendered()
        }
    }

    @Test func extraHeaderNamesMustBeXHeaders() {
        #expect(throws: FleetError.self) {
            try EmailMessage(from: "a@b.c", to: "c@d.e", subject: "s", body: "b", date: Date(), messageId: "m@x",
                             extraHeaders: [("Bcc", "x@y.z")]).rendered()
        }
    }

    @Test func hugeBodyRendersWithShortLines() throws {
        let body = String(repeating: "ü", count: 200_000)
        let text = try EmailMessage(from: "a@b.c", to: "c@d.e", subject: "s", body: body, date: Date(), messageId: "m@x").rendered()
        #expect(text.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 78 })
        #expect(Self.decodeBody(text) == body + "\n")
    }
}

@Suite struct FilterPolicyTests {
    @Test func policiesRoundTripAndMatchLikeSNS() throws {
        let lions = try CoachSubscription.coach(email: "c@x.org", team: "lions", athlete: nil)
        let tigers = try CoachSubscription.coach(email: "c@x.org", team: "tigers", athlete: nil)
        let oneBear = try CoachSubscription.coach(email: "c@x.org", team: "bears", athlete: "b-lee")
        let staff = try CoachSubscription.staffMember(email: "c@x.org")
        for entries in [[lions], [lions, tigers], [oneBear], [lions, oneBear], [staff], [staff, lions, oneBear]] {
            let policy = CoachFilterPolicy.policy(for: entries)
            let back = try #require(CoachFilterPolicy.entries(email: "c@x.org", policy: policy, id: "arn", pending: false))
            #expect(Set(back.map { CoachSubscription(email: $0.email, team: $0.team, athlete: $0.athlete, staff: $0.staff) }) == Set(entries),
                    "\(policy)")
        }
        #expect(CoachFilterPolicy.policy(for: [lions, tigers]) == #"{"team":["lions","tigers"]}"#)
        #expect(CoachFilterPolicy.policy(for: [oneBear]) == #"{"athlete":["b-lee"],"team":["bears"]}"#)
        #expect(CoachFilterPolicy.policy(for: [staff]) == #"{"audience":["staff"]}"#)
        // moto stores policies re-serialised with spaces: still read back.
        #expect(CoachFilterPolicy.entries(email: "c@x.org", policy: #"{"team": ["lions"]}"#, id: nil, pending: false)?.first?.team == "lions")
        // Policies refvision did not write are not read as coaches.
        for foreign in [#"{"team":[{"prefix":"li"}]}"#, #"{"meet":["m"]}"#, "not json", "[]", #"{"$or":[]}"#] {
            #expect(CoachFilterPolicy.entries(email: "c@x.org", policy: foreign, id: nil, pending: false) == nil, "\(foreign)")
        }
    }

    @Test func audienceIsStaffWhenNoCoachMatches() throws {
        let lions = try CoachSubscription.coach(email: "c@x.org", team: "lions", athlete: nil)
        let oneBear = try CoachSubscription.coach(email: "d@x.org", team: "bears", athlete: "b-lee")
        let staff = try CoachSubscription.staffMember(email: "s@x.org")
        let all = [lions, oneBear, staff]
        #expect(CoachSubscription.audience(for: ["team": "lions", "athlete": "anyone"], among: all) == "coaches")
        #expect(CoachSubscription.audience(for: ["team": "bears", "athlete": "b-lee"], among: all) == "coaches")
        #expect(CoachSubscription.audience(for: ["team": "bears", "athlete": "other"], among: all) == "staff")
        #expect(CoachSubscription.audience(for: ["athlete": "b-lee"], among: all) == "staff")
        #expect(CoachSubscription.audience(for: [:], among: []) == "staff")
        #expect(staff.matches(["audience": "staff"]) && !staff.matches(["audience": "coaches", "team": "lions"]))
    }

    @Test(arguments: ["", "  ", "a\u{7}b", String(repeating: "t", count: 129)])
    func badTeamsAreRefused(team: String) {
        #expect(throws: FleetError.self) { try CoachSubscription.coach(email: "c@x.org", team: team, athlete: nil) }
    }
}

@Suite struct ChartTests {
    @Test func downsamplingKeepsTheBottom() {
        var samples: [(Double, Double?)] = []
        for i in 0..<5000 {
            let value: Double? = i == 2717 ? -3.0 : (i % 97 == 0 ? nil : sin(Double(i) / 300))
            samples.append((Double(i) / 100, value))
        }
        let (times, values) = DecisionChart.downsample(samples)
        #expect(times.count <= DecisionChart.maximumPoints && times.count == values.count)
        #expect(values.compactMap { $0 }.min() == -3.0)
        #expect(zip(times, times.dropFirst()).allSatisfy { $0 < $1 })
        let short: [(Double, Double?)] = [(0, 1), (0.1, nil), (0.2, 2)]
        #expect(DecisionChart.downsample(short).1 == [1, nil, 2])
    }
}

@Suite struct SignedLinkTests {
    static let keys = try! LinkKeys(json: #"{"active":"k1","k1":"0123456789abcdef0123456789abcdef-links"}"#)

    @Test func everyLinkForOneDecisionIsTheSameAndCountsFromTheDecision() async throws {
        let links = try SignedReplayLinks(signer: LinkSigner(keys: Self.keys, validity: 7 * 86400), baseURL: "https://r.example.com/")
        var record = SampleDecisions.squat(.noLift)
        let decided = Date(timeIntervalSince1970: 1_800_000_000)
        record.decidedAt = decided
        let first = try #require(try await links.link(for: record, now: decided.addingTimeInterval(3)))
        let later = try #require(try await links.link(for: record, now: decided.addingTimeInterval(3600)))
        #expect(first == later)
        #expect(first.expires == decided.addingTimeInterval(7 * 86400))
        #expect(first.url.hasPrefix("https://r.example.com/r/v1.k1.\(record.jobId).1800604800."))
        // Notified six and a half days late: counted from now, so the coach still gets a week.
        let late = decided.addingTimeInterval(6.5 * 86400)
        #expect(try await links.link(for: record, now: late)?.expires == Date(timeIntervalSince1970: (late.timeIntervalSince1970 + 7 * 86400).rounded(.down)))
        // A decision without a replay and without a failure has nothing to link to.
        record.replayKey = nil
        #expect(try await links.link(for: record, now: decided) == nil)
        #expect(try await links.link(for: SampleDecisions.failed(), now: decided) != nil, "a failed job's page says why")
    }

    @Test func aBadBaseURLIsRefusedAtStartUp() {
        for base in ["ftp://x", "not a url", "https://", "https://x/?q=1", "https://x/#f"] {
            #expect(throws: LinkSigningError.self, "\(base)") { try SignedReplayLinks(signer: LinkSigner(keys: Self.keys), baseURL: base) }
        }
    }
}
