import Crypto
import Fleet
import Foundation
import Logging
import ReplayLinks

/// Where a replay video is served from.
public enum VideoLocation: Sendable, Equatable {
    /// A local file (embedded): served by the replay service, with Range support.
    case file(String)
    /// A short-lived S3 presigned URL: the service redirects to it.
    case redirect(String)
}

/// Finds the video of a decision: a directory bucket's file, or a fresh S3 presigned URL (minutes).
public protocol ReplayVideoSource: Sendable {
    func video(bucket: String, key: String) async throws -> VideoLocation
}

/// Basic-auth credentials of the meet dashboard (`REFVISION_DASHBOARD_AUTH`).
public struct DashboardCredentials: Sendable, CustomStringConvertible {
    public let user: String
    private let passwordDigest: [UInt8]

    public init(user: String, password: String) throws {
        guard !user.isEmpty, !user.contains(":"), password.utf8.count >= 12 else {
            throw FleetError.configuration("dashboard credentials need a user without ':' and a password of at least 12 bytes")
        }
        self.user = user
        passwordDigest = Array(SHA256.hash(data: Data(password.utf8)))
    }

    /// `{"user": "...", "password": "..."}`.
    public static func parse(json: String) throws -> DashboardCredentials {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let user = object["user"] as? String, let password = object["password"] as? String else {
            throw FleetError.configuration("REFVISION_DASHBOARD_AUTH is not a JSON object {\"user\": …, \"password\": …}")
        }
        return try DashboardCredentials(user: user, password: password)
    }

    /// Checks an `Authorization: Basic …` header in constant time (digests of equal length compared).
    public func accepts(authorization: String?) -> Bool {
        guard let authorization, authorization.utf8.count <= 1024 else { return false }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic",
              let decoded = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces)),
              let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":") else { return false }
        let userOK = constantTimeEquals(Array(SHA256.hash(data: Data(text[..<colon].utf8))), Array(SHA256.hash(data: Data(user.utf8))))
        let passwordOK = constantTimeEquals(Array(SHA256.hash(data: Data(text[text.index(after: colon)...].utf8))), passwordDigest)
        return userOK && passwordOK
    }

    public var description: String { "DashboardCredentials(user: \(user), password: <redacted>)" }
}

/// A response of the replay service, independent of the HTTP framework.
public struct WebResponse: Sendable, Equatable {
    public enum Body: Sendable, Equatable {
        case html(String)
        case text(String)
        case file(path: String, contentType: String)
        case empty
    }

    public var status: Int
    public var headers: [(String, String)]
    public var body: Body

    public init(status: Int, headers: [(String, String)] = [], body: Body) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public static func == (a: WebResponse, b: WebResponse) -> Bool {
        a.status == b.status && a.body == b.body && a.headers.map { "\($0.0):\($0.1)" } == b.headers.map { "\($0.0):\($0.1)" }
    }

    public static func html(_ status: Int, _ page: String) -> WebResponse { WebResponse(status: status, body: .html(page)) }

    public func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
}

/// The replay service: signed links → replay pages and videos, the meet dashboard, health.
/// Framework-independent; `ReplayHTTPServer` puts it on Hummingbird.
public struct ReplayService: Sendable {
    public let signer: LinkSigner
    public let decisions: any DecisionStore
    public let videos: any ReplayVideoSource
    public let dashboard: DashboardCredentials?
    public let logger: Logger
    public let clock: @Sendable () -> Date

    public init(signer: LinkSigner, decisions: any DecisionStore, videos: any ReplayVideoSource, dashboard: DashboardCredentials?,
                logger: Logger = Logger(label: "refvision.replay"), clock: @escaping @Sendable () -> Date = { Date() }) {
        self.signer = signer
        self.decisions = decisions
        self.videos = videos
        self.dashboard = dashboard
        self.logger = logger
        self.clock = clock
    }

