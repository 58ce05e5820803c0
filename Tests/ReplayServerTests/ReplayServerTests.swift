import Embedded
import Fleet
import FleetFixtures
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Judging
import ReplayLinks
@testable import ReplayServer
import Testing
import TestSupport

/// A replay service on the embedded parts (SQLite decisions, a directory bucket holding the replay).
struct ReplayHarness {
    let temp: TempDir
    let state: EmbeddedState
    let store: DirectoryObjectStore
    let signer: LinkSigner
    let record: DecisionRecord
    let service: ReplayService
    let now: Date
    static let user = "staff"
    static let password = "correct-horse-battery"

    init(video: Data = Data((0..<1000).map { UInt8($0 % 251) })) async throws {
        temp = try TempDir()
        let directory = temp.path("data")
        state = try EmbeddedState(directory: directory)
        store = DirectoryObjectStore(root: directory)
        let keys = try LinkKeys(json: #"{"active":"k2","k1":"old-secret-old-secret-old-secret-0001","k2":"new-secret-new-secret-new-secret-0002"}"#)
        signer = LinkSigner(keys: keys, validity: 3600)
        var record = SampleDecisions.squat(.noLift)
        let source = temp.path("replay.mp4")
        try video.write(to: URL(fileURLWithPath: source))
        try await store.upload(file: source, bucket: "annotated", key: record.replayKey!, contentType: "video/mp4", metadata: [:])
        record.replayBucket = "annotated"
        #expect(try await state.decisions.create(record))
        self.record = record
        now = Date()
        let fixedNow = now
        service = ReplayService(signer: signer, decisions: state.decisions, videos: DirectoryVideoSource(store: store),
                                dashboard: try DashboardCredentials(user: Self.user, password: Self.password), clock: { fixedNow })
    }

    func token(jobId: String? = nil, at date: Date? = nil) throws -> String {
        try signer.token(jobId: jobId ?? record.jobId, now: date ?? now)
    }

    var app: some ApplicationProtocol { Application(router: ReplayHTTPServer.router(service: service)) }

    static var basic: String { "Basic " + Data("\(user):\(password)".utf8).base64EncodedString() }
}

@Suite struct ReplayServerTests {
    static func body(_ response: TestResponse) -> String { String(buffer: response.body) }

    static func expectSecurityHeaders(_ response: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response.headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true, sourceLocation: sourceLocation)
        #expect(response.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer", sourceLocation: sourceLocation)
        #expect(response.headers[.xContentTypeOptions] == "nosniff", sourceLocation: sourceLocation)
        #expect(response.headers[HTTPField.Name("X-Frame-Options")!] == "DENY", sourceLocation: sourceLocation)
        #expect(response.headers[.cacheControl] == "no-store", sourceLocation: sourceLocation)
    }

    @Test func theReplayPageShowsTheVerdictRulesVideoAndChart() async throws {
        let h = try await ReplayHarness()
        defer { h.temp.remove() }
        let token = try h.token()
        try await h.app.test(.router) { client in
            try await client.execute(uri: "/r/\(token)", method: .get) { response in
                #expect(response.status == .ok)
                Self.expectSecurityHeaders(response)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                let page = Self.body(response)
                #expect(page.contains("<video id=\"replay\""))
                #expect(page.contains("src=\"/v/\(token)\""))
                #expect(page.contains("data-decision=\"no_lift\""))
                #expect(page.contains(">NO LIFT<"))
                #expect(page.components(separatedBy: "<tr class=\"rule\"").count - 1 == 3)
                #expect(page.contains("data-rule=\"squat_depth\""))
                #expect(page.contains("<td class=\"failed\">failed</td><td class=\"num\">-0.090</td>"))
                #expect(page.contains("<svg id=\"chart\""))
                #expect(page.contains("id=\"bottom-marker\""))
                #expect(page.contains("jane-doe") && page.contains("lions"))
            }
        }
    }

