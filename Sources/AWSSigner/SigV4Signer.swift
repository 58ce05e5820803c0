import Crypto
import Foundation

/// Errors from signing: always about the caller's input, never about the network.
public enum SigV4Error: Error, Equatable, CustomStringConvertible {
    case invalidURL(String)
    case invalidExpiry(Int)
    case credentialsExpired(Date)

    public var description: String {
        switch self {
        case .invalidURL(let url): return "SigV4: cannot sign URL '\(url)' (needs http(s) scheme and host)"
        case .invalidExpiry(let seconds): return "SigV4: presign expiry must be at least 1 second, got \(seconds)"
        case .credentialsExpired(let date): return "SigV4: credentials expired at \(date)"
        }
    }
}

/// AWS Signature Version 4 (header signing and presigned URLs).
///
/// Usable on its own: it only needs credentials, the region and the signing name of the service
/// (`s3`, `sqs`, `sns`, `dynamodb`, `monitoring`, ...).
///
/// Canonical URI: S3 signs the path exactly as sent (each segment URI-encoded once, no normalisation);
/// every other service signs the path normalised (`.`/`..`/empty segments removed) and encoded twice.
public struct SigV4Signer: Sendable {
    public static let algorithm = "AWS4-HMAC-SHA256"
    /// SHA-256 of the empty string.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    /// Presigned URLs live at most 7 days.
    public static let maximumPresignExpiry = 604_800

    /// What is signed as the payload.
    public enum Payload: Sendable, Equatable {
        /// Hash these bytes.
        case bytes([UInt8])
        /// The caller already knows the hex SHA-256 of the body.
        case sha256(String)
        /// `UNSIGNED-PAYLOAD` (S3 streamed uploads, presigned URLs).
        case unsigned
        /// No body.
        case empty

        var hash: String {
            switch self {
            case .bytes(let bytes): return SigV4Signer.hexSHA256(bytes)
            case .sha256(let hash): return hash
            case .unsigned: return "UNSIGNED-PAYLOAD"
            case .empty: return SigV4Signer.emptyPayloadHash
            }
        }
    }

    /// A presigned URL and how long it really lives.
    public struct PresignedURL: Sendable, Equatable {
        public var url: String
        /// The expiry actually signed (after clamping).
        public var expiresIn: Int
        public var expiresAt: Date
        /// Why the requested expiry was shortened, if it was.
        public var warnings: [String]
    }

    public let credentials: AWSCredentials
    public let region: String
    public let service: String
    /// S3 (and S3-compatible) canonical URI rules: no double encoding, no path normalisation, and the
    /// `x-amz-content-sha256` header on every request.
    public let isS3: Bool
    private let keyCache: SigningKeyCache

    public init(credentials: AWSCredentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.isS3 = service == "s3" || service == "s3-object-lambda" || service == "s3express"
        self.keyCache = SigningKeyCache()
    }

    // MARK: - Header signing

    /// Signs a request and returns the headers to send: the caller's headers plus `host`, `x-amz-date`,
    /// `x-amz-security-token` (temporary credentials), `x-amz-content-sha256` (S3) and `authorization`.
    public func signHeaders(
        method: String,
        url: String,
        headers: [(String, String)] = [],
        payload: Payload = .empty,
        date: Date = Date()
    ) throws -> [(String, String)] {
        let parts = try URLParts(url)
        return signHeaders(
            method: method, host: parts.hostHeader, path: parts.path, query: parts.query, headers: headers,
            payload: payload, date: date)
    }

    /// Signs a request given as parts: `path` is the percent-encoded path as it goes on the wire, `query`
    /// the decoded name/value pairs.
    public func signHeaders(
        method: String,
        host: String,
        path: String,
        query: [(String, String)],
        headers: [(String, String)],
        payload: Payload,
        date: Date = Date()
    ) -> [(String, String)] {
        let stamp = AmzDate(date)
        let payloadHash = payload.hash
        var out = headers.filter { name, _ in
            let lower = name.lowercased()
            return lower != "authorization" && lower != "x-amz-date" && lower != "host"
                && lower != "x-amz-security-token" && !(isS3 && lower == "x-amz-content-sha256")
        }
        out.append(("host", host))
        out.append(("x-amz-date", stamp.full))
        if let token = credentials.sessionToken { out.append(("x-amz-security-token", token)) }
        if isS3 { out.append(("x-amz-content-sha256", payloadHash)) }

        let (canonicalHeaders, signedHeaders) = Self.canonicalHeaders(out)
        let request = canonicalRequest(
            method: method, path: path, canonicalQuery: Self.canonicalQuery(query),
            canonicalHeaders: canonicalHeaders, signedHeaders: signedHeaders, payloadHash: payloadHash)
        let signature = self.signature(canonicalRequest: request, stamp: stamp)
        out.append(
            (
                "authorization",
                "\(Self.algorithm) Credential=\(credentials.accessKeyId)/\(scope(stamp)), SignedHeaders=\(signedHeaders), Signature=\(signature)"
            ))
        return out
    }

