import Foundation
import NIOCore

/// The services this layer speaks.
public enum AWSService: String, Sendable, CaseIterable, Hashable {
    case s3
    case sqs
    case sns
    case dynamodb
    case cloudwatch
    case ecs

    /// The SigV4 signing name.
    public var signingName: String {
        switch self {
        case .cloudwatch: return "monitoring"
        default: return rawValue
        }
    }

    /// The host prefix of the regional endpoint.
    var endpointPrefix: String {
        switch self {
        case .cloudwatch: return "monitoring"
        default: return rawValue
        }
    }

    /// The suffix of the service-specific endpoint variable, `AWS_ENDPOINT_URL_<SUFFIX>` (SDK convention:
    /// the service id upper-cased).
    public var environmentSuffix: String { rawValue.uppercased() }

    /// Human name for messages.
    public var displayName: String {
        switch self {
        case .s3: return "S3"
        case .sqs: return "SQS"
        case .sns: return "SNS"
        case .dynamodb: return "DynamoDB"
        case .cloudwatch: return "CloudWatch"
        case .ecs: return "ECS"
        }
    }
}

/// An endpoint split into what the HTTP layer and the signer need.
public struct AWSEndpoint: Sendable, Equatable, CustomStringConvertible {
    public var scheme: String
    public var host: String
    public var port: Int?
    /// A path prefix from the override URL (usually empty), without a trailing slash.
    public var basePath: String

    public init(scheme: String, host: String, port: Int? = nil, basePath: String = "") {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.basePath = basePath
    }

    /// Parses `http(s)://host[:port][/path]`.
    public init(url: String) throws {
        guard let components = URLComponents(string: url.trimmingCharacters(in: .whitespaces)),
            let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = components.percentEncodedHost, !host.isEmpty
        else {
            throw AWSClientError.invalidConfiguration("endpoint '\(url)' is not an http(s) URL with a host")
        }
        if components.query != nil || components.fragment != nil {
            throw AWSClientError.invalidConfiguration("endpoint '\(url)' must not carry a query or fragment")
        }
        self.scheme = scheme
        self.host = host
        self.port = components.port
        var path = components.percentEncodedPath
        while path.hasSuffix("/") { path.removeLast() }
        self.basePath = path
    }

    /// `host[:port]` as the Host header carries it (default ports omitted).
    public var hostHeader: String {
        let defaultPort = scheme == "https" ? 443 : 80
        if let port, port != defaultPort { return "\(host):\(port)" }
        return host
    }

    public var description: String { "\(scheme)://\(hostHeader)\(basePath)" }
}

/// Retry settings, the AWS "standard" mode.
public struct AWSRetryPolicy: Sendable, Equatable {
    /// Attempts in total (1 = no retries). `AWS_MAX_ATTEMPTS`, default 3.
    public var maxAttempts: Int
    /// Backoff base for transient errors; the n-th retry sleeps a random time in [0, min(cap, base·2ⁿ⁻¹)).
    public var baseDelay: TimeAmount
    /// Backoff base for throttling errors.
    public var throttlingBaseDelay: TimeAmount
    /// Backoff cap (20 s in the standard mode).
    public var maxBackoff: TimeAmount
    /// Whether the retry quota (token bucket of 500, 5 per retry, 10 per timeout) applies.
    public var useRetryQuota: Bool

    public init(
        maxAttempts: Int = 3, baseDelay: TimeAmount = .milliseconds(100),
        throttlingBaseDelay: TimeAmount = .milliseconds(500), maxBackoff: TimeAmount = .seconds(20),
        useRetryQuota: Bool = true
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.throttlingBaseDelay = throttlingBaseDelay
        self.maxBackoff = maxBackoff
        self.useRetryQuota = useRetryQuota
    }

    public static let standard = AWSRetryPolicy()
}

/// Timeouts for the HTTP layer.
public struct AWSTimeouts: Sendable, Equatable {
    /// TCP (and TLS) connect.
    public var connect: TimeAmount
    /// Idle time between reads of one response (also bounds stalled transfers).
    public var read: TimeAmount
    /// Whole-attempt deadline for API calls (not transfers).
    public var request: TimeAmount
    /// Whole-attempt deadline for S3 object transfers.
    public var transfer: TimeAmount

    public init(
        connect: TimeAmount = .seconds(5), read: TimeAmount = .seconds(60), request: TimeAmount = .seconds(30),
        transfer: TimeAmount = .minutes(30)
    ) {
        self.connect = connect
        self.read = read
        self.request = request
        self.transfer = transfer
    }
}

