/// One upload: when it arrived (seconds; epoch seconds for ISO-8601 traces) and the clip's length.
public struct Upload: Sendable, Equatable {
    public var time: Double
    public var clipSeconds: Double

    public init(time: Double, clipSeconds: Double) {
        self.time = time
        self.clipSeconds = clipSeconds
    }
}

/// An arrival trace read from CSV: `timestamp,duration_s` per upload.
public struct Trace: Sendable, Equatable {
    public enum TimestampFormat: Sendable, Equatable {
        /// Plain seconds (relative or epoch).
        case seconds
        /// ISO-8601 with a zone, converted to epoch seconds.
        case iso8601
    }

    /// Uploads sorted by time (stable for equal times).
    public var uploads: [Upload]
    public var format: TimestampFormat

    public static let maxRows = 2_000_000
    public static let maxLineBytes = 1_024
    /// A trace longer than this is refused: the simulator ticks every minute over the whole span.
    public static let maxSpanSeconds: Double = 31 * 86_400
    public static let maxClipSeconds: Double = 86_400
}

/// Why a trace was refused. Lines are 1-based.
public enum TraceError: Error, Equatable, CustomStringConvertible {
    case empty
    case tooManyRows(limit: Int)
    case lineTooLong(line: Int, limit: Int)
    case invalidCharacter(line: Int)
    case wrongFieldCount(line: Int, found: Int)
    case badTimestamp(line: Int, reason: String)
    case mixedTimestampFormats(line: Int)
    case badDuration(line: Int, reason: String)
    case spanTooLong(seconds: Double, limit: Double)

    public var description: String {
        switch self {
        case .empty:
            return "trace: no uploads (expected lines of `timestamp,duration_s`)"
        case let .tooManyRows(limit):
            return "trace: more than \(limit) uploads"
        case let .lineTooLong(line, limit):
            return "trace line \(line): longer than \(limit) bytes"
        case let .invalidCharacter(line):
            return "trace line \(line): control or non-ASCII character"
        case let .wrongFieldCount(line, found):
            return "trace line \(line): expected 2 fields (timestamp,duration_s), found \(found)"
        case let .badTimestamp(line, reason):
            return "trace line \(line): bad timestamp: \(reason)"
        case let .mixedTimestampFormats(line):
            return "trace line \(line): mixes plain-second and ISO-8601 timestamps"
        case let .badDuration(line, reason):
            return "trace line \(line): bad duration_s: \(reason)"
        case let .spanTooLong(seconds, limit):
            return "trace: spans \(Int(seconds)) s; at most \(Int(limit)) s (31 days) can be simulated"
        }
    }
}

