import AWSSigner
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Something that produces AWS credentials.
public protocol CredentialProvider: Sendable {
    /// Short name for messages (`environment`, `profile default`, `ecs-container`, `ec2-imds`).
    var name: String { get }
    /// Returns credentials, or throws `CredentialProviderError` (`.notConfigured` lets a chain move on).
    func getCredentials() async throws -> AWSCredentials
}

public struct CredentialProviderError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The provider does not apply here (variables unset, no such profile, not on EC2).
        case notConfigured
        /// The provider applies but failed (bad file, endpoint error, malformed answer).
        case failed
    }
    public let provider: String
    public let kind: Kind
    public let reason: String

    public init(provider: String, kind: Kind, reason: String) {
        self.provider = provider
        self.kind = kind
        self.reason = reason
    }

    public var description: String { "\(provider): \(reason)" }
}

/// Fixed credentials.
public struct StaticCredentialProvider: CredentialProvider {
    public let name = "static"
    public let credentials: AWSCredentials
    public init(_ credentials: AWSCredentials) { self.credentials = credentials }
    public func getCredentials() async throws -> AWSCredentials { credentials }
}

/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_CREDENTIAL_EXPIRATION`.
public struct EnvironmentCredentialProvider: CredentialProvider {
    public let name = "environment"
    let environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    public func getCredentials() async throws -> AWSCredentials {
        let keyId = nonEmpty(environment["AWS_ACCESS_KEY_ID"])
        let secret = nonEmpty(environment["AWS_SECRET_ACCESS_KEY"])
        switch (keyId, secret) {
        case (nil, nil):
            throw CredentialProviderError(
                provider: name, kind: .notConfigured, reason: "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY not set")
        case (.some, nil), (nil, .some):
            throw CredentialProviderError(
                provider: name, kind: .failed,
                reason: "only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set")
        case (.some(let keyId), .some(let secret)):
            var expiration: Date?
            if let text = nonEmpty(environment["AWS_CREDENTIAL_EXPIRATION"]) {
                guard let date = AWSDate.parseISO8601(text) else {
                    throw CredentialProviderError(
                        provider: name, kind: .failed, reason: "AWS_CREDENTIAL_EXPIRATION '\(text)' is not ISO 8601")
                }
                expiration = date
            }
            return AWSCredentials(
                accessKeyId: keyId, secretAccessKey: secret,
                sessionToken: nonEmpty(environment["AWS_SESSION_TOKEN"]) ?? nonEmpty(environment["AWS_SECURITY_TOKEN"]),
                expiration: expiration)
        }
    }
}

/// Static keys of a profile in the shared `credentials`/`config` files (`AWS_PROFILE`, default `default`;
/// `AWS_SHARED_CREDENTIALS_FILE`, `AWS_CONFIG_FILE`). Role assumption, SSO and `credential_process`
/// profiles are reported as unsupported rather than silently skipped.
public struct ProfileCredentialProvider: CredentialProvider {
    public var name: String { "profile \(profileOverride ?? "(from AWS_PROFILE)")" }
    let environment: [String: String]
    let profileOverride: String?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment, profile: String? = nil) {
        self.environment = environment
        self.profileOverride = profile
    }

    public func getCredentials() async throws -> AWSCredentials {
        var environment = self.environment
        if let profileOverride { environment["AWS_PROFILE"] = profileOverride }
        let shared: SharedConfig
        do {
            shared = try SharedConfig.load(environment: environment)
        } catch {
            throw CredentialProviderError(provider: "profile", kind: .failed, reason: "\(error)")
        }
        let label = "profile \(shared.profile)"
        guard shared.profileExists else {
            throw CredentialProviderError(
                provider: label, kind: .notConfigured,
                reason: "no profile '\(shared.profile)' in \(shared.credentialsPath) or \(shared.configPath)")
        }
        let keyId = shared.value("aws_access_key_id")
        let secret = shared.value("aws_secret_access_key")
        if let keyId, let secret {
            return AWSCredentials(
                accessKeyId: keyId, secretAccessKey: secret,
                sessionToken: shared.value("aws_session_token") ?? shared.value("aws_security_token"))
        }
        if keyId != nil || secret != nil {
            throw CredentialProviderError(
                provider: label, kind: .failed, reason: "profile has only one of aws_access_key_id/aws_secret_access_key")
        }
        for unsupported in ["role_arn", "credential_process", "sso_session", "sso_start_url", "web_identity_token_file"]
        where shared.value(unsupported) != nil {
            throw CredentialProviderError(
                provider: label, kind: .failed, reason: "'\(unsupported)' profiles are not supported by this client")
        }
        throw CredentialProviderError(provider: label, kind: .notConfigured, reason: "profile has no static keys")
    }
}

/// The JSON document served by the ECS container credentials endpoint and by IMDS.
struct ContainerCredentialsDocument: Decodable {
    let accessKeyId: String
    let secretAccessKey: String
    let token: String?
    let expiration: String?
    let code: String?
    let message: String?

    enum CodingKeys: String, CodingKey {
        case accessKeyId = "AccessKeyId"
        case secretAccessKey = "SecretAccessKey"
        case token = "Token"
        case expiration = "Expiration"
        case code = "Code"
        case message = "Message"
    }

    func credentials(provider: String) throws -> AWSCredentials {
        if let code, code != "Success" {
            throw CredentialProviderError(provider: provider, kind: .failed, reason: "endpoint answered Code=\(code) \(message ?? "")")
        }
        guard !accessKeyId.isEmpty, !secretAccessKey.isEmpty else {
            throw CredentialProviderError(provider: provider, kind: .failed, reason: "empty AccessKeyId/SecretAccessKey")
        }
        var expirationDate: Date?
        if let expiration {
            guard let date = AWSDate.parseISO8601(expiration) else {
                throw CredentialProviderError(provider: provider, kind: .failed, reason: "bad Expiration '\(expiration)'")
            }
            expirationDate = date
        }
        return AWSCredentials(
            accessKeyId: accessKeyId, secretAccessKey: secretAccessKey, sessionToken: token, expiration: expirationDate)
    }
}

/// The ECS container credentials endpoint: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (on 169.254.170.2) or
/// `AWS_CONTAINER_CREDENTIALS_FULL_URI` (https anywhere; http only to loopback or the ECS/EKS link-local
/// hosts), with `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` / `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
public struct ECSCredentialProvider: CredentialProvider {
    public let name = "ecs-container"
    let environment: [String: String]
    let httpClient: HTTPClient
    let timeout: TimeAmount
    let attempts: Int

    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment, httpClient: HTTPClient,
        timeout: TimeAmount = .seconds(2), attempts: Int = 3
    ) {
        self.environment = environment
        self.httpClient = httpClient
        self.timeout = timeout
        self.attempts = max(1, attempts)
    }

    static let allowedHTTPHosts: Set<String> = ["localhost", "169.254.170.2", "169.254.170.23", "[fd00:ec2::23]", "fd00:ec2::23", "[::1]", "::1"]

    /// The URL to call, or nil when neither variable is set.
    func endpointURL() throws -> String? {
        if let relative = nonEmpty(environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]) {
            guard relative.hasPrefix("/") else {
                throw CredentialProviderError(provider: name, kind: .failed, reason: "relative URI must start with '/'")
            }
            return "http://169.254.170.2" + relative
        }
        guard let full = nonEmpty(environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"]) else { return nil }
        guard let components = URLComponents(string: full), let scheme = components.scheme?.lowercased(),
            let host = components.host?.lowercased(), !host.isEmpty
        else {
            throw CredentialProviderError(provider: name, kind: .failed, reason: "FULL_URI '\(full)' is not a URL")
        }
        switch scheme {
        case "https":
            return full
        case "http":
            if Self.allowedHTTPHosts.contains(host) || host.hasPrefix("127.") { return full }
            throw CredentialProviderError(
                provider: name, kind: .failed,
                reason: "FULL_URI host '\(host)' is not loopback or an ECS/EKS container host; only https is allowed there")
        default:
            throw CredentialProviderError(provider: name, kind: .failed, reason: "FULL_URI scheme '\(scheme)' unsupported")
        }
    }

    func authorizationToken() throws -> String? {
        var token: String?
        if let file = nonEmpty(environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]) {
            do {
                token = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            } catch {
                throw CredentialProviderError(provider: name, kind: .failed, reason: "cannot read token file \(file): \(error)")
            }
        } else {
            token = nonEmpty(environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"])
        }
        if let token, token.contains("\r") || token.contains("\n") {
            throw CredentialProviderError(provider: name, kind: .failed, reason: "authorization token contains a line break")
        }
        return token
    }

    public func getCredentials() async throws -> AWSCredentials {
        guard let url = try endpointURL() else {
            throw CredentialProviderError(
                provider: name, kind: .notConfigured,
                reason: "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/FULL_URI not set")
        }
        let token = try authorizationToken()
        var lastError = "no attempt"
        for attempt in 1...attempts {
            var request = HTTPClientRequest(url: url)
            request.method = .GET
            request.headers.add(name: "Accept", value: "application/json")
            if let token { request.headers.add(name: "Authorization", value: token) }
            do {
                let response = try await httpClient.execute(request, timeout: timeout)
                let body = try await response.body.collect(upTo: 64 * 1024)
                let bytes = Array(buffer: body)
                if response.status == .ok {
                    do {
                        let document = try JSONDecoder().decode(ContainerCredentialsDocument.self, from: Data(bytes))
                        return try document.credentials(provider: name)
                    } catch let error as CredentialProviderError {
                        throw error
                    } catch {
                        throw CredentialProviderError(provider: name, kind: .failed, reason: "malformed credentials JSON: \(error)")
                    }
                }
                lastError = "HTTP \(response.status.code): \(String(decoding: bytes.prefix(200), as: UTF8.self))"
                // 4xx (bad token, wrong path) will not get better.
                if (400..<500).contains(Int(response.status.code)) && response.status != .tooManyRequests { break }
            } catch let error as CredentialProviderError {
                throw error
            } catch {
                lastError = "\(error)"
            }
            if attempt < attempts { try await Task.sleep(for: .milliseconds(100 * attempt)) }
        }
        throw CredentialProviderError(provider: name, kind: .failed, reason: lastError)
    }
}