/// Region, endpoints and retry settings, read from the environment and the shared config files.
public struct AWSConfiguration: Sendable {
    public var region: String
    /// Per-service endpoint overrides (`AWS_ENDPOINT_URL_<SERVICE>`).
    public var serviceEndpoints: [AWSService: AWSEndpoint]
    /// The global endpoint override (`AWS_ENDPOINT_URL`, or `endpoint_url` in the profile).
    public var globalEndpoint: AWSEndpoint?
    /// Path-style S3 addressing (`https://host/bucket/key`). Always on when an S3 endpoint is overridden.
    public var s3ForcePathStyle: Bool
    public var retry: AWSRetryPolicy
    public var timeouts: AWSTimeouts

    public init(
        region: String, serviceEndpoints: [AWSService: AWSEndpoint] = [:], globalEndpoint: AWSEndpoint? = nil,
        s3ForcePathStyle: Bool = false, retry: AWSRetryPolicy = .standard, timeouts: AWSTimeouts = AWSTimeouts()
    ) {
        self.region = region
        self.serviceEndpoints = serviceEndpoints
        self.globalEndpoint = globalEndpoint
        self.s3ForcePathStyle = s3ForcePathStyle
        self.retry = retry
        self.timeouts = timeouts
    }

    /// A configuration pointing every service at one endpoint (moto, LocalStack).
    public static func local(endpoint: String, region: String = "us-east-1") throws -> AWSConfiguration {
        AWSConfiguration(region: region, globalEndpoint: try AWSEndpoint(url: endpoint), s3ForcePathStyle: true)
    }

    /// Reads, in SDK order:
    /// - region: `AWS_REGION`, `AWS_DEFAULT_REGION`, `region` of the profile (`AWS_PROFILE`, default `default`);
    /// - endpoints: `AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL`, then `endpoint_url` of the profile,
    ///   all ignored when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`;
    /// - `AWS_MAX_ATTEMPTS` / profile `max_attempts`; `AWS_S3_FORCE_PATH_STYLE=true` (path-style S3 also
    ///   whenever the S3 endpoint is overridden).
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> AWSConfiguration {
        let shared = try SharedConfig.load(environment: environment)
        guard
            let region = nonEmpty(environment["AWS_REGION"]) ?? nonEmpty(environment["AWS_DEFAULT_REGION"])
                ?? shared.value("region")
        else {
            throw AWSClientError.invalidConfiguration(
                "no region: set AWS_REGION (or AWS_DEFAULT_REGION, or 'region' in profile '\(shared.profile)')")
        }
        guard Self.isValidRegion(region) else {
            throw AWSClientError.invalidConfiguration("region '\(region)' is not a valid region name")
        }

        var serviceEndpoints: [AWSService: AWSEndpoint] = [:]
        var global: AWSEndpoint?
        let ignore = environment["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"]?.lowercased() == "true"
        if !ignore {
            for service in AWSService.allCases {
                if let url = nonEmpty(environment["AWS_ENDPOINT_URL_\(service.environmentSuffix)"]) {
                    serviceEndpoints[service] = try AWSEndpoint(url: url)
                }
            }
            if let url = nonEmpty(environment["AWS_ENDPOINT_URL"]) ?? shared.value("endpoint_url") {
                global = try AWSEndpoint(url: url)
            }
        }

        var retry = AWSRetryPolicy.standard
        if let text = nonEmpty(environment["AWS_MAX_ATTEMPTS"]) ?? shared.value("max_attempts") {
            guard let attempts = Int(text), attempts >= 1, attempts <= 20 else {
                throw AWSClientError.invalidConfiguration("AWS_MAX_ATTEMPTS '\(text)' must be an integer in 1...20")
            }
            retry.maxAttempts = attempts
        }
        if let mode = nonEmpty(environment["AWS_RETRY_MODE"]) ?? shared.value("retry_mode"),
            !["standard", "legacy", "adaptive"].contains(mode)
        {
            throw AWSClientError.invalidConfiguration("AWS_RETRY_MODE '\(mode)' is not standard/legacy/adaptive")
        }
        let forcePathStyle =
            environment["AWS_S3_FORCE_PATH_STYLE"]?.lowercased() == "true"
            || shared.value("s3.addressing_style") == "path"
        return AWSConfiguration(
            region: region, serviceEndpoints: serviceEndpoints, globalEndpoint: global,
            s3ForcePathStyle: forcePathStyle, retry: retry)
    }

    /// The endpoint for a service and whether it was overridden.
    public func endpoint(for service: AWSService) -> (endpoint: AWSEndpoint, overridden: Bool) {
        if let endpoint = serviceEndpoints[service] ?? globalEndpoint { return (endpoint, true) }
        let suffix = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
        return (AWSEndpoint(scheme: "https", host: "\(service.endpointPrefix).\(region).\(suffix)"), false)
    }

    /// Whether S3 requests use path-style addressing.
    public var s3UsesPathStyle: Bool { s3ForcePathStyle || endpoint(for: .s3).overridden }

    static func isValidRegion(_ region: String) -> Bool {
        !region.isEmpty && region.count <= 64
            && region.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }
}