extension Trace {
    /// Parses CSV text. An optional header `timestamp,duration_s`, blank lines and `#` comments are
    /// allowed; fields may be wrapped in double quotes; CRLF is accepted.
    public static func parse(_ text: String, maxRows: Int = Trace.maxRows) throws(TraceError) -> Trace {
        var uploads: [Upload] = []
        var format: TimestampFormat?
        var lineNumber = 0
        for rawLine in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            if rawLine.count > maxLineBytes { throw .lineTooLong(line: lineNumber, limit: maxLineBytes) }
            var bytes = Array(rawLine)
            if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
            if lineNumber == 1, bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) } // BOM
            for b in bytes where b >= 0x7F || (b < 0x20 && b != UInt8(ascii: "\t")) {
                throw .invalidCharacter(line: lineNumber)
            }
            let line = trim(bytes[...])
            if line.isEmpty || line.first == UInt8(ascii: "#") { continue }
            let fields = line.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false).map { unquote(trim($0)) }
            if uploads.isEmpty, format == nil, fields.count == 2,
               lower(fields[0]) == "timestamp", lower(fields[1]) == "duration_s" {
                continue // header
            }
            guard fields.count == 2 else { throw .wrongFieldCount(line: lineNumber, found: fields.count) }
            let (time, lineFormat) = try parseTimestamp(fields[0], line: lineNumber)
            if let f = format, f != lineFormat { throw .mixedTimestampFormats(line: lineNumber) }
            format = lineFormat
            guard let clip = parsePlainNumber(fields[1]) else {
                throw .badDuration(line: lineNumber, reason: "not a decimal number")
            }
            guard clip > 0, clip <= maxClipSeconds else {
                throw .badDuration(line: lineNumber, reason: "must be in (0, \(Int(maxClipSeconds))] seconds")
            }
            if uploads.count >= maxRows { throw .tooManyRows(limit: maxRows) }
            uploads.append(Upload(time: time, clipSeconds: clip))
        }
        guard let first = uploads.first, let f = format else { throw .empty }
        var lo = first.time, hi = first.time
        for u in uploads { lo = min(lo, u.time); hi = max(hi, u.time) }
        if hi - lo > maxSpanSeconds { throw .spanTooLong(seconds: hi - lo, limit: maxSpanSeconds) }
        // Stable sort by time.
        let sorted = uploads.enumerated().sorted { a, b in
            a.element.time != b.element.time ? a.element.time < b.element.time : a.offset < b.offset
        }.map(\.element)
        return Trace(uploads: sorted, format: f)
    }

    // MARK: field parsing

    private static func trim(_ s: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var s = s
        while let c = s.first, c == 0x20 || c == 0x09 { s.removeFirst() }
        while let c = s.last, c == 0x20 || c == 0x09 { s.removeLast() }
        return s
    }

    private static func unquote(_ s: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        if s.count >= 2, s.first == UInt8(ascii: "\""), s.last == UInt8(ascii: "\"") {
            return trim(s.dropFirst().dropLast())
        }
        return s
    }

    private static func lower(_ s: ArraySlice<UInt8>) -> String {
        String(decoding: s, as: UTF8.self).lowercased()
    }

    /// A decimal number: optional sign, digits, optional fraction, optional exponent. Rejects nan,
    /// inf, hex and anything Double(String) would otherwise accept.
    static func parsePlainNumber(_ s: ArraySlice<UInt8>) -> Double? {
        guard !s.isEmpty, s.count <= 40 else { return nil }
        var i = s.startIndex
        if s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-") { i += 1 }
        var digits = 0
        while i < s.endIndex, (0x30...0x39).contains(s[i]) { i += 1; digits += 1 }
        if i < s.endIndex, s[i] == UInt8(ascii: ".") {
            i += 1
            while i < s.endIndex, (0x30...0x39).contains(s[i]) { i += 1; digits += 1 }
        }
        guard digits > 0 else { return nil }
        if i < s.endIndex, s[i] == UInt8(ascii: "e") || s[i] == UInt8(ascii: "E") {
            i += 1
            if i < s.endIndex, s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-") { i += 1 }
            var expDigits = 0
            while i < s.endIndex, (0x30...0x39).contains(s[i]) { i += 1; expDigits += 1 }
            guard expDigits > 0, expDigits <= 3 else { return nil }
        }
        guard i == s.endIndex, let v = Double(String(decoding: s, as: UTF8.self)), v.isFinite else { return nil }
        return v
    }

    private static func parseTimestamp(_ s: ArraySlice<UInt8>, line: Int) throws(TraceError) -> (Double, TimestampFormat) {
        if s.isEmpty { throw .badTimestamp(line: line, reason: "empty") }
        if let v = parsePlainNumber(s) {
            guard abs(v) <= 1e11 else { throw .badTimestamp(line: line, reason: "seconds out of range (|t| ≤ 1e11)") }
            return (v, .seconds)
        }
        return (try parseISO8601(s, line: line), .iso8601)
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM|±HHMM)`; a space may replace the `T`.
    static func parseISO8601(_ s: ArraySlice<UInt8>, line: Int) throws(TraceError) -> Double {
        let b = Array(s)
        func fail(_ why: String) -> TraceError { .badTimestamp(line: line, reason: why) }
        func digits(_ at: Int, _ n: Int) -> Int? {
            guard at + n <= b.count else { return nil }
            var v = 0
            for k in at..<(at + n) {
                guard (0x30...0x39).contains(b[k]) else { return nil }
                v = v * 10 + Int(b[k] - 0x30)
            }
            return v
        }
        guard b.count >= 19,
              let year = digits(0, 4), b[4] == UInt8(ascii: "-"),
              let month = digits(5, 2), b[7] == UInt8(ascii: "-"),
              let day = digits(8, 2), b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: " "),
              let hour = digits(11, 2), b[13] == UInt8(ascii: ":"),
              let minute = digits(14, 2), b[16] == UInt8(ascii: ":"),
              let second = digits(17, 2)
        else { throw fail("expected seconds or ISO-8601 like 2026-03-14T09:02:11Z") }
        guard (1970...2200).contains(year) else { throw fail("year \(year) out of range 1970...2200") }
        guard (1...12).contains(month) else { throw fail("month \(month)") }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        guard (1...monthDays).contains(day) else { throw fail("day \(day) of month \(month)") }
        guard hour <= 23, minute <= 59, second <= 60 else { throw fail("time of day out of range") }
        var i = 19
        var fraction = 0.0
        if i < b.count, b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: ",") {
            i += 1
            var scale = 0.1
            let start = i
            while i < b.count, (0x30...0x39).contains(b[i]) {
                if i - start < 9 { fraction += Double(b[i] - 0x30) * scale; scale /= 10 }
                i += 1
            }
            guard i > start else { throw fail("empty fraction of a second") }
        }
        guard i < b.count else { throw fail("no time zone (add Z for UTC)") }
        var offset = 0
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
            i += 1
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            let sign = b[i] == UInt8(ascii: "-") ? -1 : 1
            i += 1
            guard let oh = digits(i, 2) else { throw fail("bad zone offset") }
            i += 2
            if i < b.count, b[i] == UInt8(ascii: ":") { i += 1 }
            guard let om = digits(i, 2) else { throw fail("bad zone offset") }
            i += 2
            guard oh <= 14, om <= 59 else { throw fail("zone offset out of range") }
            offset = sign * (oh * 3600 + om * 60)
        } else {
            throw fail("no time zone (add Z for UTC)")
        }
        guard i == b.count else { throw fail("trailing characters") }
        let days = daysFromCivil(year: year, month: month, day: day)
        return Double(days * 86_400 + hour * 3600 + minute * 60 + second - offset) + fraction
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
