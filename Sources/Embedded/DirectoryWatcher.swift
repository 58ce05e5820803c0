import Fleet
import Foundation
import GRDB

/// Finds the new and changed files of a bucket directory (the watched raw folder), persistently: what was
/// reported is recorded in the `seen` table of the `EmbeddedState`, so a restarted process (or another
/// one) does not report it again.
///
/// A file is reported once per content version, and only once it is **stable**: its size and mtime are
/// the ones the previous scan saw, or its mtime is at least `settleInterval` old. A file still being
/// copied in changes between scans and is not reported until it stops changing. A file whose mtime
/// changed but whose content hash is the one last reported (touched, or copied over with the same
/// bytes) is not reported again. A file that disappears is forgotten, so putting it back reports it.
///
/// `scan()` marks what it returns as reported in the same transaction (at most once). For at least once,
/// scan with `acknowledge: false` and call `acknowledge(_:)` after handling the objects: until then every
/// scan returns them again. Scans should be at least a second apart for the stability rule to mean much.
public struct DirectoryWatcher: Sendable {
    public let bucket: String
    public let store: DirectoryObjectStore
    public let settleInterval: TimeInterval
    let pool: DatabasePool

    public init(state: EmbeddedState, store: DirectoryObjectStore, bucket: String, settleInterval: TimeInterval = 2) {
        self.pool = state.pool
        self.store = store
        self.bucket = bucket
        self.settleInterval = settleInterval
    }

    private struct Candidate {
        var key: String
        var identity: FileIdentity
    }

    /// The stable new or changed objects, in key order (with their eTags).
    /// - Parameter acknowledge: mark them reported now (default), or leave that to `acknowledge(_:)`.
    public func scan(acknowledge: Bool = true) throws -> [StoredObject] {
        let files = try store.files(bucket: bucket, prefix: "")
        let bucket = bucket
        let settleNs = Int64(settleInterval * 1_000_000_000)

        // 1. Record what is there now; pick the stable versions not yet reported. (No hashing here: the
        //    write lock is held.)
        let candidates: [Candidate] = try pool.writeWithoutTransaction { db in
            var candidates: [Candidate] = []
            try db.inTransaction(.immediate) {
                let nowMs = Clock.nowMillis()
                let nowNs = nowMs * 1_000_000
                var previous: [String: Row] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT * FROM seen WHERE bucket = ?", arguments: [bucket]) {
                    previous[row["key"]] = row
                }
                for file in files {
                    let settled = nowNs - file.identity.mtimeNs >= settleNs
                    if let row = previous.removeValue(forKey: file.key) {
                        let unchanged = row["size"] == file.identity.size && row["mtime_ns"] == file.identity.mtimeNs
                        if unchanged {
                            if row["acknowledged"] == false { candidates.append(Candidate(key: file.key, identity: file.identity)) }
                            continue
                        }
                        try db.execute(sql: """
                            UPDATE seen SET size = ?, mtime_ns = ?, observed_at = ?, etag = NULL, acknowledged = 0
                            WHERE bucket = ? AND key = ?
                            """, arguments: [file.identity.size, file.identity.mtimeNs, nowMs, bucket, file.key])
                    } else {
                        try db.execute(sql: """
                            INSERT INTO seen (bucket, key, size, mtime_ns, observed_at) VALUES (?, ?, ?, ?, ?)
                            """, arguments: [bucket, file.key, file.identity.size, file.identity.mtimeNs, nowMs])
                    }
                    if settled { candidates.append(Candidate(key: file.key, identity: file.identity)) }
                }
                for gone in previous.keys {
                    try db.execute(sql: "DELETE FROM seen WHERE bucket = ? AND key = ?", arguments: [bucket, gone])
                }
                return .commit
            }
            return candidates
        }
        if candidates.isEmpty { return [] }

        // 2. Hash (cached by the store) outside any transaction.
        var described: [(StoredObject, FileIdentity)] = []
        for candidate in candidates {
            do {
                let (object, identity) = try store.describe(bucket: bucket, key: candidate.key)
                if identity.size == candidate.identity.size && identity.mtimeNs == candidate.identity.mtimeNs {
                    described.append((object, identity))
                }
            } catch FleetError.objectNotFound {
                continue
            }
        }

        // 3. Report the versions still current and unreported (another scanner may have got there first).
        return try pool.writeWithoutTransaction { db in
            var reported: [StoredObject] = []
            try db.inTransaction(.immediate) {
                for (object, identity) in described {
                    guard let row = try Row.fetchOne(db, sql: """
                        SELECT size, mtime_ns, acknowledged, acknowledged_etag FROM seen WHERE bucket = ? AND key = ?
                        """, arguments: [bucket, object.key]),
                          row["size"] == identity.size, row["mtime_ns"] == identity.mtimeNs,
                          row["acknowledged"] == false else { continue }
                    let sameContent = (row["acknowledged_etag"] as String?) == object.eTag
                    let markReported = acknowledge || sameContent
                    try db.execute(sql: """
                        UPDATE seen SET etag = ?, acknowledged = ?,
                            acknowledged_etag = CASE WHEN ? THEN ? ELSE acknowledged_etag END
                        WHERE bucket = ? AND key = ?
                        """, arguments: [object.eTag, markReported, markReported, object.eTag, bucket, object.key])
                    if !sameContent { reported.append(object) }
                }
                return .commit
            }
            return reported
        }
    }

    /// Marks objects returned by `scan(acknowledge: false)` as reported (an object whose file changed since
    /// is not affected: its new version will be reported).
    public func acknowledge(_ objects: [StoredObject]) throws {
        let bucket = bucket
        try pool.writeWithoutTransaction { db in
            try db.inTransaction(.immediate) {
                for object in objects where object.bucket == bucket {
                    try db.execute(sql: """
                        UPDATE seen SET acknowledged = 1, acknowledged_etag = etag
                        WHERE bucket = ? AND key = ? AND etag IS ?
                        """, arguments: [bucket, object.key, object.eTag])
                }
                return .commit
            }
        }
    }

    /// Forgets everything reported for this bucket: the next scans report every stable file again.
    public func reset() throws {
        let bucket = bucket
        try pool.write { db in try db.execute(sql: "DELETE FROM seen WHERE bucket = ?", arguments: [bucket]) }
    }
}
