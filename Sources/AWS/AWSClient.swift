import AWSSigner
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// A request body.
enum AWSRequestBody: Sendable {
    case empty
    case bytes([UInt8])
    /// A range of a file, streamed and sent with `UNSIGNED-PAYLOAD` (S3 only).
    case file(path: String, offset: Int64, length: Int64)
}

/// One HTTP call to a service, before signing.
struct AWSHTTPRequest: Sendable {
    var method: HTTPMethod
    var endpoint: AWSEndpoint
    /// Percent-encoded path (strict AWS encoding) starting with `/`, without the endpoint's base path.
    var path: String
    var query: [(String, String)]
    var headers: [(String, String)]
    var body: AWSRequestBody

    init(
        method: HTTPMethod, endpoint: AWSEndpoint, path: String = "/", query: [(String, String)] = [],
        headers: [(String, String)] = [], body: AWSRequestBody = .empty
    ) {
        self.method = method
        self.endpoint = endpoint
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }
}

/// What the retry logic needs to know about an operation.
struct AWSOperationContext: Sendable {
    var service: AWSService
    var operation: String
    /// Safe to repeat after an ambiguous failure (the request may have been processed).
    var idempotent: Bool
    /// Whole-attempt deadline.
    var timeout: TimeAmount
    /// Largest success body buffered.
    var maxResponseBytes: Int = 16 << 20
}

/// A buffered response.
struct AWSHTTPResponse: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]
}

/// The shared core: configuration, credentials, one HTTP client, signing, retries and error decoding.
/// Make one per process, hand it to the service clients, and `shutdown()` it at the end.
public final class AWSClient: Sendable {
    public let configuration: AWSConfiguration
    public let credentialProvider: any CredentialProvider
    public let httpClient: HTTPClient
    public let logger: Logger
    private let ownsHTTPClient: Bool
    let retryQuota: RetryQuota
    /// Every HTTP request sent (retries included), by `Service.Operation`: what a job costs in requests.
    public let requests = AWSRequestCounter()
    private let signerCache = SignerCache()
    private let state = ShutdownState()

    /// - Parameters:
    ///   - credentialProvider: defaults to the SDK chain (environment, profile, ECS, IMDSv2), cached and
    ///     refreshed 5 minutes before expiry.
    ///   - httpClient: pass one to share it; otherwise the client makes (and later shuts down) its own.
    public init(
        configuration: AWSConfiguration,
        credentialProvider: (any CredentialProvider)? = nil,
        httpClient: HTTPClient? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        logger: Logger = Logger(label: "refvision.aws")
    ) {
        self.configuration = configuration
        self.logger = logger
        if let httpClient {
            self.httpClient = httpClient
            self.ownsHTTPClient = false
        } else {
            self.httpClient = Self.makeHTTPClient(timeouts: configuration.timeouts)
            self.ownsHTTPClient = true
        }
        self.credentialProvider =
            credentialProvider
            ?? RefreshingCredentialProvider(
                CredentialProviderChain.default(environment: environment, httpClient: self.httpClient, logger: logger),
                logger: logger)
        self.retryQuota = RetryQuota()
    }

