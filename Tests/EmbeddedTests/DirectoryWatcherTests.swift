@testable import Embedded
import Fleet
import PortConformance
import Foundation
import Testing

@Suite struct DirectoryWatcherTests {
    struct Setup {
        let directory: TemporaryDirectory
        let store: DirectoryObjectStore
        let raw: String

        init(_ label: String = #function) throws {
            directory = try TemporaryDirectory(label)
            store = DirectoryObjectStore(root: directory.sub("objects"))
            raw = directory.sub("objects/raw")
            try FileManager.default.createDirectory(atPath: raw, withIntermediateDirectories: true)
        }

        func watcher(settle: TimeInterval = 2) throws -> DirectoryWatcher {
            DirectoryWatcher(state: try EmbeddedState(directory: directory.sub("state")), store: store, bucket: "raw",
                             settleInterval: settle)
        }

        /// Writes a file; `age` moves its mtime into the past (a finished copy).
        func write(_ key: String, _ text: String, age: TimeInterval? = 10) throws {
            let path = (raw as NSString).appendingPathComponent(key)
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            if let age { try setAge(key, age) }
        }

        func setAge(_ key: String, _ age: TimeInterval) throws {
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -age)],
                                                  ofItemAtPath: (raw as NSString).appendingPathComponent(key))
        }

        func append(_ key: String, _ text: String) throws {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: (raw as NSString).appendingPathComponent(key)))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(text.utf8))
            try handle.close()
        }
    }

    @Test func reportsOnceThenAgainWhenChanged() async throws {
        let setup = try Setup()
        defer { setup.directory.remove() }
        let watcher = try setup.watcher()
        #expect(try watcher.scan().isEmpty)
        try setup.write("meet/squat 1.mp4", "one")
        try setup.write("meet/.hidden.mp4", "hidden")
        let first = try watcher.scan()
        #expect(first.map(\.key) == ["meet/squat 1.mp4"])
        #expect(first.first?.eTag?.count == 32 && first.first?.size == 3)
        #expect(try watcher.scan().isEmpty)
        // New content: reported again, with the new eTag.
        try setup.write("meet/squat 1.mp4", "one, re-recorded", age: 5)
        let second = try watcher.scan()
        #expect(second.map(\.key) == ["meet/squat 1.mp4"])
        #expect(second.first?.eTag != first.first?.eTag)
        #expect(try watcher.scan().isEmpty)
        // Touched but the same bytes: not a new version.
        try setup.setAge("meet/squat 1.mp4", 3)
        #expect(try watcher.scan().isEmpty)
    }

    @Test func growingFileIsReportedOnceStable() async throws {
        let setup = try Setup()
        defer { setup.directory.remove() }
        let watcher = try setup.watcher(settle: 2)
        try setup.write("bench.mp4", "part 1", age: nil)  // being copied in: mtime is now
        #expect(try watcher.scan().isEmpty)
        try setup.append("bench.mp4", " part 2")
        #expect(try watcher.scan().isEmpty)  // changed since the last scan
        let stable = try watcher.scan()  // unchanged since the last scan
        #expect(stable.map(\.key) == ["bench.mp4"])
        #expect(stable.first?.size == 13)
        #expect(try watcher.scan().isEmpty)
    }

    @Test func oldFileIsReportedOnFirstSight() async throws {
        let setup = try Setup()
        defer { setup.directory.remove() }
        try setup.write("a.mp4", "a", age: 3)
        try setup.write("b.mp4", "b", age: nil)
        #expect(try setup.watcher(settle: 2).scan().map(\.key) == ["a.mp4"])
    }

    @Test func restartDoesNotReportAgain() async throws {
        let setup = try Setup()
        defer { setup.directory.remove() }
        try setup.write("a.mp4", "a")
        try setup.write("b/c.mp4", "c")
        #expect(try setup.watcher().scan().map(\.key) == ["a.mp4", "b/c.mp4"])
        // A new process: new EmbeddedState on the same directory.
        #expect(try setup.watcher().scan().isEmpty)
        try setup.write("d.mp4", "d")
        #expect(try setup.watcher().scan().map(\.key) == ["d.mp4"])
    }

    @Test func unacknowledgedObjectsAreReportedUntilAcknowledged() async throws {
        let setup = try Setup()
        defer { setup.directory.remove() }
        let watcher = try setup.watcher()
        try setup.write("a.mp4", "a")
        try setup.write("b.mp4", "b")
        let pending = try watcher.scan(acknowledge: false)
        #expect(pending.map(\.key) == ["a.mp4", "b.mp4"])
        #expect(try watcher.scan(acknowledge: false).map(\.key) == ["a.mp4", "b.mp4"])
        try watcher.acknowledge([pending[0]])
        #expect(try watcher.scan(acknowledge: false).map(\.key) == ["b.mp4"])
        // An acknowledgement of an old version does not hide the new one.
        try setup.write("b.mp4", "b2", age: 5)
        try watcher.acknowledge([pending[1]])
        #expect(try watcher.scan().map(\.key) == ["b.mp4"])
        #expect(try watcher.scan().isEmpty)
    }

    @Test func removedFileIsReportedWhenItComesBack() async throws {
        let setup = try Setup()
        defer { setup.directory.remove() }
        let watcher = try setup.watcher()
        try setup.write("a.mp4", "a")
        #expect(try watcher.scan().count == 1)
        try FileManager.default.removeItem(atPath: setup.raw + "/a.mp4")
        #expect(try watcher.scan().isEmpty)
        try setup.write("a.mp4", "a")
        #expect(try watcher.scan().map(\.key) == ["a.mp4"])
    }
}
