import Foundation
import Media
import Pose

/// Human output on stderr: a progress bar when stderr is a terminal, nothing otherwise.
struct ProgressBar {
    let label: String
    let enabled: Bool
    private var lastDraw = 0.0
    private let started = Date()

    init(label: String, enabled: Bool = isatty(STDERR_FILENO) == 1) {
        self.label = label
        self.enabled = enabled
    }

    mutating func update(_ done: Int, _ total: Int?) {
        guard enabled else { return }
        let now = Date().timeIntervalSince(started)
        guard now - lastDraw >= 0.1 || done == total else { return }
        lastDraw = now
        let fps = now > 0 ? Double(done) / now : 0
        var line = "\r\(label) "
        if let total, total > 0 {
            let width = 30, filled = min(width, width * done / total)
            line += "[" + String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled) + "] "
            line += String(format: "%3d%% %d/%d", min(100, 100 * done / total), done, total)
        } else {
            line += "\(done) frames"
        }
        line += String(format: "  %.1f fps ", fps)
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}

/// Exit codes (documented in the README): 0 success, 2 bad input (the video or a file given),
/// 3 runtime failure (models, OpenVINO), 4 cannot write an output. ArgumentParser uses 64 for usage.
enum Exit {
    static let badInput: Int32 = 2
    static let runtime: Int32 = 3
    static let output: Int32 = 4
}

struct CLIError: Error, CustomStringConvertible {
    let description: String
    let code: Int32
}

/// Prints `error` as one clear line on stderr and exits with its code.
func failAndExit(_ error: any Error) -> Never {
    let (message, code): (String, Int32) = switch error {
    case let e as MediaError:
        switch e {
        case .encodeFailed: (e.description, Exit.output)
        case .pictureCopyFailed: (e.description, Exit.runtime)
        default: (e.description, Exit.badInput)
        }
    case let e as PoseError: (e.description, Exit.runtime)
    case let e as CLIError: (e.description, e.code)
    case let e as DecodingError: ("not a valid pose track: \(describe(e))", Exit.badInput)
    default: ("\(error)", Exit.runtime)
    }
    FileHandle.standardError.write(Data("refvision: error: \(message)\n".utf8))
    exit(code)
}

func describe(_ e: DecodingError) -> String {
    switch e {
    case .dataCorrupted(let c), .keyNotFound(_, let c), .typeMismatch(_, let c), .valueNotFound(_, let c):
        let path = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return (path.isEmpty ? "" : "at \(path): ") + c.debugDescription
    @unknown default:
        return "\(e)"
    }
}

/// Writes `data` to `path`, or to stdout for "-".
func writeOutput(_ data: Data, to path: String) throws {
    if path == "-" {
        FileHandle.standardOutput.write(data)
        FileHandle.standardOutput.write(Data("\n".utf8))
        return
    }
    do {
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
        throw CLIError(description: "cannot write \(path): \(error.localizedDescription)", code: Exit.output)
    }
}
