import Foundation

/// An error code returned by an AWS service (`NoSuchKey`, `ThrottlingException`, ...).
///
/// Compare with the static members or with a string literal: `error.code == .noSuchKey`.
public struct AWSErrorCode: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }

    // Signing / auth
    public static let signatureDoesNotMatch: Self = "SignatureDoesNotMatch"
    public static let invalidClientTokenId: Self = "InvalidClientTokenId"
    public static let invalidAccessKeyId: Self = "InvalidAccessKeyId"
    public static let expiredToken: Self = "ExpiredToken"
    public static let accessDenied: Self = "AccessDenied"
    public static let accessDeniedException: Self = "AccessDeniedException"
    // S3
    public static let noSuchKey: Self = "NoSuchKey"
    public static let noSuchBucket: Self = "NoSuchBucket"
    public static let noSuchUpload: Self = "NoSuchUpload"
    public static let notFound: Self = "NotFound"
    public static let invalidRange: Self = "InvalidRange"
    public static let bucketAlreadyOwnedByYou: Self = "BucketAlreadyOwnedByYou"
    public static let slowDown: Self = "SlowDown"
    // SQS
    public static let queueDoesNotExist: Self = "QueueDoesNotExist"
    public static let nonExistentQueue: Self = "AWS.SimpleQueueService.NonExistentQueue"
    public static let receiptHandleIsInvalid: Self = "ReceiptHandleIsInvalid"
    // DynamoDB
    public static let conditionalCheckFailed: Self = "ConditionalCheckFailedException"
    public static let resourceNotFound: Self = "ResourceNotFoundException"
    public static let provisionedThroughputExceeded: Self = "ProvisionedThroughputExceededException"
    // Generic
    public static let throttling: Self = "Throttling"
    public static let throttlingException: Self = "ThrottlingException"
    public static let internalError: Self = "InternalError"
    public static let serviceUnavailable: Self = "ServiceUnavailable"
    /// The response carried no recognisable error code (HTML error page, empty body, ...).
    public static let unknown: Self = "Unknown"

    /// Codes the standard retry mode treats as throttling.
    public static let throttlingCodes: Set<AWSErrorCode> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
        "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown",
        "PriorRequestNotComplete", "EC2ThrottledException",
        "AWS.SimpleQueueService.RequestThrottled",
    ]

    /// Codes the standard retry mode treats as transient.
    public static let transientCodes: Set<AWSErrorCode> = [
        "RequestTimeout", "RequestTimeoutException", "InternalError", "InternalFailure", "ServiceUnavailable",
        "InternalServerError",
    ]
}

/// An error answered by an AWS service: which service and operation, the AWS error code and message,
/// the request id and the HTTP status.
public struct AWSError: Error, Sendable, Equatable, CustomStringConvertible {
    public let service: String
    public let operation: String
    public let code: AWSErrorCode
    public let message: String
    public let requestId: String?
    public let statusCode: Int
    /// For JSON services that are also reachable through the query protocol (SQS), the query-protocol
    /// code from `x-amzn-query-error` (e.g. `AWS.SimpleQueueService.NonExistentQueue`).
    public let queryErrorCode: AWSErrorCode?
    /// The start of a body we could not parse (HTML error pages, garbage), for diagnosis.
    public let rawBodyPrefix: String?

    public init(
        service: String, operation: String, code: AWSErrorCode, message: String, requestId: String?, statusCode: Int,
        queryErrorCode: AWSErrorCode? = nil, rawBodyPrefix: String? = nil
    ) {
        self.service = service
        self.operation = operation
        self.code = code
        self.message = message
        self.requestId = requestId
        self.statusCode = statusCode
        self.queryErrorCode = queryErrorCode
        self.rawBodyPrefix = rawBodyPrefix
    }

    public var isThrottling: Bool {
        statusCode == 429 || AWSErrorCode.throttlingCodes.contains(code)
            || (queryErrorCode.map { AWSErrorCode.throttlingCodes.contains($0) } ?? false)
    }

    /// True for SQS's "queue does not exist" in both its JSON and query spellings.
    public var isQueueDoesNotExist: Bool {
        code == .queueDoesNotExist || code == .nonExistentQueue || queryErrorCode == .nonExistentQueue
    }

    public var description: String {
        var text = "\(service) \(operation) failed: \(code.rawValue) (HTTP \(statusCode))"
        if !message.isEmpty { text += ": \(message)" }
        if let requestId { text += " [request id \(requestId)]" }
        if let rawBodyPrefix, !rawBodyPrefix.isEmpty { text += " body: \(rawBodyPrefix)" }
        return text
    }
}

/// Errors raised on our side of the wire: bad responses, transport failures, configuration, input.
public enum AWSClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A success status with a body we could not understand (bad XML/JSON, missing fields, truncated).
    case malformedResponse(service: String, operation: String, reason: String)
    /// The response body exceeded what we are willing to buffer.
    case responseTooLarge(service: String, operation: String, limit: Int)
    /// Connection refused/reset/closed, after all attempts allowed.
    case transport(service: String, operation: String, reason: String, attempts: Int)
    /// The per-attempt deadline passed, after all attempts allowed.
    case timeout(service: String, operation: String, seconds: Double, attempts: Int)
    /// No credential provider could produce credentials; one line per provider tried.
    case noCredentials(tried: [String])
    /// A credential provider was configured but failed.
    case credentialProvider(provider: String, reason: String)
    case invalidConfiguration(String)
    case invalidArgument(String)
    case fileIO(path: String, reason: String)
    /// A body whose checksum does not match what the service said (e.g. SQS MD5OfMessageBody).
    case checksumMismatch(service: String, operation: String, detail: String)
    /// No connection could be made (refused, unreachable, connect timeout), on every attempt: the service
    /// certainly never saw the request.
    case connectionFailed(service: String, operation: String, reason: String, attempts: Int)

    public var description: String {
        switch self {
        case .malformedResponse(let service, let operation, let reason):
            return "\(service) \(operation): malformed response: \(reason)"
        case .responseTooLarge(let service, let operation, let limit):
            return "\(service) \(operation): response larger than \(limit) bytes"
        case .transport(let service, let operation, let reason, let attempts):
            return "\(service) \(operation): transport error after \(attempts) attempt(s): \(reason)"
        case .timeout(let service, let operation, let seconds, let attempts):
            return "\(service) \(operation): timed out (\(seconds)s per attempt, \(attempts) attempt(s))"
        case .noCredentials(let tried):
            return "no AWS credentials found; tried: " + tried.joined(separator: "; ")
        case .credentialProvider(let provider, let reason):
            return "credential provider \(provider) failed: \(reason)"
        case .invalidConfiguration(let reason):
            return "invalid AWS configuration: \(reason)"
        case .invalidArgument(let reason):
            return "invalid argument: \(reason)"
        case .fileIO(let path, let reason):
            return "file error at \(path): \(reason)"
        case .checksumMismatch(let service, let operation, let detail):
            return "\(service) \(operation): checksum mismatch: \(detail)"
        case .connectionFailed(let service, let operation, let reason, let attempts):
            return "\(service) \(operation): could not connect after \(attempts) attempt(s): \(reason)"
        }
    }
}