    /// Region, endpoints and credentials from the environment (see `AWSConfiguration.fromEnvironment`).
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment,
        logger: Logger = Logger(label: "refvision.aws")
    ) throws -> AWSClient {
        AWSClient(configuration: try .fromEnvironment(environment), environment: environment, logger: logger)
    }

    /// An HTTP client as this layer wants it: no redirects (S3 redirects carry errors), no decompression
    /// (ranges are byte-exact), no connection-establishment retries inside the pool (our retry policy
    /// decides), connect/read timeouts, nothing cached on disk.
    public static func makeHTTPClient(timeouts: AWSTimeouts = AWSTimeouts()) -> HTTPClient {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: timeouts.connect, read: timeouts.read),
            decompression: .disabled)
        configuration.connectionPool.idleTimeout = .seconds(30)
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 16
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.httpVersion = .automatic
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Shuts down the HTTP client if this client created it. Call once, before the process ends.
    public func shutdown() async throws {
        guard state.markShutDown() else { return }
        if ownsHTTPClient { try await httpClient.shutdown() }
    }

    // MARK: - Executing

    /// Sends a request with retries and returns the buffered success response; error responses become
    /// `AWSError`, exhausted transport failures `AWSClientError`.
    func execute(_ request: AWSHTTPRequest, context: AWSOperationContext) async throws -> AWSHTTPResponse {
        try await executeStreaming(request, context: context) { response in
            let body: ByteBuffer
            do {
                body = try await response.body.collect(upTo: context.maxResponseBytes)
            } catch is NIOTooManyBytesError {
                throw AWSClientError.responseTooLarge(
                    service: context.service.displayName, operation: context.operation, limit: context.maxResponseBytes)
            }
            return AWSHTTPResponse(status: Int(response.status.code), headers: response.headers, body: Array(buffer: body))
        }
    }

    /// Sends a request with retries and hands a success response (status 2xx) to `handle`, which reads the
    /// body. Transport errors thrown while `handle` reads are retried like any other (the handler must
    /// cope with starting over, e.g. truncate its output file).
    func executeStreaming<Result: Sendable>(
        _ request: AWSHTTPRequest, context: AWSOperationContext,
        handle: @Sendable (HTTPClientResponse) async throws -> Result
    ) async throws -> Result {
        try state.checkRunning()
        let serviceName = context.service.displayName
        var fileReader: FileReader?
        if case .file(let path, let offset, let length) = request.body {
            let reader = try FileReader(path: path)
            guard offset >= 0, length >= 0, offset + length <= reader.size else {
                reader.close()
                throw AWSClientError.invalidArgument(
                    "file range \(offset)+\(length) outside \(path) (\(reader.size) bytes)")
            }
            fileReader = reader
        }
        defer { fileReader?.close() }

        let policy = configuration.retry
        var attempt = 0
        var retriedCost = 0
        var refreshedCredentials = false
        while true {
            attempt += 1
            let credentials = try await credentialProvider.getCredentials()
            let httpRequest = try signedRequest(request, credentials: credentials, service: context.service, reader: fileReader)
            let failure: RetryableFailure
            do {
                requests.record(context.service, context.operation)
                let response = try await httpClient.execute(httpRequest, deadline: .now() + context.timeout, logger: logger)
                let status = Int(response.status.code)
                if (200..<300).contains(status) {
                    do {
                        let result = try await handle(response)
                        retryQuota.recordSuccess(retriedCost: retriedCost)
                        return result
                    } catch let error as AWSClientError {
                        throw error
                    } catch let error as AWSError {
                        throw error
                    } catch {
                        failure = .transport(TransportFailure(error))
                    }
                } else {
                    var body: [UInt8] = []
                    do {
                        body = Array(buffer: try await response.body.collect(upTo: 1 << 20))
                    } catch {
                        // Truncated or oversized error body: decode what we have (nothing).
                    }
                    let error = AWSErrorDecoder.decode(
                        service: serviceName, operation: context.operation, status: status, headers: response.headers,
                        body: body)
                    failure = .response(error)
                }
            } catch let error as AWSClientError {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                failure = .transport(TransportFailure(error))
            }

            // Expired temporary credentials: refresh once and try again.
            if case .response(let error) = failure, !refreshedCredentials,
                ["ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"].contains(error.code.rawValue),
                let refreshing = credentialProvider as? RefreshingCredentialProvider
            {
                refreshedCredentials = true
                await refreshing.invalidate()
                attempt -= 1
                continue
            }

            let decision = failure.decision(idempotent: context.idempotent)
            let canRetry =
                decision.retry && attempt < policy.maxAttempts
                && (!policy.useRetryQuota || retryQuota.acquire(decision.cost))
            if !canRetry {
                throw failure.finalError(service: serviceName, operation: context.operation, attempts: attempt, timeout: context.timeout)
            }
            retriedCost += policy.useRetryQuota ? decision.cost : 0
            let base = decision.throttling ? policy.throttlingBaseDelay : policy.baseDelay
            let delay = Self.backoff(attempt: attempt, base: base, cap: policy.maxBackoff)
            logger.debug(
                "retrying \(serviceName) \(context.operation) after \(failure) (attempt \(attempt) of \(policy.maxAttempts), sleeping \(delay.nanoseconds / 1_000_000) ms)"
            )
            try await Task.sleep(nanoseconds: UInt64(max(0, delay.nanoseconds)))
        }
    }

    /// Full jitter: a random delay in [0, min(cap, base · 2^(attempt-1))).
    static func backoff(attempt: Int, base: TimeAmount, cap: TimeAmount) -> TimeAmount {
        let exponent = min(attempt - 1, 30)
        let ceiling = min(Double(cap.nanoseconds), Double(base.nanoseconds) * pow(2, Double(exponent)))
        return .nanoseconds(Int64(Double.random(in: 0..<1) * ceiling))
    }

    func signedRequest(
        _ request: AWSHTTPRequest, credentials: AWSCredentials, service: AWSService, reader: FileReader?
    ) throws -> HTTPClientRequest {
        let signer = signerCache.signer(credentials: credentials, region: configuration.region, service: service.signingName)
        let path = request.endpoint.basePath + request.path
        let payload: SigV4Signer.Payload
        switch request.body {
        case .empty: payload = .empty
        case .bytes(let bytes): payload = bytes.isEmpty ? .empty : .bytes(bytes)
        case .file: payload = .unsigned
        }
        let signed = signer.signHeaders(
            method: request.method.rawValue, host: request.endpoint.hostHeader, path: path, query: request.query,
            headers: request.headers, payload: payload)
        var url = "\(request.endpoint.scheme)://\(request.endpoint.hostHeader)\(path)"
        if !request.query.isEmpty { url += "?" + SigV4Signer.canonicalQuery(request.query) }
        var httpRequest = HTTPClientRequest(url: url)
        httpRequest.method = request.method
        for (name, value) in signed { httpRequest.headers.add(name: name, value: value) }
        httpRequest.headers.replaceOrAdd(name: "User-Agent", value: "refvision-aws/1.0")
        switch request.body {
        case .empty:
            if request.method == .PUT || request.method == .POST {
                httpRequest.headers.replaceOrAdd(name: "Content-Length", value: "0")
            }
        case .bytes(let bytes):
            httpRequest.body = .bytes(bytes)
        case .file(_, let offset, let length):
            guard let reader else { throw AWSClientError.invalidArgument("file body without an open file") }
            httpRequest.body = .stream(
                FileChunks(reader: reader, offset: offset, length: length, chunkSize: 256 * 1024), length: .known(length))
        }
        return httpRequest
    }

    // MARK: - Protocol helpers

    /// AWS JSON 1.0/1.1 call (`POST /`, `X-Amz-Target`); returns the response body.
    func jsonCall(
        service: AWSService, target: String, operation: String, body: [UInt8], idempotent: Bool,
        jsonVersion: String = "1.0", timeout: TimeAmount? = nil
    ) async throws -> [UInt8] {
        let (endpoint, _) = configuration.endpoint(for: service)
        let request = AWSHTTPRequest(
            method: .POST, endpoint: endpoint,
            headers: [("Content-Type", "application/x-amz-json-\(jsonVersion)"), ("X-Amz-Target", target)],
            body: .bytes(body))
        let context = AWSOperationContext(
            service: service, operation: operation, idempotent: idempotent,
            timeout: timeout ?? configuration.timeouts.request)
        return try await execute(request, context: context).body
    }

    /// AWS query protocol call (`POST /`, form body); returns the parsed XML root.
    func queryCall(
        service: AWSService, action: String, version: String, parameters: [(String, String)], idempotent: Bool
    ) async throws -> AWSXMLNode {
        let (endpoint, _) = configuration.endpoint(for: service)
        let form = AWSURIEncoding.formEncode([("Action", action), ("Version", version)] + parameters)
        let request = AWSHTTPRequest(
            method: .POST, endpoint: endpoint,
            headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
            body: .bytes(Array(form.utf8)))
        let context = AWSOperationContext(
            service: service, operation: action, idempotent: idempotent, timeout: configuration.timeouts.request)
        let response = try await execute(request, context: context)
        do {
            return try AWSXML.parse(response.body)
        } catch {
            throw AWSClientError.malformedResponse(service: service.displayName, operation: action, reason: "\(error)")
        }
    }
}

