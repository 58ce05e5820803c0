import Fleet
import Foundation
import GRDB

/// The decision store in the `decisions` table of an `EmbeddedState`: one row per job, the whole
/// `DecisionRecord` as JSON (`FleetJSON`, dates with millisecond precision) plus indexed columns
/// (revision, state, meet, created_at, updated_at). Writes are conditional, like DynamoDB's:
/// `create` inserts only when the job has no record, `update` replaces only when the stored revision is
/// the expected one. The `revision` column is authoritative; the record's own `revision` field is kept in
/// step with it.
public struct SQLiteDecisionStore: DecisionStore {
    let pool: DatabasePool

    init(pool: DatabasePool) {
        self.pool = pool
    }

    /// Inserts the record with revision 0 (whatever `record.revision` says) unless the job already has a
    /// record; returns whether it was inserted.
    public func create(_ record: DecisionRecord) async throws -> Bool {
        var stored = record
        stored.revision = 0
        let record = stored
        let json = try Self.encode(record)
        return try await pool.writeWithoutTransaction { db in
            try db.execute(sql: """
                INSERT OR IGNORE INTO decisions (job_id, revision, state, meet, created_at, updated_at, record)
                VALUES (?, 0, ?, ?, ?, ?, ?)
                """, arguments: [record.jobId, record.state.rawValue, record.meet, Clock.millis(record.createdAt),
                                 Clock.millis(record.updatedAt), json])
            return db.changesCount > 0
        }
    }

    public func get(jobId: String) async throws -> DecisionRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT revision, record FROM decisions WHERE job_id = ?", arguments: [jobId])
                .map(Self.decode)
        }
    }

    /// Replaces the record when the stored revision is `expectedRevision`; the stored record gets revision
    /// `expectedRevision + 1`. Throws `FleetError.conditionFailed` when the revision differs or the job
    /// has no record.
    public func update(_ record: DecisionRecord, expectedRevision: Int) async throws {
        var next = record
        next.revision = expectedRevision + 1
        let record = next
        let json = try Self.encode(record)
        let changed = try await pool.writeWithoutTransaction { db in
            try db.execute(sql: """
                UPDATE decisions SET revision = ?, state = ?, meet = ?, created_at = ?, updated_at = ?, record = ?
                WHERE job_id = ? AND revision = ?
                """, arguments: [expectedRevision + 1, record.state.rawValue, record.meet, Clock.millis(record.createdAt),
                                 Clock.millis(record.updatedAt), json, record.jobId, expectedRevision])
            return db.changesCount
        }
        if changed == 0 {
            throw FleetError.conditionFailed("job \(record.jobId): revision is not \(expectedRevision) (or no record)")
        }
    }

    /// Records newest first (by `createdAt`, then job id), at most `limit`; `meet` restricts to one meet.
    public func list(meet: String?, limit: Int) async throws -> [DecisionRecord] {
        let limit = max(0, limit)
        return try await pool.read { db in
            let rows: [Row]
            if let meet {
                rows = try Row.fetchAll(db, sql: """
                    SELECT revision, record FROM decisions WHERE meet = ?
                    ORDER BY created_at DESC, job_id DESC LIMIT ?
                    """, arguments: [meet, limit])
            } else {
                rows = try Row.fetchAll(db, sql: """
                    SELECT revision, record FROM decisions ORDER BY created_at DESC, job_id DESC LIMIT ?
                    """, arguments: [limit])
            }
            return try rows.map(Self.decode)
        }
    }

    /// How many records are in each state (for `status`).
    public func countsByState() async throws -> [JobState: Int] {
        try await pool.read { db in
            var counts: [JobState: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM decisions GROUP BY state") {
                if let state = JobState(rawValue: row["state"]) { counts[state] = row["n"] }
            }
            return counts
        }
    }

    static func encode(_ record: DecisionRecord) throws -> String {
        String(decoding: try FleetJSON.encoder().encode(record), as: UTF8.self)
    }

    static func decode(_ row: Row) throws -> DecisionRecord {
        let json: String = row["record"]
        do {
            var record = try FleetJSON.decoder().decode(DecisionRecord.self, from: Data(json.utf8))
            record.revision = row["revision"]
            return record
        } catch {
            throw EmbeddedError.corruptRecord("decision record: \(error)")
        }
    }
}