/// EC2 instance metadata (IMDSv2 only: a session token from `PUT /latest/api/token`, then the role's
/// credentials). `AWS_EC2_METADATA_DISABLED=true` turns it off; `AWS_EC2_METADATA_SERVICE_ENDPOINT`
/// overrides `http://169.254.169.254`.
public struct EC2MetadataCredentialProvider: CredentialProvider {
    public let name = "ec2-imds"
    let environment: [String: String]
    let httpClient: HTTPClient
    let timeout: TimeAmount

    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment, httpClient: HTTPClient,
        timeout: TimeAmount = .seconds(1)
    ) {
        self.environment = environment
        self.httpClient = httpClient
        self.timeout = timeout
    }

    var endpoint: String {
        var base = nonEmpty(environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"]) ?? "http://169.254.169.254"
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }

    public func getCredentials() async throws -> AWSCredentials {
        if environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() == "true" {
            throw CredentialProviderError(provider: name, kind: .notConfigured, reason: "AWS_EC2_METADATA_DISABLED=true")
        }
        // 1. Session token.
        var tokenRequest = HTTPClientRequest(url: endpoint + "/latest/api/token")
        tokenRequest.method = .PUT
        tokenRequest.headers.add(name: "x-aws-ec2-metadata-token-ttl-seconds", value: "21600")
        let token: String
        do {
            let (status, body) = try await fetch(tokenRequest)
            guard status == 200 else {
                throw CredentialProviderError(provider: name, kind: .failed, reason: "token request answered HTTP \(status)")
            }
            token = String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty, !token.contains("\n") else {
                throw CredentialProviderError(provider: name, kind: .failed, reason: "empty or malformed session token")
            }
        } catch let error as CredentialProviderError {
            throw error
        } catch {
            // Nothing listening: we are not on EC2.
            throw CredentialProviderError(provider: name, kind: .notConfigured, reason: "IMDS unreachable: \(error)")
        }
        // 2. Role name.
        let rolePath = "/latest/meta-data/iam/security-credentials/"
        var roleRequest = HTTPClientRequest(url: endpoint + rolePath)
        roleRequest.headers.add(name: "x-aws-ec2-metadata-token", value: token)
        let (roleStatus, roleBody) = try await fetchOrFail(roleRequest)
        if roleStatus == 404 {
            throw CredentialProviderError(provider: name, kind: .notConfigured, reason: "no instance profile attached")
        }
        guard roleStatus == 200,
            let role = String(decoding: roleBody, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init),
            !role.isEmpty, !role.contains("/")
        else {
            throw CredentialProviderError(provider: name, kind: .failed, reason: "role listing answered HTTP \(roleStatus)")
        }
        // 3. Credentials.
        var credentialsRequest = HTTPClientRequest(url: endpoint + rolePath + AWSURIEncoding.encode(role))
        credentialsRequest.headers.add(name: "x-aws-ec2-metadata-token", value: token)
        let (status, body) = try await fetchOrFail(credentialsRequest)
        guard status == 200 else {
            throw CredentialProviderError(provider: name, kind: .failed, reason: "credentials answered HTTP \(status)")
        }
        do {
            return try JSONDecoder().decode(ContainerCredentialsDocument.self, from: Data(body)).credentials(provider: name)
        } catch let error as CredentialProviderError {
            throw error
        } catch {
            throw CredentialProviderError(provider: name, kind: .failed, reason: "malformed credentials JSON: \(error)")
        }
    }

    private func fetch(_ request: HTTPClientRequest) async throws -> (Int, [UInt8]) {
        let response = try await httpClient.execute(request, timeout: timeout)
        let body = try await response.body.collect(upTo: 64 * 1024)
        return (Int(response.status.code), Array(buffer: body))
    }

    private func fetchOrFail(_ request: HTTPClientRequest) async throws -> (Int, [UInt8]) {
        do {
            return try await fetch(request)
        } catch {
            throw CredentialProviderError(provider: name, kind: .failed, reason: "\(error)")
        }
    }
}

