import Foundation

/// Percent-encoding the way SigV4 and the AWS wire protocols want it (RFC 3986 unreserved set only:
/// `A-Z a-z 0-9 - _ . ~` stay, every other byte of the UTF-8 form becomes `%XX` with upper-case hex).
public enum AWSURIEncoding {
    @inline(__always)
    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
            UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// Encodes every byte outside the unreserved set; with `keepSlash`, `/` is kept (for paths).
    public static func encode(_ string: String, keepSlash: Bool = false) -> String {
        let utf8 = string.utf8
        // Fast path: nothing to encode.
        if utf8.allSatisfy({ isUnreserved($0) || (keepSlash && $0 == UInt8(ascii: "/")) }) {
            return string
        }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count * 3)
        for byte in utf8 {
            if isUnreserved(byte) || (keepSlash && byte == UInt8(ascii: "/")) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes `%XX` escapes. `+` is kept literally (AWS query strings built by SDKs never use `+` for a
    /// space). Returns `nil` when an escape is malformed or the bytes are not UTF-8.
    public static func decode(_ string: String, plusIsSpace: Bool = false) -> String? {
        let utf8 = Array(string.utf8)
        if !utf8.contains(UInt8(ascii: "%")) && !(plusIsSpace && utf8.contains(UInt8(ascii: "+"))) {
            return string
        }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        var index = 0
        while index < utf8.count {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < utf8.count, let high = hexValue(utf8[index + 1]), let low = hexValue(utf8[index + 2])
                else { return nil }
                out.append(high << 4 | low)
                index += 3
            } else if plusIsSpace && byte == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
                index += 1
            } else {
                out.append(byte)
                index += 1
            }
        }
        return String(bytes: out, encoding: .utf8)
    }

    @inline(__always)
    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// `application/x-www-form-urlencoded` body for the AWS query protocol (SNS, CloudWatch): pairs in the
    /// given order, encoded with the strict AWS rules except that a space becomes `+` — byte for byte what
    /// botocore sends (and what moto's signature check re-creates from the parsed form).
    public static func formEncode(_ pairs: [(String, String)]) -> String {
        func form(_ text: String) -> String { encode(text).replacingOccurrences(of: "%20", with: "+") }
        return pairs.map { form($0.0) + "=" + form($0.1) }.joined(separator: "&")
    }
}
