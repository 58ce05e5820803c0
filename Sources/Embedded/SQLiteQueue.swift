import Fleet
import Foundation
import GRDB

/// A queue with SQS standard-queue semantics, stored in the `messages` table of an `EmbeddedState`.
/// Any number of processes may use the same queue at once; every change is one IMMEDIATE transaction.
///
/// Semantics (SQS's, with the choices SQS leaves open made explicit):
/// - **Order**: receives return the oldest visible messages first (send order). SQS only tries to.
/// - **Receive**: each received message gets `receiveCount += 1`, a new random receipt handle, and stays
///   invisible for the visibility timeout (the queue's, or the receive's override). A message whose
///   visibility expires without being deleted is delivered again (at-least-once).
/// - **Redrive**: with a dead-letter queue configured, a visible message that was already received
///   `maxReceiveCount` times is moved to the dead-letter queue by the receive that would have delivered
///   it a further time, instead of being returned. It keeps its message id, body, attributes and
///   `sentAt`; its receive count restarts at 0 and it is visible at once in the dead-letter queue.
/// - **Receipt handles**: only the handle of a message's *latest* receive is current. `delete` with a
///   stale or unknown handle is a silent no-op (SQS may or may not delete in that case; here the
///   message stays, so a worker that lost its lease can never delete the new holder's message).
///   `changeVisibility` with a stale or unknown handle throws `EmbeddedError.receiptHandleInvalid`
///   (SQS: `ReceiptHandleIsInvalid` / `MessageNotInflight`). A current handle keeps working after the
///   visibility timeout expired, until the message is received again.
/// - **Long poll**: `receive(waitSeconds: n)` returns as soon as at least one message was received, or
///   empty after `n` seconds. It polls the database every 100-200 ms, so it sees messages sent by other
///   processes. If the calling task is cancelled while waiting, `receive` throws `CancellationError`
///   promptly (it never throws it after it has received messages, so none are lost to a timeout).
public struct SQLiteQueue: JobQueue {
    public let name: String
    /// The visibility timeout given when this value was vended (the database row is authoritative:
    /// receives read the current setting, which another process may have changed).
    public let visibilityTimeout: Int
    public let maxReceiveCount: Int?
    public let deadLetterQueue: String?
    let pool: DatabasePool

    /// SQS limits.
    public static let maximumBatchEntries = 10
    public static let maximumVisibilityTimeout = 43_200
    public static let maximumDelaySeconds = 900
    public static let maximumWaitSeconds = 20
    public static let maximumAttributes = 10

    init(name: String, pool: DatabasePool, visibilityTimeout: Int, maxReceiveCount: Int?, deadLetterQueue: String?) {
        self.name = name
        self.pool = pool
        self.visibilityTimeout = visibilityTimeout
        self.maxReceiveCount = maxReceiveCount
        self.deadLetterQueue = deadLetterQueue
    }