    @Test func tamperedExpiredAndUnknownKeyTokensGetA403ThatLeaksNothing() async throws {
        let h = try await ReplayHarness()
        defer { h.temp.remove() }
        let good = try h.token()
        let fields = good.split(separator: ".").map(String.init)
        func with(_ index: Int, _ value: String) -> String { var f = fields; f[index] = value; return f.joined(separator: ".") }
        let flippedSignature = fields[4].first == "A" ? "B" + fields[4].dropFirst() : "A" + fields[4].dropFirst()
        let tampered = [
            with(0, "v2"), with(1, "k1"), with(1, "k9"), with(2, String(fields[2].reversed())),
            with(3, String(Int(fields[3])! + 3600)), with(4, flippedSignature), good + "x", String(good.dropLast()),
            "", "v1", String(repeating: "a", count: 5000), "%00", "v1.k2.\(h.record.jobId).1.AAAA",
        ]
        let expired = try h.token(at: h.now.addingTimeInterval(-7200))
        try await h.app.test(.router) { client in
            for token in tampered {
                try await client.execute(uri: "/r/\(token)", method: .get) { response in
                    #expect(response.status == (token.isEmpty ? .notFound : .forbidden), "\(token.prefix(60))")
                    Self.expectSecurityHeaders(response)
                    let page = Self.body(response)
                    #expect(!page.contains(h.record.jobId) && !page.contains("jane") && !page.contains("squat"))
                    if !token.isEmpty { #expect(page.contains("Link not valid")) }
                }
                try await client.execute(uri: "/v/\(token)", method: .get) { response in
                    #expect(response.status == (token.isEmpty ? .notFound : .forbidden))
                    #expect(response.headers[.contentType] != "video/mp4")
                }
            }
            try await client.execute(uri: "/r/\(expired)", method: .get) { response in
                #expect(response.status == .forbidden)
                #expect(Self.body(response).contains("Link expired"))
                #expect(!Self.body(response).contains(h.record.jobId))
            }
        }
    }

    @Test func rotatedKeysStillOpenOldLinks() async throws {
        let h = try await ReplayHarness()
        defer { h.temp.remove() }
        // Signed while k1 was active; k2 is active now and k1 still verifies.
        let oldKeys = try LinkKeys(json: #"{"active":"k1","k1":"old-secret-old-secret-old-secret-0001"}"#)
        let old = try LinkSigner(keys: oldKeys, validity: 3600).token(jobId: h.record.jobId, now: h.now)
        try await h.app.test(.router) { client in
            try await client.execute(uri: "/r/\(old)", method: .get) { #expect($0.status == .ok) }
        }
    }

    @Test func theVideoIsServedWithRanges() async throws {
        let video = Data((0..<1000).map { UInt8($0 % 251) })
        let h = try await ReplayHarness(video: video)
        defer { h.temp.remove() }
        let token = try h.token()
        try await h.app.test(.router) { client in
            try await client.execute(uri: "/v/\(token)", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "video/mp4")
                #expect(response.headers[.acceptRanges] == "bytes")
                #expect(Data(response.body.readableBytesView) == video)
            }
            let cases: [(String, HTTPResponse.Status, Range<Int>?, String?)] = [
                ("bytes=0-99", .partialContent, 0..<100, "bytes 0-99/1000"),
                ("bytes=990-", .partialContent, 990..<1000, "bytes 990-999/1000"),
                ("bytes=-10", .partialContent, 990..<1000, "bytes 990-999/1000"),
                ("bytes=900-5000", .partialContent, 900..<1000, "bytes 900-999/1000"),
                ("bytes=1000-", .rangeNotSatisfiable, nil, "bytes */1000"),
                ("bytes=5-2", .ok, 0..<1000, nil),
                ("bytes=0-1,5-6", .ok, 0..<1000, nil),
                ("items=0-1", .ok, 0..<1000, nil),
                ("bytes=abc-", .ok, 0..<1000, nil),
            ]
            for (range, status, slice, contentRange) in cases {
                try await client.execute(uri: "/v/\(token)", method: .get, headers: [.range: range]) { response in
                    #expect(response.status == status, "\(range)")
                    #expect(response.headers[.contentRange] == contentRange, "\(range)")
                    if let slice { #expect(Data(response.body.readableBytesView) == video.subdata(in: slice), "\(range)") }
                }
            }
        }
    }

    @Test func aRecordPointingOutsideTheBucketServesNothing() async throws {
        let h = try await ReplayHarness()
        defer { h.temp.remove() }
        // A record whose replay key tries to leave the bucket, and one whose replay is a symbolic link out.
        var escaping = SampleDecisions.squat(.noLift, athlete: "escape")
        escaping.replayBucket = "annotated"
        escaping.replayKey = "../../../../etc/passwd"
        #expect(try await h.state.decisions.create(escaping))
        var linked = SampleDecisions.squat(.noLift, athlete: "linked")
        linked.replayBucket = "annotated"
        linked.replayKey = "linked.mp4"
        try FileManager.default.createSymbolicLink(atPath: h.temp.path("data/annotated/linked.mp4"), withDestinationPath: "/etc/passwd")
        #expect(try await h.state.decisions.create(linked))
        let records = [escaping, linked]
        try await h.app.test(.router) { client in
            for record in records {
                try await client.execute(uri: "/v/\(try h.token(jobId: record.jobId))", method: .get) { response in
                    #expect(response.status == .notFound)
                    #expect(!Self.body(response).contains("root:"))
                }
            }
            try await client.execute(uri: "/v/../../etc/passwd", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/%2e%2e/%2e%2e/etc/passwd", method: .get) { response in
                #expect(response.status == .notFound)
                Self.expectSecurityHeaders(response)
            }
        }
    }

    @Test func theMeetDashboardNeedsBasicAuthAndFilters() async throws {
        let h = try await ReplayHarness()
        defer { h.temp.remove() }
        #expect(try await h.state.decisions.create(SampleDecisions.squat(.goodLift, athlete: "ann-lee")))
        #expect(try await h.state.decisions.create(SampleDecisions.squat(.needsReview, athlete: "bo-ray")))
        #expect(try await h.state.decisions.create(SampleDecisions.failed()))
        #expect(try await h.state.decisions.create(SampleDecisions.squat(.goodLift, meet: "other-meet", athlete: "zed")))
        try await h.app.test(.router) { client in
            for authorization in [nil, "Basic " + Data("staff:wrong-password-123".utf8).base64EncodedString(), "Bearer x",
                                  "Basic !!!", "Basic " + Data("nocolon".utf8).base64EncodedString()] {
                var headers = HTTPFields()
                if let authorization { headers[.authorization] = authorization }
                try await client.execute(uri: "/meets/nationals-2026", method: .get, headers: headers) { response in
                    #expect(response.status == .unauthorized)
                    #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Basic") == true)
                    #expect(!Self.body(response).contains("jane-doe"))
                }
            }
            let auth: HTTPFields = [.authorization: ReplayHarness.basic]
            try await client.execute(uri: "/meets/nationals-2026", method: .get, headers: auth) { response in
                #expect(response.status == .ok)
                Self.expectSecurityHeaders(response)
                let page = Self.body(response)
                #expect(page.components(separatedBy: "<tr class=\"decision\"").count - 1 == 4)
                #expect(!page.contains(">zed<"))
                #expect(page.contains("href=\"/r/v1.k2."))
            }
            try await client.execute(uri: "/meets/nationals-2026?review=1", method: .get, headers: auth) { response in
                let page = Self.body(response)
                #expect(page.components(separatedBy: "<tr class=\"decision\"").count - 1 == 1)
                #expect(page.contains("bo-ray"))
            }
            try await client.execute(uri: "/meets/nationals-2026?decision=failed&lift=deadlift", method: .get, headers: auth) { response in
                #expect(Self.body(response).components(separatedBy: "<tr class=\"decision\"").count - 1 == 1)
            }
            try await client.execute(uri: "/meets/nationals-2026?lift=curl", method: .get, headers: auth) { #expect($0.status == .badRequest) }
            try await client.execute(uri: "/meets/%3Cscript%3E", method: .get, headers: auth) { response in
                #expect(response.status == .ok)
                #expect(!Self.body(response).contains("<script>"))
                #expect(Self.body(response).contains("&lt;script&gt;"))
            }
        }
    }

    @Test func healthAndUnknownRoutes() async throws {
        let h = try await ReplayHarness()
        defer { h.temp.remove() }
        try await h.app.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(Self.body(response) == "ok\n")
                Self.expectSecurityHeaders(response)
            }
            try await client.execute(uri: "/nope", method: .get) { response in
                #expect(response.status == .notFound)
                Self.expectSecurityHeaders(response)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
            }
        }
    }

    @Test(arguments: [
        ("bytes=0-0", 10, ByteRange.partial(0...0)), ("bytes=-0", 10, .unsatisfiable), ("bytes=-20", 10, .partial(0...9)),
        ("bytes=9-", 10, .partial(9...9)), ("bytes=10-", 10, .unsatisfiable), ("bytes=0-", 0, .unsatisfiable),
        ("bytes=99999999999999999999-", 10, .whole), (" bytes=1-2 ", 10, .partial(1...2)), ("BYTES=1-2", 10, .partial(1...2)),
    ])
    func byteRanges(header: String, size: Int, expected: ByteRange) {
        #expect(ByteRange.parse(header, size: size) == expected)
    }

    @Test func pagesEscapeEverythingFromTheRecord() {
        var record = SampleDecisions.squat(.noLift, meet: "<m>", athlete: "\"><img src=x onerror=alert(1)>", team: "'t'")
        record.key = "a/<b>&.mp4"
        record.reason = "<script>alert(1)</script>"
        record.verdict = nil
        let page = Pages.replay(record, videoURL: "/v/x\"y", expires: nil)
        #expect(!page.contains("<img") && !page.contains("<script>alert") && !page.contains("x\"y"))
        #expect(page.contains("&lt;script&gt;") && page.contains("&#39;t&#39;"))
    }
}