/// Tries providers in order and sticks with the first that works (until it fails).
public actor CredentialProviderChain: CredentialProvider {
    public nonisolated let name: String
    let providers: [any CredentialProvider]
    var chosen: Int?
    let logger: Logger

    public init(_ providers: [any CredentialProvider], logger: Logger = Logger(label: "refvision.aws.credentials")) {
        self.providers = providers
        self.name = "chain(" + providers.map(\.name).joined(separator: ", ") + ")"
        self.logger = logger
    }

    /// The SDK default order: environment, shared profile, ECS container endpoint, EC2 IMDSv2.
    public static func `default`(
        environment: [String: String] = ProcessInfo.processInfo.environment, httpClient: HTTPClient,
        logger: Logger = Logger(label: "refvision.aws.credentials")
    ) -> CredentialProviderChain {
        CredentialProviderChain(
            [
                EnvironmentCredentialProvider(environment: environment),
                ProfileCredentialProvider(environment: environment),
                ECSCredentialProvider(environment: environment, httpClient: httpClient),
                EC2MetadataCredentialProvider(environment: environment, httpClient: httpClient),
            ], logger: logger)
    }

    /// Which provider answered last (for `refvision doctor`).
    public var chosenProviderName: String? { chosen.map { providers[$0].name } }

    public func getCredentials() async throws -> AWSCredentials {
        if let chosen {
            do {
                return try await providers[chosen].getCredentials()
            } catch {
                logger.warning("credential provider \(providers[chosen].name) stopped working: \(error); trying the chain again")
                self.chosen = nil
            }
        }
        var tried: [String] = []
        for (index, provider) in providers.enumerated() {
            do {
                let credentials = try await provider.getCredentials()
                chosen = index
                logger.debug("using credentials from \(provider.name)")
                return credentials
            } catch let error as CredentialProviderError {
                tried.append(error.description)
                if error.kind == .failed {
                    logger.warning("credential provider \(error.description)")
                }
            } catch {
                tried.append("\(provider.name): \(error)")
            }
        }
        throw AWSClientError.noCredentials(tried: tried)
    }
}