    // MARK: - Presigning

    /// Presigns a URL (query signing). `expires` is clamped to 7 days and to the credentials' own expiry;
    /// `PresignedURL.warnings` says when that happened.
    public func presign(
        method: String = "GET",
        url: String,
        headers: [(String, String)] = [],
        expires: Int,
        payload: Payload = .unsigned,
        date: Date = Date()
    ) throws -> PresignedURL {
        guard expires >= 1 else { throw SigV4Error.invalidExpiry(expires) }
        var warnings: [String] = []
        var effective = expires
        if effective > Self.maximumPresignExpiry {
            warnings.append(
                "presign expiry \(expires)s exceeds the SigV4 maximum; clamped to \(Self.maximumPresignExpiry)s (7 days)")
            effective = Self.maximumPresignExpiry
        }
        if let expiration = credentials.expiration {
            let remaining = Int(expiration.timeIntervalSince(date).rounded(.down))
            guard remaining >= 1 else { throw SigV4Error.credentialsExpired(expiration) }
            if remaining < effective {
                warnings.append(
                    "presign expiry \(effective)s outlives the temporary credentials; clamped to \(remaining)s (credentials expire at \(expiration))"
                )
                effective = remaining
            }
        }

        let parts = try URLParts(url)
        let stamp = AmzDate(date)
        var signedHeaderList = headers.filter { $0.0.lowercased() != "host" }
        signedHeaderList.append(("host", parts.hostHeader))
        let (canonicalHeaders, signedHeaders) = Self.canonicalHeaders(signedHeaderList)

        var query = parts.query.filter { !$0.0.hasPrefix("X-Amz-") || !Self.presignQueryNames.contains($0.0) }
        query.append(("X-Amz-Algorithm", Self.algorithm))
        query.append(("X-Amz-Credential", "\(credentials.accessKeyId)/\(scope(stamp))"))
        query.append(("X-Amz-Date", stamp.full))
        query.append(("X-Amz-Expires", String(effective)))
        if let token = credentials.sessionToken { query.append(("X-Amz-Security-Token", token)) }
        query.append(("X-Amz-SignedHeaders", signedHeaders))
        let canonicalQuery = Self.canonicalQuery(query)
        let request = canonicalRequest(
            method: method, path: parts.path, canonicalQuery: canonicalQuery, canonicalHeaders: canonicalHeaders,
            signedHeaders: signedHeaders, payloadHash: payload.hash)
        let signature = self.signature(canonicalRequest: request, stamp: stamp)
        let signedURL =
            "\(parts.scheme)://\(parts.hostHeader)\(Self.canonicalS3Path(parts.path))?\(canonicalQuery)&X-Amz-Signature=\(signature)"
        return PresignedURL(
            url: signedURL, expiresIn: effective, expiresAt: date.addingTimeInterval(TimeInterval(effective)),
            warnings: warnings)
    }

    private static let presignQueryNames: Set<String> = [
        "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
        "X-Amz-Signature", "X-Amz-Security-Token",
    ]

    // MARK: - The pieces (public so they can be tested and reused)

    /// The canonical request string.
    public func canonicalRequest(
        method: String,
        path: String,
        canonicalQuery: String,
        canonicalHeaders: String,
        signedHeaders: String,
        payloadHash: String
    ) -> String {
        let uri = isS3 ? Self.canonicalS3Path(path) : Self.canonicalNormalisedPath(path)
        return "\(method.uppercased())\n\(uri)\n\(canonicalQuery)\n\(canonicalHeaders)\n\(signedHeaders)\n\(payloadHash)"
    }

    /// The string to sign for a canonical request.
    public func stringToSign(canonicalRequest: String, date: Date) -> String {
        let stamp = AmzDate(date)
        return stringToSign(canonicalRequest: canonicalRequest, stamp: stamp)
    }

