import AWS
import ArgumentParser
import Embedded
import Fleet
import FleetAWS
import Foundation
import Logging
import Notifier
import ReplayLinks
import ReplayServer
import ServiceSupport

// Wiring of the notifier, the coach list and the replay service on either backend (docs/notifications.md).

extension FleetPorts {
    /// The coach list: SNS subscriptions of `REFVISION_COACHES_TOPIC_ARN`, or the embedded table.
    func coachDirectory() throws -> any CoachDirectory {
        switch backend {
        case .embedded(_, let state):
            return state.coaches
        case .aws(let client):
            return SNSCoachDirectory(sns: SNSClient(client: client), topicArn: try requiredEnvironment("REFVISION_COACHES_TOPIC_ARN"))
        }
    }

    func requiredEnvironment(_ name: String) throws -> String {
        guard let value = environment[name], !value.isEmpty else {
            throw CLIError.notSet(name)
        }
        return value
    }

    /// A secret from the environment, or (embedded only) from `DATA/secrets/NAME.json`, created with
    /// `make()` and mode 0600 on first use. Never from code.
    func secret(_ variable: String, file: String, make: () -> String) throws -> String {
        if let value = environment[variable], !value.isEmpty { return value }
        guard let directory = dataDirectory else {
            throw CLIError(description: "\(variable) is not set (a secret from Secrets Manager; see docs/configuration.md)", code: Exit.usage)
        }
        let folder = (directory as NSString).appendingPathComponent("secrets")
        let path = (folder as NSString).appendingPathComponent(file)
        if let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8), !text.isEmpty {
            return text
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let value = make()
        guard FileManager.default.createFile(atPath: path, contents: Data(value.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw CLIError(description: "cannot write \(path)", code: Exit.output)
        }
        return value
    }

    /// The keys that sign and verify replay links (`REFVISION_LINK_KEYS`; embedded: generated once).
    func linkSigner() throws -> LinkSigner {
        let json = try secret("REFVISION_LINK_KEYS", file: "link-keys.json") {
            #"{"active":"k1","k1":""# + randomSecret(48) + #""}"#
        }
        let keys: LinkKeys
        do {
            keys = try LinkKeys(json: json)
        } catch {
            throw CLIError(description: "REFVISION_LINK_KEYS: \(error)", code: Exit.usage)
        }
        let validity = try environmentNumber("REFVISION_LINK_VALIDITY_SECONDS", default: 7 * 86400, in: 60...(366 * 86400),
                                             environment: environment)
        return LinkSigner(keys: keys, validity: validity)
    }

    /// The dashboard's basic-auth credentials (`REFVISION_DASHBOARD_AUTH`; embedded: generated once).
    func dashboardCredentials() throws -> DashboardCredentials {
        let json = try secret("REFVISION_DASHBOARD_AUTH", file: "dashboard-auth.json") {
            #"{"user":"staff","password":""# + randomSecret(24) + #""}"#
        }
        do {
            return try DashboardCredentials.parse(json: json)
        } catch {
            throw CLIError(description: "\(error)", code: Exit.usage)
        }
    }

    /// Public base URL of the replay service (`REFVISION_REPLAY_BASE_URL`; embedded default
    /// `http://127.0.0.1:8080`).
    func replayBaseURL(default fallback: String? = nil) throws -> String {
        if let value = environment["REFVISION_REPLAY_BASE_URL"], !value.isEmpty { return value }
        if isEmbedded { return fallback ?? "http://127.0.0.1:8080" }
        return try requiredEnvironment("REFVISION_REPLAY_BASE_URL")
    }

    /// Where the links in e-mails point: signed links to the replay service (default), or, with
    /// `REFVISION_LINK_MODE=presigned`, plain S3 presigned URLs (AWS only; at most 7 days and never past
    /// the credentials' expiry).
    func linkProvider(baseURL: String? = nil) throws -> any ReplayLinkProvider {
        let mode = environment["REFVISION_LINK_MODE"].flatMap { $0.isEmpty ? nil : $0 } ?? "signed"
        switch (mode, backend) {
        case ("signed", _):
            do {
                return try SignedReplayLinks(signer: try linkSigner(), baseURL: try replayBaseURL(default: baseURL))
            } catch let error as LinkSigningError {
                throw CLIError(description: "REFVISION_REPLAY_BASE_URL: \(error)", code: Exit.usage)
            }
        case ("presigned", .aws(let client)):
            let seconds = try environmentNumber("REFVISION_LINK_VALIDITY_SECONDS", default: 7 * 86400, in: 60...(7 * 86400),
                                                environment: environment)
            return PresignedReplayLinks(s3: S3Client(client: client), seconds: Int(seconds))
        case ("presigned", .embedded):
            throw CLIError(description: "REFVISION_LINK_MODE=presigned needs S3 (the embedded replays are served by refvision replay)", code: Exit.usage)
        default:
            throw CLIError(description: "REFVISION_LINK_MODE must be signed or presigned, not '\(mode)'", code: Exit.usage)
        }
    }

    /// The notification sink: the coaches topic, or the outbox folder.
    func notificationSink(coaches: any CoachDirectory) throws -> any NotificationSink {
        switch backend {
        case .embedded(let directory, _):
            let staff = environment["REFVISION_STAFF_EMAIL"].flatMap { $0.isEmpty ? nil : $0 } ?? "meet-staff@localhost"
            do {
                return try OutboxSink(directory: (directory as NSString).appendingPathComponent("outbox"), coaches: coaches,
                                      staffAddress: staff)
            } catch {
                throw CLIError(description: "REFVISION_STAFF_EMAIL: \(error)", code: Exit.usage)
            }
        case .aws(let client):
            return SNSNotificationSink(sns: SNSClient(client: client), topicArn: try requiredEnvironment("REFVISION_COACHES_TOPIC_ARN"))
        }
    }

    /// Where the replay service finds videos.
    func videoSource() -> any ReplayVideoSource {
        switch backend {
        case .embedded(let directory, _): DirectoryVideoSource(store: DirectoryObjectStore(root: directory))
        case .aws(let client): S3VideoSource(s3: S3Client(client: client))
        }
    }
}

func randomSecret(_ length: Int) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
    var generator = SystemRandomNumberGenerator()
    return String((0..<length).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
}

func makeNotifier(_ ports: FleetPorts, logger: Logger, baseURL: String? = nil,
                  onOutcome: @escaping @Sendable (String, NotifyOutcome) -> Void = { _, _ in }) throws -> Notifier {
    let coaches = try ports.coachDirectory()
    var configuration = NotifierConfiguration()
    configuration.receiveWaitSeconds = Int(try environmentNumber("REFVISION_RECEIVE_WAIT_SECONDS", default: 20, in: 0...20,
                                                                 environment: ports.environment))
    if ports.isEmbedded { configuration.coachCacheSeconds = 2 }
    return Notifier(
        configuration: configuration, results: ports.results, resultsDeadLetter: ports.resultsDLQ, decisions: ports.decisions,
        sink: try ports.notificationSink(coaches: coaches), coaches: coaches, links: try ports.linkProvider(baseURL: baseURL),
        heartbeat: Heartbeat(path: ports.environment["REFVISION_HEARTBEAT_FILE"] ?? "/tmp/refvision/heartbeat"),
        logger: logger, onOutcome: onOutcome)
}

func makeReplayService(_ ports: FleetPorts, logger: Logger) throws -> ReplayService {
    ReplayService(signer: try ports.linkSigner(), decisions: ports.decisions, videos: ports.videoSource(),
                  dashboard: try ports.dashboardCredentials(), logger: logger)
}

/// `HOST:PORT` (or a bare port) for `--http`.
struct HTTPAddress: ExpressibleByArgument, Sendable {
    let host: String
    let port: Int

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    init?(argument: String) {
        let parts = argument.split(separator: ":", omittingEmptySubsequences: false)
        let host = parts.count == 2 ? String(parts[0]) : "127.0.0.1"
        guard parts.count <= 2, let port = Int(parts.last ?? ""), (0...65535).contains(port), !host.isEmpty else { return nil }
        self.host = host
        self.port = port
    }

    var defaultValueDescription: String { "\(host):\(port)" }
}
