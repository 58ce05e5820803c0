import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The task's scale-in protection state as the ECS agent reports it.
public struct TaskProtectionState: Sendable, Equatable {
    public var protectionEnabled: Bool
    public var expirationDate: Date?
    public var taskArn: String?
}

/// What the ECS agent's task-protection endpoint can answer besides success.
public enum TaskProtectionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `ECS_AGENT_URI` is not set (not running as an ECS task).
    case notConfigured
    /// ECS accepted the call but refused the task: `{"failure":{"Arn","Reason","Detail"}}` (HTTP 200), e.g.
    /// `TASK_NOT_VALID` for tasks outside a service.
    case failure(arn: String?, reason: String, detail: String?)
    /// The agent or ECS failed: `{"requestID":..., "error":{"Arn","Code","Message"}}` with a 4xx/5xx status.
    case error(status: Int, code: String, message: String, arn: String?, requestId: String?)
    /// The answer had none of the documented shapes.
    case malformedResponse(status: Int, reason: String)
    case transport(String)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .notConfigured: return "task protection: ECS_AGENT_URI is not set"
        case .failure(let arn, let reason, let detail):
            return "task protection refused for \(arn ?? "task"): \(reason)\(detail.map { " (\($0))" } ?? "")"
        case .error(let status, let code, let message, _, let requestId):
            return "task protection error HTTP \(status): \(code): \(message)\(requestId.map { " [request id \($0)]" } ?? "")"
        case .malformedResponse(let status, let reason): return "task protection: malformed answer (HTTP \(status)): \(reason)"
        case .transport(let reason): return "task protection: \(reason)"
        case .invalidArgument(let reason): return "task protection: \(reason)"
        }
    }
}

/// The ECS agent's task scale-in protection endpoint: `PUT/GET $ECS_AGENT_URI/task-protection/v1/state`.
/// Unsigned (the agent authenticates the task by its URI). The PUT is idempotent, so transient failures
/// (connection errors, 5xx) are retried a few times.
public struct ECSTaskProtectionClient: Sendable {
    public let agentURI: String
    let httpClient: HTTPClient
    let timeout: TimeAmount
    let attempts: Int

    public init(agentURI: String, httpClient: HTTPClient, timeout: TimeAmount = .seconds(10), attempts: Int = 3) {
        var uri = agentURI
        while uri.hasSuffix("/") { uri.removeLast() }
        self.agentURI = uri
        self.httpClient = httpClient
        self.timeout = timeout
        self.attempts = max(1, attempts)
    }

    /// From `ECS_AGENT_URI`.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment, httpClient: HTTPClient
    ) throws -> ECSTaskProtectionClient {
        guard let uri = nonEmpty(environment["ECS_AGENT_URI"]) else { throw TaskProtectionError.notConfigured }
        return ECSTaskProtectionClient(agentURI: uri, httpClient: httpClient)
    }

    /// Turns protection on for `expiresInMinutes` (1–2880; the agent's default is 120) or off.
    @discardableResult
    public func setProtection(enabled: Bool, expiresInMinutes: Int? = nil) async throws -> TaskProtectionState {
        if let minutes = expiresInMinutes, !(1...2_880).contains(minutes) {
            throw TaskProtectionError.invalidArgument("ExpiresInMinutes \(minutes) not in 1...2880")
        }
        var body = "{\"ProtectionEnabled\":\(enabled ? "true" : "false")"
        if let minutes = expiresInMinutes { body += ",\"ExpiresInMinutes\":\(minutes)" }
        body += "}"
        return try await send(method: .PUT, body: body)
    }

    public func getProtection() async throws -> TaskProtectionState {
        try await send(method: .GET, body: nil)
    }

    func send(method: HTTPMethod, body: String?) async throws -> TaskProtectionState {
        var lastError: TaskProtectionError = .transport("no attempt made")
        for attempt in 1...attempts {
            var request = HTTPClientRequest(url: agentURI + "/task-protection/v1/state")
            request.method = method
            if let body {
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(Array(body.utf8))
            }
            do {
                let response = try await httpClient.execute(request, timeout: timeout)
                let bytes = Array(buffer: try await response.body.collect(upTo: 1 << 20))
                let status = Int(response.status.code)
                do {
                    return try Self.decode(status: status, body: bytes)
                } catch let error as TaskProtectionError {
                    lastError = error
                    if case .error(let status, _, _, _, _) = error, status >= 500 {
                        // Agent/ECS trouble: worth another try.
                    } else if case .malformedResponse(let status, _) = error, status >= 500 {
                    } else {
                        throw error
                    }
                }
            } catch let error as TaskProtectionError {
                throw error
            } catch {
                lastError = .transport("\(error)")
            }
            if attempt < attempts { try await Task.sleep(for: .milliseconds(200 * attempt)) }
        }
        throw lastError
    }

    /// Decodes the agent's three documented shapes.
    static func decode(status: Int, body: [UInt8]) throws -> TaskProtectionState {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)), let document = object as? [String: Any] else {
            throw TaskProtectionError.malformedResponse(
                status: status, reason: "not a JSON object: \(String(decoding: body.prefix(120), as: UTF8.self))")
        }
        if let error = document["error"] as? [String: Any] {
            throw TaskProtectionError.error(
                status: status, code: error["Code"] as? String ?? "Unknown", message: error["Message"] as? String ?? "",
                arn: nonEmpty(error["Arn"] as? String), requestId: document["requestID"] as? String)
        }
        if let failure = document["failure"] as? [String: Any] {
            throw TaskProtectionError.failure(
                arn: failure["Arn"] as? String, reason: failure["Reason"] as? String ?? "unknown",
                detail: failure["Detail"] as? String)
        }
        guard (200..<300).contains(status) else {
            throw TaskProtectionError.malformedResponse(status: status, reason: "error status without an error document")
        }
        guard let protection = document["protection"] as? [String: Any],
            let enabled = protection["ProtectionEnabled"] as? Bool
        else {
            throw TaskProtectionError.malformedResponse(status: status, reason: "no protection.ProtectionEnabled")
        }
        var expiration: Date?
        if let text = protection["ExpirationDate"] as? String {
            guard let date = AWSDate.parseISO8601(text) else {
                throw TaskProtectionError.malformedResponse(status: status, reason: "bad ExpirationDate '\(text)'")
            }
            expiration = date
        } else if let seconds = protection["ExpirationDate"] as? Double {
            expiration = Date(timeIntervalSince1970: seconds)
        }
        return TaskProtectionState(protectionEnabled: enabled, expirationDate: expiration, taskArn: protection["TaskArn"] as? String)
    }
}
