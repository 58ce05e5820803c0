import Foundation

/// A file a service's main loop touches; the container health check (`refvision health --heartbeat`)
/// reads its age, so a hung loop turns the task unhealthy. Touches at most once a second.
public final class Heartbeat: @unchecked Sendable {
    public let path: String
    private let lock = NSLock()
    private var last = Date.distantPast

    public init(path: String) {
        self.path = path
    }

    /// Updates the file's modification time (creating it and its directory if needed). Never throws:
    /// a heartbeat that cannot be written shows up as an unhealthy task, which is the point.
    public func beat(now: Date = Date()) {
        lock.lock()
        defer { lock.unlock() }
        guard now.timeIntervalSince(last) >= 1 else { return }
        last = now
        let manager = FileManager.default
        if !manager.fileExists(atPath: path) {
            try? manager.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            manager.createFile(atPath: path, contents: Data())
        }
        try? manager.setAttributes([.modificationDate: now], ofItemAtPath: path)
    }

    /// Seconds since the file at `path` was modified, or nil when it doesn't exist.
    public static func age(of path: String, now: Date = Date()) -> TimeInterval? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let modified = attributes[.modificationDate] as? Date else { return nil }
        return now.timeIntervalSince(modified)
    }
}
