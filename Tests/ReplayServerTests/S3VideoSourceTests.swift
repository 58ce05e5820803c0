import AWS
import AWSSigner
import Fleet
import FleetFixtures
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hummingbird
import HummingbirdTesting
import ReplayLinks
@testable import ReplayServer
import Testing
import TestSupport

/// The replay service on AWS (moto): `/v/TOKEN` redirects to a fresh presigned URL of a few minutes, and
/// a replay that is gone gets the service's own 404.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["REFVISION_TEST_MOTO"] != nil, "needs moto_server (make test starts it)"))
struct S3VideoSourceTests {
    @Test func videosRedirectToAShortPresignedURL() async throws {
        let endpoint = try #require(ProcessInfo.processInfo.environment["REFVISION_TEST_MOTO"])
        let configuration = try AWSConfiguration.local(endpoint: endpoint, region: "us-east-1")
        let client = AWSClient(configuration: configuration, credentialProvider: StaticCredentialProvider(
            AWSCredentials(accessKeyId: "testing", secretAccessKey: "testing")))
        defer { Task { try? await client.shutdown() } }
        let s3 = S3Client(client: client)
        let bucket = "rv-video-" + UUID().uuidString.prefix(8).lowercased()
        try await s3.createBucket(bucket)
        let h = try await ReplayHarness()
        defer { h.temp.remove() }
        let file = h.temp.path("v.mp4")
        try Data("mp4 bytes".utf8).write(to: URL(fileURLWithPath: file))
        try await s3.putObject(bucket: bucket, key: "m/a/squat-1.replay.mp4", file: file, contentType: "video/mp4")

        let source = S3VideoSource(s3: s3, seconds: 300)
        guard case .redirect(let url) = try await source.video(bucket: bucket, key: "m/a/squat-1.replay.mp4") else {
            Issue.record("expected a redirect")
            return
        }
        #expect(url.contains("X-Amz-Expires=300"))
        let (data, response) = try await URLSession.shared.data(from: try #require(URL(string: url)))
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        #expect(data == Data("mp4 bytes".utf8))
        await #expect(throws: FleetError.objectNotFound(bucket: bucket, key: "gone.mp4")) {
            _ = try await source.video(bucket: bucket, key: "gone.mp4")
        }

        // Through the service: the page's video answers 302 with the presigned URL; a missing replay, 404.
        var present = SampleDecisions.squat(.goodLift, athlete: "present")
        present.replayBucket = bucket
        present.replayKey = "m/a/squat-1.replay.mp4"
        var gone = SampleDecisions.squat(.goodLift, athlete: "gone")
        gone.replayBucket = bucket
        gone.replayKey = "gone.mp4"
        #expect(try await h.state.decisions.create(present))
        #expect(try await h.state.decisions.create(gone))
        let service = ReplayService(signer: h.signer, decisions: h.state.decisions, videos: source, dashboard: nil)
        let app = Application(router: ReplayHTTPServer.router(service: service))
        let presentToken = try h.token(jobId: present.jobId), goneToken = try h.token(jobId: gone.jobId)
        try await app.test(.router) { client in
            try await client.execute(uri: "/v/\(presentToken)", method: .get) { response in
                #expect(response.status == .found)
                #expect(response.headers[.location]?.hasPrefix(endpoint) == true)
                #expect(response.headers[.location]?.contains("X-Amz-Signature=") == true)
            }
            try await client.execute(uri: "/v/\(goneToken)", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(String(buffer: response.body).contains("Replay missing"))
            }
        }
    }
}
