import Foundation

/// The verified contents of a replay link token.
public struct ReplayToken: Sendable, Equatable {
    /// The job whose replay the link opens.
    public let jobId: String
    /// When the link stops working (whole seconds since 1970).
    public let expires: Date
    /// The key id that signed the link.
    public let keyId: String

    public init(jobId: String, expires: Date, keyId: String) {
        self.jobId = jobId
        self.expires = expires
        self.keyId = keyId
    }
}

/// Why a replay link token was rejected.
public enum LinkError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not a well-formed token: wrong version, field count, characters, number or signature encoding.
    case malformed
    /// Signed with a key id we do not hold (never issued, or rotated out).
    case unknownKey(String)
    /// The signature does not match the token's contents.
    case badSignature
    /// Authentic, but expired at this time.
    case expired(Date)
    /// Longer than ``LinkSigner/maxTokenLength``; rejected before any parsing.
    case tooLong

    public var description: String {
        switch self {
        case .malformed: "replay link: malformed token"
        case .unknownKey(let keyId): "replay link: unknown key id \"\(keyId)\""
        case .badSignature: "replay link: bad signature"
        case .expired(let date): "replay link: expired at \(Int64(date.timeIntervalSince1970))"
        case .tooLong: "replay link: token too long"
        }
    }
}

/// Why a link could not be made.
public enum LinkSigningError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The job id does not match `[A-Za-z0-9_-]{1,64}`.
    case invalidJobId(String)
    /// The base URL is not an absolute `http`/`https` URL with a host (and no query or fragment).
    case invalidBaseURL(String)
    /// `now` plus the validity is not a time a token can carry (0 through 99999999999 seconds since 1970).
    case expiryOutOfRange

    public var description: String {
        switch self {
        case .invalidJobId(let jobId): "replay link: invalid job id \"\(jobId)\""
        case .invalidBaseURL(let base): "replay link: invalid base URL \"\(base)\""
        case .expiryOutOfRange: "replay link: expiry out of range"
        }
    }
}
