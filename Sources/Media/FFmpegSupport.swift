import CFFmpeg

/// FFmpeg's message for an error code, via av_strerror.
func ffmpegMessage(_ code: Int32) -> String {
    var buf = [CChar](repeating: 0, count: 256)
    refv_strerror(code, &buf, buf.count)
    return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// A frame rate as a rational number, as FFmpeg keeps it (30000/1001 stays exact).
public struct FrameRate: Sendable, Equatable, CustomStringConvertible {
    public var numerator: Int32
    public var denominator: Int32

    public init(_ numerator: Int32, _ denominator: Int32 = 1) {
        self.numerator = numerator
        self.denominator = denominator
    }

    public var value: Double { denominator == 0 ? 0 : Double(numerator) / Double(denominator) }
    public var isValid: Bool { numerator > 0 && denominator > 0 }
    public var description: String {
        denominator == 1 ? "\(numerator)" : String(format: "%.3f", value)
    }
}

/// Silences FFmpeg's own logging (errors reach callers as MediaError instead) unless asked for.
enum FFmpegLog {
    static let configured: Void = {
        av_log_set_level(AV_LOG_QUIET)
    }()
}
