import Foundation

/// An RFC 5322 e-mail as the embedded outbox writes it: UTF-8 plain text, the subject as an RFC 2047
/// encoded word when it is not ASCII, CRLF line ends. The body goes as `8bit` (readable as is in the
/// outbox, links unbroken) when every line fits RFC 5322's 998 octets, else as quoted-printable. Every header value is
/// checked or encoded so that nothing in a name or a reason can add a header.
public struct EmailMessage: Sendable, Equatable {
    public var from: String
    public var to: String
    public var subject: String
    public var body: String
    public var date: Date
    /// Without angle brackets, e.g. `JOBID.1@refvision.local`.
    public var messageId: String
    /// Extra `X-` headers (name → value); values are encoded like the subject.
    public var extraHeaders: [(String, String)]

    public init(from: String, to: String, subject: String, body: String, date: Date, messageId: String,
                extraHeaders: [(String, String)] = []) {
        self.from = from
        self.to = to
        self.subject = subject
        self.body = body
        self.date = date
        self.messageId = messageId
        self.extraHeaders = extraHeaders
    }

    public static func == (a: EmailMessage, b: EmailMessage) -> Bool {
        a.from == b.from && a.to == b.to && a.subject == b.subject && a.body == b.body && a.date == b.date
            && a.messageId == b.messageId && a.extraHeaders.map { "\($0.0):\($0.1)" } == b.extraHeaders.map { "\($0.0):\($0.1)" }
    }

    /// The message as bytes on disk (CRLF line ends). Throws when an address or header name is unsafe.
    public func rendered() throws -> String {
        let from = try EmailAddress.validate(from)
        let to = try EmailAddress.validate(to)
        let messageId = try EmailAddress.validate(messageId)
        var lines = [
            "From: refvision <\(from)>",
            "To: <\(to)>",
            "Subject: " + Self.encodeHeaderValue(subject, nameLength: "Subject: ".count),
            "Date: " + Self.rfc5322Date(date),
            "Message-ID: <\(messageId)>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
        ]
        let normalized = body.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        let eightBit = normalized.split(separator: "\n", omittingEmptySubsequences: false).allSatisfy { $0.utf8.count <= 998 }
            && !normalized.unicodeScalars.contains { $0.value == 0 }
        lines.append("Content-Transfer-Encoding: " + (eightBit ? "8bit" : "quoted-printable"))
        for (name, value) in extraHeaders {
            guard name.hasPrefix("X-"), name.count <= 64,
                  name.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-") })
            else { throw FleetError.invalidMessage("header name '\(name)' is not an X- header") }
            lines.append("\(name): " + Self.encodeHeaderValue(value, nameLength: name.count + 2))
        }
        let encodedBody = eightBit
            ? normalized.replacingOccurrences(of: "\n", with: "\r\n") + (normalized.hasSuffix("\n") ? "" : "\r\n")
            : Self.quotedPrintable(body)
        return lines.joined(separator: "\r\n") + "\r\n\r\n" + encodedBody
    }

    /// `Sat, 21 Nov 2026 09:05:00 +0000`.
    public static func rfc5322Date(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return String(format: "%@, %02d %@ %04d %02d:%02d:%02d +0000", days[(c.weekday ?? 1) - 1], c.day ?? 1,
                      months[(c.month ?? 1) - 1], c.year ?? 1970, c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
    }

    /// Printable ASCII without line breaks stays as is (folded at spaces past 78 columns); anything else
    /// becomes RFC 2047 `=?UTF-8?B?…?=` words of at most 75 characters, each on its own folded line.
    static func encodeHeaderValue(_ value: String, nameLength: Int) -> String {
        let plain = value.unicodeScalars.allSatisfy { $0.isASCII && $0.value >= 0x20 && $0.value != 0x7F }
        if plain && !value.contains("=?") {
            var out = ""
            var column = nameLength
            for (index, word) in value.split(separator: " ", omittingEmptySubsequences: false).enumerated() {
                if index > 0 {
                    if column + 1 + word.count > 78 {
                        out += "\r\n "
                        column = 1
                    } else {
                        out += " "
                        column += 1
                    }
                }
                out += word
                column += word.count
            }
            return out
        }
        // Encoded words: split the UTF-8 at character boundaries so that no word exceeds 75 characters
        // (12 characters of `=?UTF-8?B??=` leave 63 for base64, i.e. 45 bytes of text).
        var words: [String] = []
        var chunk = Data()
        for character in value {
            let bytes = Data(String(character).utf8.map { $0 < 0x20 || $0 == 0x7F ? UInt8(ascii: " ") : $0 })
            if chunk.count + bytes.count > 45 {
                words.append("=?UTF-8?B?\(chunk.base64EncodedString())?=")
                chunk = Data()
            }
            chunk.append(bytes)
        }
        if !chunk.isEmpty || words.isEmpty { words.append("=?UTF-8?B?\(chunk.base64EncodedString())?=") }
        return words.joined(separator: "\r\n ")
    }

    /// RFC 2045 quoted-printable of UTF-8 text, lines at most 76 characters, CRLF line ends.
    static func quotedPrintable(_ text: String) -> String {
        var output = ""
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        for (index, line) in normalized.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if index > 0 { output += "\r\n" }
            let bytes = Array(line.utf8)
            var current = ""
            for (position, byte) in bytes.enumerated() {
                let isLast = position == bytes.count - 1
                let token: String
                if (byte == 0x20 || byte == 0x09) && isLast {
                    token = String(format: "=%02X", byte)
                } else if (byte >= 33 && byte <= 126 && byte != 61) || byte == 0x20 || byte == 0x09 {
                    token = String(UnicodeScalar(byte))
                } else {
                    token = String(format: "=%02X", byte)
                }
                if current.count + token.count > 75 {
                    output += current + "=\r\n"
                    current = ""
                }
                current += token
            }
            output += current
        }
        // The body ends with a line break (one, not a second when the text already has it).
        return normalized.hasSuffix("\n") ? output : output + "\r\n"
    }
}

/// Dates for people: `21 Nov 2026 09:05 UTC`.
public enum HumanDate {
    public static func utc(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "d MMM yyyy HH:mm 'UTC'"
        return formatter.string(from: date)
    }
}