    /// Queue names follow SQS: 1-80 characters, letters, digits, `-` and `_`.
    static func validate(name: String) throws {
        let allowed = name.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x5F
        }
        guard !name.isEmpty, name.utf8.count <= 80, allowed else {
            throw EmbeddedError.invalidArgument("queue name '\(name)' must be 1-80 letters, digits, '-' or '_'")
        }
    }

    // MARK: - Send

    /// Sends 1...10 messages in one transaction. Throws (sending nothing) for an empty batch, more than 10
    /// entries, or duplicate entry ids (SQS's request-level errors). An entry with a body over 256 KiB,
    /// an empty body, characters SQS refuses, a delay outside 0...900 s or more than 10 attributes fails on
    /// its own (`senderFault: true`) while the others are sent.
    public func send(_ messages: [OutgoingMessage]) async throws -> [BatchEntryFailure] {
        try Self.validateBatch(ids: messages.map(\.id))
        var failures: [BatchEntryFailure] = []
        var accepted: [(OutgoingMessage, String)] = []
        for message in messages {
            if let failure = Self.check(message) {
                failures.append(failure)
            } else {
                accepted.append((message, try Self.encode(message.attributes)))
            }
        }
        guard !accepted.isEmpty else { return failures }
        let name = name
        let rows = accepted
        try await pool.writeWithoutTransaction { db in
            try db.inTransaction(.immediate) {
                let now = Clock.nowMillis()
                for (message, attributes) in rows {
                    try db.execute(sql: """
                        INSERT INTO messages (queue, message_id, body, attributes, sent_at, visible_at)
                        VALUES (?, ?, ?, ?, ?, ?)
                        """, arguments: [name, UUID().uuidString.lowercased(), message.body, attributes, now,
                                         now + Int64(message.delaySeconds) * 1000])
                }
                return .commit
            }
        }
        return failures
    }

    static func validateBatch(ids: [String]) throws {
        guard !ids.isEmpty else { throw EmbeddedError.invalidArgument("empty batch") }
        guard ids.count <= maximumBatchEntries else {
            throw EmbeddedError.invalidArgument("batch of \(ids.count) entries exceeds \(maximumBatchEntries)")
        }
        guard Set(ids).count == ids.count else {
            throw EmbeddedError.invalidArgument("batch entry ids are not distinct")
        }
    }

    /// The per-entry checks SQS makes; nil when the entry is acceptable.
    static func check(_ message: OutgoingMessage) -> BatchEntryFailure? {
        func fail(_ code: String, _ text: String) -> BatchEntryFailure {
            BatchEntryFailure(id: message.id, code: code, message: text, senderFault: true)
        }
        let size = message.body.utf8.count
        if size == 0 { return fail("MissingParameter", "the message body must not be empty") }
        if size > maximumMessageBytes {
            return fail("InvalidParameterValue", "message body of \(size) bytes exceeds \(maximumMessageBytes)")
        }
        // SQS accepts #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF.
        let validBody = message.body.unicodeScalars.allSatisfy { s in
            s == "\t" || s == "\n" || s == "\r" || (s.value >= 0x20 && s.value <= 0xD7FF)
                || (s.value >= 0xE000 && s.value <= 0xFFFD) || s.value >= 0x10000
        }
        if !validBody { return fail("InvalidMessageContents", "the message body contains characters SQS does not accept") }
        if !(0...maximumDelaySeconds).contains(message.delaySeconds) {
            return fail("InvalidParameterValue", "delaySeconds \(message.delaySeconds) is outside 0...\(maximumDelaySeconds)")
        }
        if message.attributes.count > maximumAttributes {
            return fail("InvalidParameterValue", "\(message.attributes.count) message attributes exceed \(maximumAttributes)")
        }
        if let bad = message.attributes.first(where: { $0.key.isEmpty || $0.value.isEmpty }) {
            return fail("InvalidParameterValue", "message attribute '\(bad.key)' has an empty name or value")
        }
        return nil
    }

    static func encode(_ attributes: [String: String]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(attributes), as: UTF8.self)
    }

    static func decode(attributes text: String) throws -> [String: String] {
        do {
            return try JSONDecoder().decode([String: String].self, from: Data(text.utf8))
        } catch {
            throw EmbeddedError.corruptRecord("message attributes are not a JSON object of strings")
        }
    }

    // MARK: - Receive

    /// Receives up to `maxMessages` (1...10) messages, long-polling up to `waitSeconds` (0...20) for the
    /// first; `visibilityTimeout` (0...43200) overrides the queue's for these messages.
    /// - Throws: `CancellationError` if the task is cancelled before anything was received (see the type's
    ///   documentation), `EmbeddedError.invalidArgument` for out-of-range arguments.
    public func receive(maxMessages: Int, waitSeconds: Int, visibilityTimeout: Int?) async throws -> [QueueMessage] {
        guard (1...Self.maximumBatchEntries).contains(maxMessages) else {
            throw EmbeddedError.invalidArgument("maxMessages \(maxMessages) is outside 1...\(Self.maximumBatchEntries)")
        }
        guard (0...Self.maximumWaitSeconds).contains(waitSeconds) else {
            throw EmbeddedError.invalidArgument("waitSeconds \(waitSeconds) is outside 0...\(Self.maximumWaitSeconds)")
        }
        if let visibilityTimeout, !(0...Self.maximumVisibilityTimeout).contains(visibilityTimeout) {
            throw EmbeddedError.invalidArgument("visibilityTimeout \(visibilityTimeout) is outside 0...\(Self.maximumVisibilityTimeout)")
        }
        let deadline = ContinuousClock.now + .seconds(waitSeconds)
        while true {
            try Task.checkCancellation()
            let received = try await receiveOnce(maxMessages: maxMessages, visibilityTimeout: visibilityTimeout)
            if !received.isEmpty { return received }
            let remaining = deadline - ContinuousClock.now
            if remaining <= .zero { return [] }
            let pause = Duration.milliseconds(Int.random(in: 100...200))
            try await Task.sleep(for: min(pause, remaining))
        }
    }

    /// One receive attempt: one IMMEDIATE transaction that redrives and receives. An idle queue is seen
    /// with a read first (WAL readers take no lock), so long-polling workers don't contend for the write
    /// lock while there is nothing to receive.
    func receiveOnce(maxMessages: Int, visibilityTimeout override: Int?) async throws -> [QueueMessage] {
        let name = name
        let anyVisible = try await pool.read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM messages WHERE queue = ? AND visible_at <= ?)",
                              arguments: [name, Clock.nowMillis()]) ?? false
        }
        if !anyVisible { return [] }
        let fallback = (visibilityTimeout, maxReceiveCount, deadLetterQueue)
        return try await pool.writeWithoutTransaction { db in
            var received: [QueueMessage] = []
            try db.inTransaction(.immediate) {
                let now = Clock.nowMillis()
                // The row is authoritative (another process may have reconfigured the queue).
                let settings = try Row.fetchOne(db, sql: """
                    SELECT visibility_timeout, max_receive_count, dead_letter_queue FROM queues WHERE name = ?
                    """, arguments: [name])
                var (timeout, maxReceives, deadLetter) = fallback
                if let settings {
                    timeout = settings["visibility_timeout"]
                    maxReceives = settings["max_receive_count"]
                    deadLetter = settings["dead_letter_queue"]
                }
                if let override { timeout = override }
                var after: Int64 = 0
                while received.count < maxMessages {
                    let rows = try Row.fetchAll(db, sql: """
                        SELECT seq, message_id, body, attributes, sent_at, receive_count FROM messages
                        WHERE queue = ? AND visible_at <= ? AND seq > ? ORDER BY seq LIMIT ?
                        """, arguments: [name, now, after, maxMessages - received.count])
                    if rows.isEmpty { break }
                    for row in rows {
                        let seq: Int64 = row["seq"]
                        after = seq
                        let count: Int = row["receive_count"]
                        if let deadLetter, let maxReceives, count >= maxReceives {
                            try db.execute(sql: """
                                UPDATE messages SET queue = ?, receive_count = 0, receipt_handle = NULL, visible_at = ?
                                WHERE seq = ?
                                """, arguments: [deadLetter, now, seq])
                            continue
                        }
                        let handle = Self.newReceiptHandle()
                        try db.execute(sql: """
                            UPDATE messages SET receive_count = receive_count + 1, receipt_handle = ?, visible_at = ?
                            WHERE seq = ?
                            """, arguments: [handle, now + Int64(timeout) * 1000, seq])
                        received.append(QueueMessage(
                            messageId: row["message_id"], receiptHandle: handle, body: row["body"],
                            attributes: try Self.decode(attributes: row["attributes"]), receiveCount: count + 1,
                            sentAt: Clock.date(millis: row["sent_at"])))
                    }
                }
                return .commit
            }
            return received
        }
    }

    /// 256 random bits, hex.
    static func newReceiptHandle() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in
            let hex = String(generator.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }

    // MARK: - Delete and visibility

    /// Deletes the message whose current receipt handle is `receiptHandle`. A stale handle (the message
    /// was received again since) or an unknown one (already deleted, never issued) is a no-op.
    public func delete(receiptHandle: String) async throws {
        let name = name
        try await pool.writeWithoutTransaction { db in
            try db.execute(sql: "DELETE FROM messages WHERE queue = ? AND receipt_handle = ?",
                           arguments: [name, receiptHandle])
        }
    }

    /// Deletes up to 10 messages in one transaction (same rules as `delete`: stale handles are no-ops, so
    /// no entry fails). Throws for an empty batch, more than 10 entries or duplicate ids.
    public func deleteBatch(_ receiptHandles: [(id: String, receiptHandle: String)]) async throws -> [BatchEntryFailure] {
        try Self.validateBatch(ids: receiptHandles.map(\.id))
        let name = name
        let handles = receiptHandles.map(\.receiptHandle)
        try await pool.writeWithoutTransaction { db in
            try db.inTransaction(.immediate) {
                for handle in handles {
                    try db.execute(sql: "DELETE FROM messages WHERE queue = ? AND receipt_handle = ?",
                                   arguments: [name, handle])
                }
                return .commit
            }
        }
        return []
    }

    /// Makes the message invisible for `seconds` (0...43200) from now; 0 makes it visible at once.
    /// - Throws: `EmbeddedError.receiptHandleInvalid` when the handle is not the message's current one.
    public func changeVisibility(receiptHandle: String, seconds: Int) async throws {
        guard (0...Self.maximumVisibilityTimeout).contains(seconds) else {
            throw EmbeddedError.invalidArgument("visibility timeout \(seconds) is outside 0...\(Self.maximumVisibilityTimeout)")
        }
        let name = name
        let changed = try await pool.writeWithoutTransaction { db in
            try db.execute(sql: "UPDATE messages SET visible_at = ? WHERE queue = ? AND receipt_handle = ?",
                           arguments: [Clock.nowMillis() + Int64(seconds) * 1000, name, receiptHandle])
            return db.changesCount
        }
        if changed == 0 { throw EmbeddedError.receiptHandleInvalid(receiptHandle) }
    }

    // MARK: - Inspection

    /// Exact counts (SQS's are approximate): visible, in flight (received and invisible), delayed
    /// (never received and not yet visible).
    public func depth() async throws -> QueueDepth {
        let name = name
        return try await pool.read { db in
            let row = try Row.fetchOne(db, sql: """
                SELECT COALESCE(SUM(visible_at <= :now), 0) AS visible,
                       COALESCE(SUM(visible_at > :now AND receive_count > 0), 0) AS in_flight,
                       COALESCE(SUM(visible_at > :now AND receive_count = 0), 0) AS delayed
                FROM messages WHERE queue = :queue
                """, arguments: ["now": Clock.nowMillis(), "queue": name])!
            return QueueDepth(visible: row["visible"], inFlight: row["in_flight"], delayed: row["delayed"])
        }
    }

    /// Up to `limit` messages, oldest first, without receiving them (nothing changes: no receive count,
    /// no visibility). For listing a dead-letter queue. `receiptHandle` is empty: a peek is not a receive.
    public func peek(limit: Int) throws -> [QueueMessage] {
        let name = name
        return try pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT message_id, body, attributes, sent_at, receive_count FROM messages
                WHERE queue = ? ORDER BY seq LIMIT ?
                """, arguments: [name, max(0, limit)]).map(Self.peeked)
        }
    }

    /// The message with this id if it is in this queue (without receiving it; empty `receiptHandle`).
    public func message(id: String) throws -> QueueMessage? {
        let name = name
        return try pool.read { db in
            try Row.fetchOne(db, sql: """
                SELECT message_id, body, attributes, sent_at, receive_count FROM messages
                WHERE queue = ? AND message_id = ?
                """, arguments: [name, id]).map(Self.peeked)
        }
    }

    /// Deletes every message of the queue (in flight and delayed ones too), like SQS `PurgeQueue`.
    public func purge() throws {
        let name = name
        try pool.write { db in try db.execute(sql: "DELETE FROM messages WHERE queue = ?", arguments: [name]) }
    }

    static func peeked(_ row: Row) throws -> QueueMessage {
        QueueMessage(messageId: row["message_id"], receiptHandle: "", body: row["body"],
                     attributes: try decode(attributes: row["attributes"]), receiveCount: row["receive_count"],
                     sentAt: Clock.date(millis: row["sent_at"]))
    }
}