/// Caches credentials and refreshes them `refreshMargin` before they expire; one refresh at a time.
/// When a refresh fails while the cached credentials are still valid, keeps using them (with a warning).
public actor RefreshingCredentialProvider: CredentialProvider {
    public nonisolated let name: String
    let base: any CredentialProvider
    let refreshMargin: TimeInterval
    let clock: @Sendable () -> Date
    let logger: Logger
    var cached: AWSCredentials?
    var inFlight: Task<AWSCredentials, any Error>?
    /// How many times the base provider was asked (tests and diagnostics).
    public private(set) var fetchCount = 0

    public init(
        _ base: any CredentialProvider, refreshMargin: TimeInterval = 300,
        clock: @escaping @Sendable () -> Date = { Date() },
        logger: Logger = Logger(label: "refvision.aws.credentials")
    ) {
        self.base = base
        self.name = base.name
        self.refreshMargin = refreshMargin
        self.clock = clock
        self.logger = logger
    }

    public func getCredentials() async throws -> AWSCredentials {
        let now = clock()
        if let cached, !cached.isExpiring(within: refreshMargin, now: now) { return cached }
        if let inFlight { return try await inFlight.value }
        let base = self.base
        let task = Task { try await base.getCredentials() }
        inFlight = task
        defer { inFlight = nil }
        do {
            let fresh = try await task.value
            fetchCount += 1
            cached = fresh
            return fresh
        } catch {
            fetchCount += 1
            if let cached, !cached.isExpiring(within: 0, now: clock()) {
                logger.warning("credential refresh failed, using credentials valid until \(cached.expiration.map { "\($0)" } ?? "?"): \(error)")
                return cached
            }
            throw error
        }
    }

    /// Where the credentials come from: the chain's chosen provider, or the wrapped provider's name.
    public var sourceName: String? {
        get async {
            if let chain = base as? CredentialProviderChain { return await chain.chosenProviderName }
            return base.name
        }
    }

    /// Forget the cached credentials (e.g. after an ExpiredToken answer).
    public func invalidate() { cached = nil }
}
