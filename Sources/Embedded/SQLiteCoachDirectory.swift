import Fleet
import Foundation
import GRDB

/// The coach list in the `coaches` table of an `EmbeddedState` (what SNS subscriptions with filter
/// policies are on AWS). Decides which outbox e-mails are written.
public struct SQLiteCoachDirectory: CoachDirectory {
    let pool: DatabasePool

    init(pool: DatabasePool) {
        self.pool = pool
    }

    public func add(_ subscription: CoachSubscription) async throws -> CoachSubscription {
        let email = try EmailAddress.validate(subscription.email)
        let team = subscription.staff ? "" : try SubscriptionValue.validate(subscription.team ?? "", what: "team")
        let athlete = subscription.staff ? "" : try subscription.athlete.map { try SubscriptionValue.validate($0, what: "athlete") } ?? ""
        let id: Int64 = try await pool.write { db in
            try db.execute(sql: """
                INSERT OR IGNORE INTO coaches (email, team, athlete, staff, created_at) VALUES (?, ?, ?, ?, ?)
                """, arguments: [email, team, athlete, subscription.staff ? 1 : 0, Clock.nowMillis()])
            return try Int64.fetchOne(db, sql: """
                SELECT id FROM coaches WHERE email = ? AND team = ? AND athlete = ? AND staff = ?
                """, arguments: [email, team, athlete, subscription.staff ? 1 : 0]) ?? 0
        }
        return CoachSubscription(email: email, team: subscription.staff ? nil : team, athlete: athlete.isEmpty ? nil : athlete,
                                 staff: subscription.staff, id: String(id))
    }

    public func list() async throws -> [CoachSubscription] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, email, team, athlete, staff FROM coaches ORDER BY email, team, athlete").map { row in
                let staff: Bool = row["staff"]
                let team: String = row["team"]
                let athlete: String = row["athlete"]
                let id: Int64 = row["id"]
                return CoachSubscription(email: row["email"], team: staff ? nil : team, athlete: athlete.isEmpty ? nil : athlete,
                                         staff: staff, id: String(id))
            }
        }
    }

    public func remove(email: String, team: String?) async throws -> Int {
        let email = email.trimmingCharacters(in: .whitespaces)
        return try await pool.write { db in
            if let team {
                try db.execute(sql: "DELETE FROM coaches WHERE lower(email) = lower(?) AND team = ? AND staff = 0", arguments: [email, team])
            } else {
                try db.execute(sql: "DELETE FROM coaches WHERE lower(email) = lower(?)", arguments: [email])
            }
            return db.changesCount
        }
    }
}

/// The embedded notification sink: one RFC 5322 `.eml` file per recipient in the outbox folder. The
/// recipients are the coaches whose subscription matches the decision, else the staff (the staff rows
/// of the coach list, or `staffAddress` when there are none). File names are deterministic
/// (`JOBID12-ADDRESS.eml`) and written atomically, so delivering the same notification again rewrites
/// the same files: the outbox never holds two e-mails for one job and address.
public struct OutboxSink: NotificationSink {
    public let directory: String
    public let coaches: any CoachDirectory
    public let staffAddress: String
    public let fromAddress: String

    public init(directory: String, coaches: any CoachDirectory, staffAddress: String, fromAddress: String = "refvision@localhost") throws {
        self.directory = directory
        self.coaches = coaches
        self.staffAddress = try EmailAddress.validate(staffAddress)
        self.fromAddress = try EmailAddress.validate(fromAddress)
    }

    public var isIdempotent: Bool { true }

    public func deliver(_ notification: OutgoingNotification) async throws -> DeliveryReceipt {
        let subscriptions: [CoachSubscription]
        do {
            subscriptions = try await coaches.list()
        } catch {
            throw DeliveryError.notSent("reading the coach list: \(error)")
        }
        var recipients = subscriptions.filter { !$0.staff && $0.matches(notification.attributes) }.map(\.email)
        var audience = "coaches"
        if recipients.isEmpty {
            audience = "staff"
            recipients = subscriptions.filter(\.staff).map(\.email)
            if recipients.isEmpty { recipients = [staffAddress] }
        }
        recipients = Array(Set(recipients)).sorted()
        let date = Date()
        var names: [String] = []
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for recipient in recipients {
                let name = Self.fileName(jobId: notification.jobId, recipient: recipient)
                let email = EmailMessage(
                    from: fromAddress, to: recipient, subject: notification.subject, body: notification.body, date: date,
                    messageId: "\(notification.jobId).\(Self.safe(recipient).replacingOccurrences(of: "@", with: ".at."))@refvision.local",
                    extraHeaders: [("X-Refvision-Job", notification.jobId), ("X-Refvision-Audience", audience)]
                        + notification.attributes.keys.sorted().filter { $0 != "audience" }
                            .map { ("X-Refvision-" + $0.prefix(1).uppercased() + $0.dropFirst(), notification.attributes[$0] ?? "") })
                let text = try email.rendered()
                try POSIX.writeAtomically(Data(text.utf8), to: (directory as NSString).appendingPathComponent(name))
                names.append(name)
            }
        } catch let error as DeliveryError {
            throw error
        } catch {
            // A local write that failed wrote nothing visible (temp file, then rename): safe to retry.
            throw DeliveryError.notSent("writing the outbox: \(error)")
        }
        return DeliveryReceipt(messageId: names.joined(separator: ","), audience: audience, recipients: recipients)
    }

    static func fileName(jobId: String, recipient: String) -> String {
        "\(jobId.prefix(12))-\(safe(recipient)).eml"
    }

    /// The address with everything but letters, digits, `.`, `-`, `_`, `@` replaced by `_`.
    static func safe(_ address: String) -> String {
        String(address.unicodeScalars.map { scalar -> Character in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || ".-_@".unicodeScalars.contains(scalar))
                ? Character(scalar) : "_"
        }).replacingOccurrences(of: "..", with: "__")
    }
}