    func stringToSign(canonicalRequest: String, stamp: AmzDate) -> String {
        "\(Self.algorithm)\n\(stamp.full)\n\(scope(stamp))\n\(Self.hexSHA256(Array(canonicalRequest.utf8)))"
    }

    func signature(canonicalRequest: String, stamp: AmzDate) -> String {
        let toSign = stringToSign(canonicalRequest: canonicalRequest, stamp: stamp)
        let key = signingKey(day: stamp.day)
        let mac = HMAC<SHA256>.authenticationCode(for: Array(toSign.utf8), using: key)
        return Self.hex(mac)
    }

    func scope(_ stamp: AmzDate) -> String { "\(stamp.day)/\(region)/\(service)/aws4_request" }

    /// The derived signing key for a day (`yyyyMMdd`), cached per signer.
    func signingKey(day: String) -> SymmetricKey {
        if let cached = keyCache.get(day) { return cached }
        let kSecret = SymmetricKey(data: Array(("AWS4" + credentials.secretAccessKey).utf8))
        let kDate = HMAC<SHA256>.authenticationCode(for: Array(day.utf8), using: kSecret)
        let kRegion = HMAC<SHA256>.authenticationCode(for: Array(region.utf8), using: SymmetricKey(data: kDate))
        let kService = HMAC<SHA256>.authenticationCode(for: Array(service.utf8), using: SymmetricKey(data: kRegion))
        let kSigning = HMAC<SHA256>.authenticationCode(for: Array("aws4_request".utf8), using: SymmetricKey(data: kService))
        let key = SymmetricKey(data: kSigning)
        keyCache.set(day, key)
        return key
    }

    /// Lower-cased, sorted, value-trimmed headers with inner whitespace runs folded to one space; repeated
    /// names joined with `,`. Returns the canonical header block and the `SignedHeaders` list.
    public static func canonicalHeaders(_ headers: [(String, String)]) -> (canonical: String, signed: String) {
        var entries: [(name: String, value: String)] = []
        entries.reserveCapacity(headers.count)
        for (name, value) in headers {
            let lower = name.lowercased()
            if unsignedHeaders.contains(lower) { continue }
            entries.append((lower, foldWhitespace(value)))
        }
        // Stable sort keeps repeated headers in their original order for the comma join.
        let sorted = entries.enumerated().sorted { lhs, rhs in
            lhs.element.name != rhs.element.name
                ? lhs.element.name.utf8.lexicographicallyPrecedes(rhs.element.name.utf8) : lhs.offset < rhs.offset
        }.map(\.element)
        var canonical = ""
        var signed = ""
        var index = 0
        while index < sorted.count {
            let name = sorted[index].name
            var value = sorted[index].value
            index += 1
            while index < sorted.count, sorted[index].name == name {
                value += "," + sorted[index].value
                index += 1
            }
            canonical += name + ":" + value + "\n"
            signed += signed.isEmpty ? name : ";" + name
        }
        return (canonical, signed)
    }

    /// Headers that proxies and HTTP stacks change, so they are never signed.
    static let unsignedHeaders: Set<String> = [
        "authorization", "user-agent", "expect", "x-amzn-trace-id", "connection", "transfer-encoding",
        "content-length", "accept-encoding",
    ]

    /// Trims the value and folds every run of whitespace (spaces, tabs, line breaks) into one space.
    static func foldWhitespace(_ value: String) -> String {
        // Fast path: nothing to trim or fold.
        var previousSpace = true
        var clean = true
        for byte in value.utf8 {
            if byte == 0x09 || byte == 0x0A || byte == 0x0D || (byte == 0x20 && previousSpace) {
                clean = false
                break
            }
            previousSpace = byte == 0x20
        }
        if clean && !previousSpace { return value }
        if value.isEmpty { return value }
        var out = ""
        out.reserveCapacity(value.utf8.count)
        var pendingSpace = false
        for scalar in value.unicodeScalars {
            if scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.unicodeScalars.append(" ") }
                pendingSpace = false
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Encodes names and values with the strict AWS rules and sorts by name, then value.
    public static func canonicalQuery(_ query: [(String, String)]) -> String {
        if query.isEmpty { return "" }
        let encoded = query.map { (AWSURIEncoding.encode($0.0), AWSURIEncoding.encode($0.1)) }
        let sorted = encoded.sorted { lhs, rhs in
            if lhs.0 != rhs.0 { return lhs.0.utf8.lexicographicallyPrecedes(rhs.0.utf8) }
            return lhs.1.utf8.lexicographicallyPrecedes(rhs.1.utf8)
        }
        return sorted.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// S3: each segment decoded and re-encoded once (so `/a%20b` and `/a b` sign alike), no normalisation.
    static func canonicalS3Path(_ path: String) -> String {
        if path.isEmpty { return "/" }
        return path.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            let raw = String(segment)
            return AWSURIEncoding.encode(AWSURIEncoding.decode(raw) ?? raw)
        }.joined(separator: "/")
    }

    /// Other services: remove `.`, `..` and empty segments, then encode the (once-encoded) path again.
    static func canonicalNormalisedPath(_ path: String) -> String {
        var segments: [String] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            if segment == "." { continue }
            if segment == ".." {
                if !segments.isEmpty { segments.removeLast() }
                continue
            }
            let raw = String(segment)
            let once = AWSURIEncoding.encode(AWSURIEncoding.decode(raw) ?? raw)
            segments.append(AWSURIEncoding.encode(once))
        }
        var result = "/" + segments.joined(separator: "/")
        if path.hasSuffix("/") && !segments.isEmpty { result += "/" }
        return result
    }