    /// Headers on every response. The page has no scripts; video may come from this origin or an S3
    /// presigned URL; the token in the URL is never sent on as a Referer.
    public static func securityHeaders(https: Bool) -> [(String, String)] {
        var headers = [
            ("Content-Security-Policy",
             "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; media-src 'self' https:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "no-referrer"),
            ("Cache-Control", "no-store"),
            ("Cross-Origin-Opener-Policy", "same-origin"),
            ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
        ]
        if https { headers.append(("Strict-Transport-Security", "max-age=31536000")) }
        return headers
    }

    /// `GET /healthz`: 200 when the decision store answers.
    public func health() async -> WebResponse {
        do {
            _ = try await decisions.get(jobId: "healthz")
            return WebResponse(status: 200, body: .text("ok\n"))
        } catch {
            logger.error("health check failed", metadata: ["error": "\(error)"])
            return WebResponse(status: 503, body: .text("decision store unavailable\n"))
        }
    }

    /// `GET /r/{token}`: the replay page.
    public func replayPage(token: String) async -> WebResponse {
        switch await verified(token) {
        case .failure(let error):
            return error.response
        case .success(let (record, grant)):
            let video = record.replayKey == nil ? nil : "/v/\(token)"
            return .html(200, Pages.replay(record, videoURL: video, expires: grant.expires))
        }
    }

    /// `GET /v/{token}`: the video (a local file, or a redirect to a presigned URL of a few minutes).
    public func video(token: String) async -> WebResponse {
        switch await verified(token) {
        case .failure(let error):
            return error.response
        case .success(let (record, _)):
            guard let bucket = record.replayBucket, let key = record.replayKey else {
                return .html(404, Pages.error(title: "No replay", message: "This decision has no replay video."))
            }
            do {
                switch try await videos.video(bucket: bucket, key: key) {
                case .file(let path):
                    return WebResponse(status: 200, body: .file(path: path, contentType: "video/mp4"))
                case .redirect(let url):
                    return WebResponse(status: 302, headers: [("Location", url)], body: .empty)
                }
            } catch FleetError.objectNotFound {
                return .html(404, Pages.error(title: "Replay missing", message: "The replay video is no longer stored."))
            } catch FleetError.invalidKey(let why) {
                logger.error("replay key refused", metadata: ["jobId": "\(record.jobId)", "reason": "\(why)"])
                return .html(404, Pages.error(title: "Replay missing", message: "The replay video is no longer stored."))
            } catch {
                logger.error("replay video lookup failed", metadata: ["jobId": "\(record.jobId)", "error": "\(error)"])
                return .html(503, Pages.error(title: "Try again", message: "The replay video could not be fetched just now."))
            }
        }
    }

    /// `GET /meets/{meet}?lift=&decision=&review=1` behind basic auth.
    public func meetPage(meet: String, query: [String: String], authorization: String?) async -> WebResponse {
        guard let dashboard else {
            return .html(404, Pages.error(title: "Not available", message: "The dashboard is not configured on this server."))
        }
        guard dashboard.accepts(authorization: authorization) else {
            return WebResponse(status: 401, headers: [("WWW-Authenticate", "Basic realm=\"refvision\", charset=\"UTF-8\"")],
                               body: .html(Pages.error(title: "Sign in", message: "The meet dashboard needs the staff user name and password.")))
        }
        guard let meetName = try? SubscriptionValue.validate(meet, what: "meet") else {
            return .html(400, Pages.error(title: "Bad meet name", message: "That is not a meet name."))
        }
        var filter = Pages.MeetFilter()
        if let lift = query["lift"], !lift.isEmpty {
            guard ["squat", "bench", "deadlift"].contains(lift) else {
                return .html(400, Pages.error(title: "Bad filter", message: "lift must be squat, bench or deadlift."))
            }
            filter.lift = lift
        }
        if let decision = query["decision"], !decision.isEmpty {
            guard ["good_lift", "no_lift", "needs_review", "failed", "queued", "processing"].contains(decision) else {
                return .html(400, Pages.error(title: "Bad filter", message: "Unknown decision filter."))
            }
            filter.decision = decision
        }
        filter.needsReviewOnly = query["review"] == "1"
        do {
            let records = try await decisions.list(meet: meetName, limit: 5000)
            let now = clock()
            let page = Pages.meet(meetName, records: records, filter: filter) { record in
                record.hasReplayPage ? (try? signer.token(jobId: record.jobId, now: now)).map { "/r/\($0)" } : nil
            }
            return .html(200, page)
        } catch {
            logger.error("listing a meet failed", metadata: ["meet": "\(meetName)", "error": "\(error)"])
            return .html(503, Pages.error(title: "Try again", message: "The decisions could not be read just now."))
        }
    }

    /// The record a token grants, or the error page. Expired and tampered tokens get a 403 that says
    /// which of the two in words, and nothing else.
    func verified(_ token: String) async -> Result<(DecisionRecord, ReplayToken), ResponseError> {
        let grant: ReplayToken
        do {
            grant = try signer.verify(token, now: clock())
        } catch .expired {
            return .failure(ResponseError(.html(403, Pages.error(
                title: "Link expired", message: "This replay link has expired. Ask the meet staff for a new one."))))
        } catch {
            logger.notice("replay link refused", metadata: ["reason": "\(error)"])
            return .failure(ResponseError(.html(403, Pages.error(
                title: "Link not valid", message: "This replay link is not valid. Check that it was copied completely."))))
        }
        do {
            guard let record = try await decisions.get(jobId: grant.jobId) else {
                return .failure(ResponseError(.html(404, Pages.error(title: "Not found", message: "This decision no longer exists."))))
            }
            return .success((record, grant))
        } catch {
            logger.error("reading a decision failed", metadata: ["jobId": "\(grant.jobId)", "error": "\(error)"])
            return .failure(ResponseError(.html(503, Pages.error(title: "Try again", message: "The decision could not be read just now."))))
        }
    }
}

/// A response carried as an error (for `Result`).
public struct ResponseError: Error, Sendable {
    public let response: WebResponse
    init(_ response: WebResponse) { self.response = response }
}
