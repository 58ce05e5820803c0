@testable import Embedded
import Fleet
import PortConformance
import Foundation
import Testing

@Suite struct EmbeddedStateTests {
    @Test func garbageDatabaseFileIsATypedError() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var garbage = Data("this is not an SQLite database, just text. ".utf8)
        garbage.append(Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31) }))
        try garbage.write(to: URL(fileURLWithPath: directory.sub("state.sqlite")))
        #expect {
            _ = try EmbeddedState(directory: directory.path)
        } throws: { error in
            guard case .corruptDatabase(let path, _) = error as? EmbeddedError else { return false }
            return path.hasSuffix("state.sqlite")
        }
    }

    @Test func directoryThatIsAFileIsATypedError() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try Data("x".utf8).write(to: URL(fileURLWithPath: directory.sub("file")))
        #expect {
            _ = try EmbeddedState(directory: directory.sub("file/state"))
        } throws: { error in
            if case .unusableDirectory = error as? EmbeddedError { return true }
            return false
        }
    }

    @Test func createsDirectoryAndUsesWAL() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let state = try EmbeddedState(directory: directory.sub("a/b"))
        #expect(FileManager.default.fileExists(atPath: directory.sub("a/b/state.sqlite")))
        #expect(try state.pool.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") } == "wal")
        #expect(try state.queueNames().isEmpty)
    }

    /// Several states opening a new directory at once all migrate it (one wins, the others find it done).
    @Test func concurrentOpensOfANewDirectory() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.sub("fresh")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<4 {
                group.addTask { _ = try EmbeddedState(directory: path).queue(named: "q\(index)") }
            }
            try await group.waitForAll()
        }
        #expect(try EmbeddedState(directory: path).queueNames() == ["q0", "q1", "q2", "q3"])
    }

    static let python: String? = ["/usr/bin/python3", "/usr/local/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Another process sends while we long-poll; then another process that holds the write lock in the
    /// middle of a transaction is SIGKILLed: its change vanishes whole and we can write again at once.
    @Test(.enabled(if: python != nil, "needs python3 for the second process"))
    func anotherProcessSendsAndAnotherDiesHoldingTheLock() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let state = try EmbeddedState(directory: directory.path)
        let queue = try state.queue(named: "jobs")
        let database = state.databasePath

        // 1. A second process inserts a message (as `send` does) while we wait in a long poll.
        let waiter = Task { try await queue.receive(maxMessages: 1, waitSeconds: 10, visibilityTimeout: nil) }
        let sender = try Self.spawn("""
            import sqlite3, time, uuid
            time.sleep(0.5)
            db = sqlite3.connect(\(Self.literal(database)), timeout=5, isolation_level=None)
            now = int(time.time() * 1000)
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO messages (queue, message_id, body, attributes, sent_at, visible_at) VALUES ('jobs', ?, 'from python', '{}', ?, ?)", (str(uuid.uuid4()), now, now))
            db.execute("COMMIT")
            """)
        let received = try await waiter.value
        sender.waitUntilExit()
        #expect(sender.terminationStatus == 0)
        #expect(received.map(\.body) == ["from python"])

        // 2. A process takes the write lock, writes half a change, and is killed.
        let ready = directory.sub("locked")
        let holder = try Self.spawn("""
            import sqlite3, time, uuid
            db = sqlite3.connect(\(Self.literal(database)), timeout=5, isolation_level=None)
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO messages (queue, message_id, body, attributes, sent_at, visible_at) VALUES ('jobs', ?, 'half', '{}', 0, 0)", (str(uuid.uuid4()),))
            open(\(Self.literal(ready)), "w").close()
            time.sleep(60)
            """)
        let deadline = ContinuousClock.now + .seconds(20)
        while !FileManager.default.fileExists(atPath: ready) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        try #require(FileManager.default.fileExists(atPath: ready))
        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        let start = ContinuousClock.now
        try await queue.send(body: "after the crash")
        #expect(ContinuousClock.now - start < .seconds(3))
        #expect(try queue.peek(limit: 10).map(\.body) == ["from python", "after the crash"])
        #expect(try await state.pool.read { try String.fetchOne($0, sql: "PRAGMA integrity_check") } == "ok")
    }

    static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }

    static func spawn(_ script: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python!)
        process.arguments = ["-c", script]
        try process.run()
        return process
    }
}
