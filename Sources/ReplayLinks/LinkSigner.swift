import Crypto
import Foundation

/// Makes and verifies replay link tokens.
///
/// ## Token format (version 1)
///
///     v1.<keyId>.<jobId>.<expires>.<signature>
///
/// - `v1`: the format version; any other prefix is ``LinkError/malformed``.
/// - `keyId`: `[A-Za-z0-9_-]{1,32}`, the key that signed it (see ``LinkKeys``).
/// - `jobId`: `[A-Za-z0-9_-]{1,64}`.
/// - `expires`: Unix seconds, decimal digits only, no sign or leading zero, at most 11 digits.
/// - `signature`: unpadded base64url (43 characters) of
///   `HMAC-SHA256(secret(keyId), "v1.<keyId>.<jobId>.<expires>")` — exactly the token's bytes before the last dot.
///
/// Every character is in `[A-Za-z0-9._-]`, so a token is safe as a URL path segment as is. Fields cannot contain
/// dots, so a token splits into exactly five fields. Tokens are at most 156 characters.
public struct LinkSigner: Sendable, CustomStringConvertible {
    /// Tokens longer than this (in UTF-8 bytes) are rejected before any parsing.
    public static let maxTokenLength = 512
    /// The version field of tokens this signer makes and accepts.
    static let version = "v1"
    /// The largest expiry a token carries (11 digits), far past any real link.
    static let maxExpiry: Int64 = 99_999_999_999

    /// The keys that sign and verify.
    public let keys: LinkKeys
    /// How long a new link stays valid, in seconds.
    public let validity: TimeInterval

    /// - Parameter validity: seconds a new link stays valid (default 7 days); must be positive and finite.
    public init(keys: LinkKeys, validity: TimeInterval = 7 * 24 * 3600) {
        precondition(validity > 0 && validity.isFinite, "link validity must be positive and finite")
        self.keys = keys
        self.validity = validity
    }

    /// A token for `jobId`, signed with the active key, expiring `validity` seconds after `now` (rounded down to a
    /// whole second).
    public func token(jobId: String, now: Date = Date()) throws(LinkSigningError) -> String {
        guard isIdentifier(jobId, maxLength: maxJobIdLength) else { throw .invalidJobId(jobId) }
        let expiry = (now.timeIntervalSince1970 + validity).rounded(.down)
        guard expiry >= 0, expiry <= Double(Self.maxExpiry) else { throw .expiryOutOfRange }
        let signed = "\(Self.version).\(keys.activeKeyId).\(jobId).\(Int64(expiry))"
        return signed + "." + Base64URL.encode(Self.mac(Array(signed.utf8), key: keys.activeKey))
    }

    /// `base` without trailing slashes, then `/r/`, then a fresh token for `jobId`.
    ///
    /// `base` must be an absolute `http` or `https` URL with a host and no query or fragment,
    /// e.g. `https://replay.example.com` or `https://example.com/replays/`.
    public func url(base: String, jobId: String, now: Date = Date()) throws(LinkSigningError) -> String {
        var trimmed = Substring(base)
        while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let components = URLComponents(string: String(trimmed)),
              let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = components.host, !host.isEmpty,
              components.query == nil, components.fragment == nil
        else { throw .invalidBaseURL(base) }
        return "\(trimmed)/r/\(try token(jobId: jobId, now: now))"
    }

    /// Verifies `token` and returns what it grants.
    ///
    /// In order: length (before any work), strict parsing, key id lookup, constant-time signature comparison, and
    /// only then expiry — so a forged token learns nothing about expiry. A token is valid while `now < expires`.
    public func verify(_ token: String, now: Date = Date()) throws(LinkError) -> ReplayToken {
        let bytes = token.utf8
        guard bytes.count <= Self.maxTokenLength else { throw .tooLong }

        let fields = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).map(Substring.init)
        guard fields.count == 5,
              fields[0] == Self.version,
              isIdentifier(fields[1], maxLength: maxKeyIdLength),
              isIdentifier(fields[2], maxLength: maxJobIdLength),
              let expiry = Self.parseExpiry(fields[3]),
              let signature = Base64URL.decode(fields[4]),
              signature.count == SHA256.byteCount
        else { throw .malformed }
        let keyId = String(fields[1])

        guard let key = keys.key(for: keyId) else { throw .unknownKey(keyId) }
        let signed = Array(bytes[..<fields[3].endIndex])
        guard constantTimeEquals(Self.mac(signed, key: key), signature) else { throw .badSignature }

        let expires = Date(timeIntervalSince1970: TimeInterval(expiry))
        guard now < expires else { throw .expired(expires) }
        return ReplayToken(jobId: String(fields[2]), expires: expires, keyId: keyId)
    }

    public var description: String { "LinkSigner(keys: \(keys), validity: \(validity))" }

    private static func mac(_ message: [UInt8], key: SymmetricKey) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: message, using: key))
    }

    /// Canonical decimal seconds: 1–11 ASCII digits, no leading zero unless the value is 0.
    private static func parseExpiry(_ text: Substring) -> Int64? {
        let digits = text.utf8
        guard (1...11).contains(digits.count),
              digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
              digits.first != UInt8(ascii: "0") || digits.count == 1
        else { return nil }
        return Int64(text)
    }
}
