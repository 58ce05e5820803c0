import Foundation

/// Why a video or image could not be read or written. Every case names the file and, where FFmpeg
/// said something, FFmpeg's own message.
public enum MediaError: Error, Equatable, Sendable, CustomStringConvertible {
    case fileNotFound(path: String)
    case emptyFile(path: String)
    case notAFile(path: String)
    case fileTooLarge(path: String, bytes: Int64, limit: Int64)
    case unrecognizedFormat(path: String, message: String)
    case noVideoStream(path: String)
    case unsupportedCodec(path: String, codec: String)
    case frameTooLarge(path: String, width: Int, height: Int, limit: Int)
    case tooLong(path: String, seconds: Double, limit: Double)
    case noFrames(path: String)
    case decodeFailed(path: String, message: String)
    case encodeFailed(path: String, message: String)
    /// A decoded picture could not be copied to be drawn on (FFmpeg's message; out of memory).
    case pictureCopyFailed(message: String)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .fileNotFound(let p): "\(p): no such file"
        case .emptyFile(let p): "\(p): the file is empty"
        case .notAFile(let p): "\(p): not a regular file"
        case .fileTooLarge(let p, let b, let l): "\(p): \(b) bytes is over the limit of \(l) bytes"
        case .unrecognizedFormat(let p, let m): "\(p): not a video or image FFmpeg can read (\(m))"
        case .noVideoStream(let p): "\(p): has no video stream (audio only?)"
        case .unsupportedCodec(let p, let c): "\(p): no decoder for codec \(c)"
        case .frameTooLarge(let p, let w, let h, let l): "\(p): frame \(w)×\(h) is over the limit of \(l) px a side"
        case .tooLong(let p, let s, let l):
            "\(p): duration \(String(format: "%.1f", s)) s is over the limit of \(String(format: "%.0f", l)) s"
        case .noFrames(let p): "\(p): no decodable video frames"
        case .decodeFailed(let p, let m): "\(p): decoding failed: \(m)"
        case .encodeFailed(let p, let m): "\(p): encoding failed: \(m)"
        case .pictureCopyFailed(let m): "could not copy a decoded picture to draw on it: \(m)"
        case .invalidArgument(let m): m
        }
    }
}

/// Bounds on what a reader accepts; uploads are hostile until proven otherwise.
public struct MediaLimits: Sendable, Equatable {
    /// Largest accepted frame side in pixels.
    public var maxSide: Int
    /// Longest accepted duration in seconds.
    public var maxDuration: Double
    /// Largest accepted file in bytes.
    public var maxFileBytes: Int64

    public init(maxSide: Int = 4096, maxDuration: Double = 600, maxFileBytes: Int64 = 4 << 30) {
        self.maxSide = maxSide
        self.maxDuration = maxDuration
        self.maxFileBytes = maxFileBytes
    }

    public static let `default` = MediaLimits()
}
