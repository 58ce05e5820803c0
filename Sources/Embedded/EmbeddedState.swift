import Fleet
import Foundation
import GRDB

// The embedded implementation of the fleet's ports, for one machine: queues and decisions in one SQLite
// database (`DIR/state.sqlite`, WAL mode), objects in directories. Several processes may share a data
// directory at once (`refvision run` plus separate `refvision worker` processes that may be SIGKILLed at
// any instant), so every piece of shared state lives in SQLite and every multi-statement change runs in
// one IMMEDIATE transaction: a killed process leaves either all or nothing of a change behind.

/// Errors of the embedded implementation (the fleet's own errors are `FleetError`).
public enum EmbeddedError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `changeVisibility` was given a receipt handle that is not the current one of any message in the
    /// queue (never issued, already deleted, or superseded by a later receive).
    case receiptHandleInvalid(String)
    /// An argument outside the range SQS accepts (batch size, wait time, visibility timeout, names...).
    case invalidArgument(String)
    /// `state.sqlite` exists but is not a usable SQLite database.
    case corruptDatabase(path: String, reason: String)
    /// The data directory cannot be created or opened.
    case unusableDirectory(path: String, reason: String)
    /// A stored row could not be decoded (written by a newer version, or damaged).
    case corruptRecord(String)
    /// A file-system call failed (`reason` is the system's error message).
    case fileSystem(path: String, reason: String)

    public var description: String {
        switch self {
        case .receiptHandleInvalid(let handle): "receipt handle is not current (stale or unknown): \(handle.prefix(40))"
        case .invalidArgument(let why): "invalid argument: \(why)"
        case .corruptDatabase(let path, let reason): "\(path) is not a usable refvision state database: \(reason)"
        case .unusableDirectory(let path, let reason): "cannot use data directory \(path): \(reason)"
        case .corruptRecord(let why): "corrupt stored record: \(why)"
        case .fileSystem(let path, let reason): "\(path): \(reason)"
        }
    }
}

/// The embedded fleet state: one SQLite database in WAL mode shared by every process that opens the same
/// directory. Vends the queues (`SQLiteQueue`) and the decision store (`SQLiteDecisionStore`).
///
/// Opening creates the directory and the database if missing and applies the schema migrations.
/// Cheap to share: hand the same instance (or the ports it vends) to every task of a process.
public final class EmbeddedState: Sendable {
    /// The data directory.
    public let directory: String
    /// `directory/state.sqlite`.
    public let databasePath: String
    let pool: DatabasePool

    /// How long a statement waits for another connection's (or process's) write lock before failing.
    public static let busyTimeout: TimeInterval = 5