/// Counts requests by `Service.Operation` (thread-safe).
public final class AWSRequestCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [String: Int] = [:]

    public init() {}

    func record(_ service: AWSService, _ operation: String) {
        lock.lock()
        counts["\(service.displayName).\(operation)", default: 0] += 1
        lock.unlock()
    }

    /// The counts so far.
    public func snapshot() -> [String: Int] {
        lock.lock()
        defer { lock.unlock() }
        return counts
    }

    /// The total so far.
    public var total: Int { snapshot().values.reduce(0, +) }

    public func reset() {
        lock.lock()
        counts.removeAll()
        lock.unlock()
    }
}

/// Runs `body` with a client and always shuts it down, even when `body` throws.
@discardableResult
public func withAWSClient<Result: Sendable>(
    _ client: AWSClient, _ body: (AWSClient) async throws -> Result
) async throws -> Result {
    do {
        let result = try await body(client)
        try await client.shutdown()
        return result
    } catch {
        try? await client.shutdown()
        throw error
    }
}

// MARK: - Retry machinery

/// A failed attempt.
enum RetryableFailure: CustomStringConvertible {
    case response(AWSError)
    case transport(TransportFailure)

    struct Decision {
        var retry: Bool
        var throttling: Bool
        var cost: Int
    }

    /// The standard mode, with one rule of ours: a call that is not idempotent is only repeated when
    /// the service certainly did not act on it (throttled, or the connection was never made).
    func decision(idempotent: Bool) -> Decision {
        switch self {
        case .response(let error):
            if error.isThrottling { return Decision(retry: true, throttling: true, cost: 5) }
            let transient =
                [500, 502, 503, 504].contains(error.statusCode) || AWSErrorCode.transientCodes.contains(error.code)
            return Decision(retry: transient && idempotent, throttling: false, cost: 5)
        case .transport(let failure):
            switch failure.kind {
            case .notSent: return Decision(retry: true, throttling: false, cost: 5)
            case .ambiguous: return Decision(retry: idempotent, throttling: false, cost: 5)
            case .timeout: return Decision(retry: idempotent, throttling: false, cost: 10)
            case .fatal: return Decision(retry: false, throttling: false, cost: 0)
            }
        }
    }