    // MARK: - Hashing helpers

    public static func hexSHA256(_ bytes: some DataProtocol) -> String {
        hex(SHA256.hash(data: bytes))
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hex(_ mac: HashedAuthenticationCode<SHA256>) -> String {
        mac.withUnsafeBytes { hex($0) }
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        digest.withUnsafeBytes { hex($0) }
    }
}

/// The two date forms SigV4 uses, computed without DateFormatter (it is slow and locale-sensitive).
struct AmzDate {
    /// `yyyyMMdd'T'HHmmss'Z'`
    let full: String
    /// `yyyyMMdd`
    let day: String

    init(_ date: Date) {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let (year, month, dayOfMonth, hour, minute, second) = UTCCivil.components(seconds)
        func pad(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
        }
        day = pad(year, 4) + pad(month, 2) + pad(dayOfMonth, 2)
        full = day + "T" + pad(hour, 2) + pad(minute, 2) + pad(second, 2) + "Z"
    }
}

/// Scheme, host header, encoded path and decoded query of an http(s) URL string.
/// Calendar arithmetic in UTC without Foundation's calendars (fast and locale-free): seconds since
/// 1970 to (year, month, day, hour, minute, second), by Howard Hinnant's days-from-civil inverse.
/// Shared with the AWS target's date parsing.
public enum UTCCivil {
    public static func components(_ seconds: Int64) -> (Int64, Int64, Int64, Int64, Int64, Int64) {
        var days = seconds / 86_400
        var rest = seconds % 86_400
        if rest < 0 {
            rest += 86_400
            days -= 1
        }
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        return (y, m, d, rest / 3_600, (rest % 3_600) / 60, rest % 60)
    }
}

struct URLParts {
    let scheme: String
    let hostHeader: String
    let path: String
    let query: [(String, String)]

    init(_ url: String) throws {
        guard let components = URLComponents(string: url),
            let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = components.percentEncodedHost, !host.isEmpty
        else { throw SigV4Error.invalidURL(url) }
        self.scheme = scheme
        let defaultPort = scheme == "https" ? 443 : 80
        if let port = components.port, port != defaultPort {
            hostHeader = "\(host):\(port)"
        } else {
            hostHeader = host
        }
        let encodedPath = components.percentEncodedPath
        path = encodedPath.isEmpty ? "/" : encodedPath
        var pairs: [(String, String)] = []
        if let query = components.percentEncodedQuery, !query.isEmpty {
            for item in query.split(separator: "&", omittingEmptySubsequences: true) {
                let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let rawName = String(parts[0])
                let rawValue = parts.count > 1 ? String(parts[1]) : ""
                guard let name = AWSURIEncoding.decode(rawName), let value = AWSURIEncoding.decode(rawValue) else {
                    throw SigV4Error.invalidURL(url)
                }
                pairs.append((name, value))
            }
        }
        query = pairs
    }
}

/// Caches the derived signing key per day; a signer is reused across many requests.
final class SigningKeyCache: @unchecked Sendable {
    private let lock = NSLock()
    private var day: String?
    private var key: SymmetricKey?

    func get(_ day: String) -> SymmetricKey? {
        lock.lock()
        defer { lock.unlock() }
        return self.day == day ? key : nil
    }

    func set(_ day: String, _ key: SymmetricKey) {
        lock.lock()
        defer { lock.unlock() }
        self.day = day
        self.key = key
    }
}