    /// Opens (creating if needed) `directory/state.sqlite`.
    /// - Throws: `EmbeddedError.unusableDirectory` when the directory can't be created,
    ///   `EmbeddedError.corruptDatabase` when the file exists but is not a refvision SQLite database.
    public init(directory: String) throws {
        let directoryURL = URL(fileURLWithPath: directory).standardizedFileURL
        self.directory = directoryURL.path
        databasePath = directoryURL.appendingPathComponent("state.sqlite").path
        do {
            try FileManager.default.createDirectory(at: directoryURL, withIntermediateDirectories: true)
        } catch {
            throw EmbeddedError.unusableDirectory(path: directoryURL.path, reason: "\(error.localizedDescription)")
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(Self.busyTimeout)
        configuration.label = "refvision-state"
        configuration.foreignKeysEnabled = true
        do {
            // DatabasePool always runs in WAL mode (it sets journal_mode=WAL when opening). Switching a
            // new file to WAL takes an exclusive lock and fails at once, without the busy timeout, when
            // another process or state opens the same new file at that moment: retried like migrations.
            let path = databasePath
            pool = try Self.retryingBusy { try DatabasePool(path: path, configuration: configuration) }
            try Self.migrate(pool)
        } catch let error as DatabaseError {
            throw EmbeddedError.corruptDatabase(path: databasePath, reason: error.message ?? "\(error.resultCode)")
        }
    }

    /// The queue `name` (created if missing; its stored settings are updated when they differ).
    /// - Parameters:
    ///   - visibilityTimeout: seconds a received message stays invisible (0...43200), like SQS's
    ///     `VisibilityTimeout`.
    ///   - maxReceiveCount: with `deadLetterQueue`, the SQS redrive policy: a message received this many
    ///     times is moved to the dead-letter queue instead of being received again (1...1000). Ignored
    ///     without a dead-letter queue, as in SQS.
    ///   - deadLetterQueue: the dead-letter queue's name (created with default settings if missing).
    public func queue(named name: String, visibilityTimeout: Int = 30, maxReceiveCount: Int? = nil,
                      deadLetterQueue: String? = nil) throws -> SQLiteQueue {
        try SQLiteQueue.validate(name: name)
        guard (0...SQLiteQueue.maximumVisibilityTimeout).contains(visibilityTimeout) else {
            throw EmbeddedError.invalidArgument("visibilityTimeout \(visibilityTimeout) is outside 0...\(SQLiteQueue.maximumVisibilityTimeout)")
        }
        if let maxReceiveCount, !(1...1000).contains(maxReceiveCount) {
            throw EmbeddedError.invalidArgument("maxReceiveCount \(maxReceiveCount) is outside 1...1000")
        }
        if let deadLetterQueue {
            try SQLiteQueue.validate(name: deadLetterQueue)
            guard deadLetterQueue != name else {
                throw EmbeddedError.invalidArgument("queue \(name) cannot be its own dead-letter queue")
            }
        }
        try pool.writeWithoutTransaction { db in
            try db.inTransaction(.immediate) {
                let now = Clock.nowMillis()
                try db.execute(sql: """
                    INSERT INTO queues (name, visibility_timeout, max_receive_count, dead_letter_queue, created_at)
                    VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET visibility_timeout = excluded.visibility_timeout,
                        max_receive_count = excluded.max_receive_count, dead_letter_queue = excluded.dead_letter_queue
                    WHERE visibility_timeout IS NOT excluded.visibility_timeout
                        OR max_receive_count IS NOT excluded.max_receive_count
                        OR dead_letter_queue IS NOT excluded.dead_letter_queue
                    """, arguments: [name, visibilityTimeout, maxReceiveCount, deadLetterQueue, now])
                if let deadLetterQueue {
                    try db.execute(sql: """
                        INSERT OR IGNORE INTO queues (name, visibility_timeout, max_receive_count, dead_letter_queue, created_at)
                        VALUES (?, 30, NULL, NULL, ?)
                        """, arguments: [deadLetterQueue, now])
                }
                return .commit
            }
        }
        return SQLiteQueue(name: name, pool: pool, visibilityTimeout: visibilityTimeout,
                           maxReceiveCount: maxReceiveCount, deadLetterQueue: deadLetterQueue)
    }

    /// The decision store (one table of the same database).
    public var decisions: SQLiteDecisionStore { SQLiteDecisionStore(pool: pool) }

    /// The coach list (one table of the same database).
    public var coaches: SQLiteCoachDirectory { SQLiteCoachDirectory(pool: pool) }

    /// The names of every queue created so far (dead-letter queues included), sorted.
    public func queueNames() throws -> [String] {
        try pool.read { db in try String.fetchAll(db, sql: "SELECT name FROM queues ORDER BY name") }
    }

    // MARK: - Schema

    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE queues (
                    name TEXT PRIMARY KEY NOT NULL,
                    visibility_timeout INTEGER NOT NULL,
                    max_receive_count INTEGER,
                    dead_letter_queue TEXT,
                    created_at INTEGER NOT NULL
                );
                -- Times are milliseconds since 1970. A message is visible when visible_at <= now; it is in
                -- flight when invisible and received at least once, delayed when invisible and never received.
                CREATE TABLE messages (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    queue TEXT NOT NULL,
                    message_id TEXT NOT NULL UNIQUE,
                    body TEXT NOT NULL,
                    attributes TEXT NOT NULL,
                    sent_at INTEGER NOT NULL,
                    visible_at INTEGER NOT NULL,
                    receive_count INTEGER NOT NULL DEFAULT 0,
                    receipt_handle TEXT UNIQUE
                );
                CREATE INDEX messages_by_queue_order ON messages(queue, seq);
                CREATE INDEX messages_by_queue_visibility ON messages(queue, visible_at);

                CREATE TABLE decisions (
                    job_id TEXT PRIMARY KEY NOT NULL,
                    revision INTEGER NOT NULL,
                    state TEXT NOT NULL,
                    meet TEXT,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    record TEXT NOT NULL
                );
                CREATE INDEX decisions_by_created ON decisions(created_at, job_id);
                CREATE INDEX decisions_by_meet ON decisions(meet, created_at, job_id);
                CREATE INDEX decisions_by_state ON decisions(state);

                -- DirectoryWatcher: the last observed version (size, mtime) of every file of a watched bucket.
                CREATE TABLE seen (
                    bucket TEXT NOT NULL,
                    key TEXT NOT NULL,
                    size INTEGER NOT NULL,
                    mtime_ns INTEGER NOT NULL,
                    observed_at INTEGER NOT NULL,
                    etag TEXT,
                    acknowledged INTEGER NOT NULL DEFAULT 0,
                    acknowledged_etag TEXT,
                    PRIMARY KEY (bucket, key)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v2-coaches") { db in
            try db.execute(sql: """
                -- Who hears about which decisions (refvision coaches add|list|remove). team is '' for staff rows
                -- and athlete '' for "every athlete of the team", so the UNIQUE constraint sees them.
                CREATE TABLE coaches (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    email TEXT NOT NULL,
                    team TEXT NOT NULL,
                    athlete TEXT NOT NULL,
                    staff INTEGER NOT NULL,
                    created_at INTEGER NOT NULL,
                    UNIQUE (email, team, athlete, staff)
                );
                """)
        }
        return migrator
    }()

    /// Applies the migrations. Two processes opening a new directory at the same time may both try to
    /// apply one (GRDB reads the applied set outside the migration's transaction); the loser's
    /// transaction fails and rolls back, and its retry finds the migration applied.
    static func migrate(_ pool: DatabasePool) throws {
        try retryingBusy { try migrator.migrate(pool) }
    }

    /// Runs `body`, again up to five times (after 50, 100 … 250 ms) when it fails with a database error
    /// other than a file that is not, or no longer, a database: concurrent first opens of one file.
    static func retryingBusy<T>(_ body: () throws -> T) throws -> T {
        var attempt = 0
        while true {
            do {
                return try body()
            } catch let error as DatabaseError where attempt < 5 && error.resultCode != .SQLITE_NOTADB
                && error.resultCode != .SQLITE_CORRUPT {
                attempt += 1
                Thread.sleep(forTimeInterval: 0.05 * Double(attempt))
            }
        }
    }
}

/// Wall-clock time in milliseconds since 1970 (what every time column stores).
enum Clock {
    static func nowMillis() -> Int64 { millis(Date()) }
    static func millis(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }
    static func date(millis: Int64) -> Date { Date(timeIntervalSince1970: Double(millis) / 1000) }
}
