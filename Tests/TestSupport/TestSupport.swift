import Foundation

/// Where test data lives: the repo root (found from this file), media fetched by scripts/bootstrap
/// into .deps/media, the committed numeric fixtures, and the shared fixtures beside the repo.
public enum TestPaths {
    public static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    public static func media(_ name: String) -> String { repo.appendingPathComponent(".deps/media/\(name)").path }
    public static let fixtures = repo.appendingPathComponent("Tests/Fixtures")
    public static let models = repo.appendingPathComponent(".deps/models").path
    /// `../shared/fixtures/lifts`: internal clips, present on developer machines and in CI.
    public static let sharedLifts = repo.deletingLastPathComponent().appendingPathComponent("shared/fixtures/lifts")

    public static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }
    public static var hasModels: Bool { exists(models + "/pose_landmark_full.tflite") }
    public static var hasSharedLifts: Bool { exists(sharedLifts.appendingPathComponent("expected.json").path) }
    public static var hasFFmpegCLI: Bool { exists("/usr/bin/ffmpeg") }
}

/// A fresh temporary directory, removed by `remove()`.
public struct TempDir: Sendable {
    public let url: URL
    public init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("refvision-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    public func remove() { try? FileManager.default.removeItem(at: url) }
}

public struct CommandFailed: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}

/// Runs a program and returns its stdout; throws with its stderr when it exits non-zero.
@discardableResult
public func runProgram(_ path: String, _ args: [String]) throws -> Data {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else {
        throw CommandFailed(description: "\(path) \(args.joined(separator: " ")) exited \(p.terminationStatus): "
            + String(decoding: errData.suffix(2000), as: UTF8.self))
    }
    return data
}

/// Runs the ffmpeg CLI quietly (`-v error -y` added).
@discardableResult
public func ffmpeg(_ args: [String]) throws -> Data {
    try runProgram("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-y"] + args)
}

/// What ffprobe says about the first video stream: width, height, frame count (counted), duration.
public func probe(_ path: String) throws -> (width: Int, height: Int, frames: Int, duration: Double) {
    let out = try runProgram("/usr/bin/ffprobe", [
        "-v", "error", "-count_frames", "-select_streams", "v:0",
        "-show_entries", "stream=width,height,nb_read_frames:format=duration", "-of", "json", path])
    let json = try JSONSerialization.jsonObject(with: out) as? [String: Any] ?? [:]
    let stream = (json["streams"] as? [[String: Any]])?.first ?? [:]
    let format = json["format"] as? [String: Any] ?? [:]
    return (stream["width"] as? Int ?? 0, stream["height"] as? Int ?? 0,
            Int(stream["nb_read_frames"] as? String ?? "0") ?? 0,
            Double(format["duration"] as? String ?? "0") ?? 0)
}

/// The first video stream's packets in file order, as ffprobe reads them: presentation and decoding
/// times and duration (in the stream's time base) and whether each is a key frame.
public func probePackets(_ path: String) throws -> [(pts: Int, dts: Int, duration: Int, key: Bool)] {
    let out = try runProgram("/usr/bin/ffprobe", [
        "-v", "error", "-select_streams", "v:0",
        "-show_entries", "packet=pts,dts,duration,flags", "-of", "json", path])
    let json = try JSONSerialization.jsonObject(with: out) as? [String: Any] ?? [:]
    return (json["packets"] as? [[String: Any]] ?? []).map {
        ($0["pts"] as? Int ?? -1, $0["dts"] as? Int ?? -1, $0["duration"] as? Int ?? -1,
         ($0["flags"] as? String ?? "").contains("K"))
    }
}

/// 127.0.0.1:`port` as a socket address (port 0: any free port).
public func loopbackAddress(port: Int = 0) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    return address
}

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then closed).
public func freeTCPPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw CommandFailed(description: "socket() failed") }
    defer { close(fd) }
    var address = loopbackAddress()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw CommandFailed(description: "bind() failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// A moto_server of our own on a free port: for tests that flip moto's global auth mode, or that read
/// `/moto-api/data.json` (which the shared server stops answering once any test has deleted a bucket
/// that held objects: moto 5.2.1 then fails serialising the deleted keys).
public final class PrivateMotoServer: Sendable {
    public let endpoint: String
    private let process: Process

    private init(endpoint: String, process: Process) {
        self.endpoint = endpoint
        self.process = process
    }

    public static func start() async throws -> PrivateMotoServer {
        let port = try freeTCPPort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["moto_server", "-H", "127.0.0.1", "-p", String(port)]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let server = PrivateMotoServer(endpoint: "http://127.0.0.1:\(port)", process: process)
        // Wait until it accepts connections (usually within a second).
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            guard process.isRunning else {
                throw CommandFailed(description: "moto_server exited with status \(process.terminationStatus)")
            }
            if canConnect(port: port) {
                try await Task.sleep(for: .milliseconds(100))
                return server
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        server.stop()
        throw CommandFailed(description: "moto_server did not listen on port \(port) within 30 s")
    }

    /// SIGKILL: a child spawned from a test thread inherits that thread's blocked-signal mask, so moto
    /// never sees SIGTERM/SIGINT.
    public func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { stop() }

    private static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopbackAddress(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