    func finalError(service: String, operation: String, attempts: Int, timeout: TimeAmount) -> any Error {
        switch self {
        case .response(let error):
            return error
        case .transport(let failure):
            if failure.kind == .timeout {
                return AWSClientError.timeout(
                    service: service, operation: operation, seconds: Double(timeout.nanoseconds) / 1e9, attempts: attempts)
            }
            if failure.kind == .notSent {
                return AWSClientError.connectionFailed(service: service, operation: operation, reason: failure.reason, attempts: attempts)
            }
            return AWSClientError.transport(service: service, operation: operation, reason: failure.reason, attempts: attempts)
        }
    }

    var description: String {
        switch self {
        case .response(let error): return "\(error.code.rawValue) (HTTP \(error.statusCode))"
        case .transport(let failure): return failure.reason
        }
    }
}

/// A transport error, classified by whether the request could have reached the service.
struct TransportFailure {
    enum Kind { case notSent, ambiguous, timeout, fatal }
    let kind: Kind
    let reason: String

    init(_ error: any Error) {
        reason = String(describing: error)
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout, .socksHandshakeTimeout, .tlsHandshakeTimeout, .httpProxyHandshakeTimeout,
                .getConnectionFromPoolTimeout:
                kind = .notSent
            case .readTimeout, .writeTimeout, .deadlineExceeded:
                kind = .timeout
            case .cancelled, .alreadyShutdown, .invalidURL, .emptyHost, .emptyScheme:
                kind = .fatal
            default:
                kind = .ambiguous
            }
            return
        }
        if error is NIOConnectionError {
            kind = .notSent
            return
        }
        if let error = error as? IOError {
            kind = [ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, EADDRNOTAVAIL].contains(error.errnoCode) ? .notSent : .ambiguous
            return
        }
        if let error = error as? ChannelError {
            switch error {
            case .connectTimeout: kind = .notSent
            default: kind = .ambiguous
            }
            return
        }
        // HTTP parser errors (garbage on the wire), NIO errors we don't know: the request may have gone out.
        kind = .ambiguous
    }
}

/// The standard mode's retry quota: 500 tokens; a retry costs 5 (10 after a timeout); a success returns
/// what its retries cost, or 1 token when it needed none.
final class RetryQuota: @unchecked Sendable {
    static let capacity = 500
    private let lock = NSLock()
    private var tokens = RetryQuota.capacity

    func acquire(_ cost: Int) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard tokens >= cost else { return false }
        tokens -= cost
        return true
    }

    func recordSuccess(retriedCost: Int) {
        lock.lock()
        defer { lock.unlock() }
        tokens = min(Self.capacity, tokens + (retriedCost > 0 ? retriedCost : 1))
    }

    var available: Int {
        lock.lock()
        defer { lock.unlock() }
        return tokens
    }
}

/// Reuses a signer (and its cached signing key) while the credentials stay the same.
final class SignerCache: @unchecked Sendable {
    private let lock = NSLock()
    private var signers: [String: SigV4Signer] = [:]

    func signer(credentials: AWSCredentials, region: String, service: String) -> SigV4Signer {
        lock.lock()
        defer { lock.unlock() }
        if let signer = signers[service], signer.credentials == credentials, signer.region == region { return signer }
        let signer = SigV4Signer(credentials: credentials, region: region, service: service)
        signers[service] = signer
        return signer
    }
}

final class ShutdownState: @unchecked Sendable {
    private let lock = NSLock()
    private var shutDown = false

    /// Returns true the first time.
    func markShutDown() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if shutDown { return false }
        shutDown = true
        return true
    }

    func checkRunning() throws {
        lock.lock()
        defer { lock.unlock() }
        if shutDown { throw AWSClientError.invalidConfiguration("AWSClient used after shutdown()") }
    }
}
