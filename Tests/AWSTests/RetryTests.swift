import AWSSigner
import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
import TestSupport

@testable import AWS

/// Retries and broken responses, against a local SwiftNIO server that misbehaves on purpose.
@Suite("Retries, timeouts and broken responses")
struct RetryTests {
    static let credentials = StaticCredentialProvider(AWSCredentials(accessKeyId: "AKID", secretAccessKey: "secret"))

    /// A client pointed at the local server with fast backoff.
    func withClient<Result: Sendable>(
        _ server: LocalHTTPServer, maxAttempts: Int = 4, requestTimeout: TimeAmount = .seconds(5),
        _ body: (AWSClient) async throws -> Result
    ) async throws -> Result {
        var configuration = try AWSConfiguration.local(endpoint: server.baseURL)
        configuration.retry = AWSRetryPolicy(
            maxAttempts: maxAttempts, baseDelay: .milliseconds(5), throttlingBaseDelay: .milliseconds(5), maxBackoff: .milliseconds(50))
        configuration.timeouts.request = requestTimeout
        configuration.timeouts.transfer = requestTimeout
        return try await withAWSClient(AWSClient(configuration: configuration, credentialProvider: Self.credentials), body)
    }

    static let queueURL = "http://127.0.0.1/123456789012/q"
    static let attributesOK = ServerAction.json(200, "{\"Attributes\":{\"QueueArn\":\"arn:aws:sqs:us-east-1:123456789012:q\"}}")

    @Test("503 twice, then success: an idempotent call succeeds on the third attempt")
    func retries503() async throws {
        try await LocalHTTPServer.with({ _, index in
            index < 2 ? .text(503, "<html><body>Service Unavailable</body></html>", contentType: "text/html") : Self.attributesOK
        }) { server in
            try await withClient(server) { client in
                let attributes = try await SQSClient(client: client).getQueueAttributes(queueURL: Self.queueURL)
                #expect(attributes["QueueArn"] == "arn:aws:sqs:us-east-1:123456789012:q")
            }
            #expect(server.requestCount == 3)
            // Every attempt is signed afresh and targets the right operation.
            #expect(server.requests.allSatisfy { $0.header("X-Amz-Target") == "AmazonSQS.GetQueueAttributes" })
            #expect(server.requests.allSatisfy { $0.header("Authorization")?.hasPrefix("AWS4-HMAC-SHA256 Credential=AKID/") == true })
        }
    }

    @Test("throttling is retried even for calls that are not idempotent")
    func retriesThrottling() async throws {
        try await LocalHTTPServer.with({ _, index in
            index < 2
                ? .json(400, "{\"__type\":\"com.amazonaws.sqs#RequestThrottled\",\"message\":\"Rate exceeded\"}", headers: [("x-amzn-query-error", "AWS.SimpleQueueService.RequestThrottled;Sender")])
                : .json(200, "{\"MessageId\":\"m-1\",\"MD5OfMessageBody\":\"5d41402abc4b2a76b9719d911017c592\"}")
        }) { server in
            try await withClient(server) { client in
                let result = try await SQSClient(client: client).sendMessage(queueURL: Self.queueURL, body: "hello")
                #expect(result.messageId == "m-1")
            }
            #expect(server.requestCount == 3)
        }
    }

    @Test("a 500 on a call that is not idempotent is not retried (the message may have been stored)")
    func noBlindRetry() async throws {
        try await LocalHTTPServer.with({ _, _ in
            .json(500, "{\"__type\":\"InternalFailure\",\"message\":\"boom\"}", headers: [("x-amzn-RequestId", "req-500")])
        }) { server in
            try await withClient(server) { client in
                let error = await #expect(throws: AWSError.self) {
                    try await SQSClient(client: client).sendMessage(queueURL: Self.queueURL, body: "hello")
                }
                #expect(error?.statusCode == 500 && error?.code == "InternalFailure" && error?.requestId == "req-500")
                #expect(error?.service == "SQS" && error?.operation == "SendMessage")
            }
            #expect(server.requestCount == 1)
        }
    }

    @Test("connection resets: retried for idempotent calls, not for sends")
    func connectionResets() async throws {
        try await LocalHTTPServer.with({ request, index in
            index < 2 ? .closeConnection : Self.attributesOK
        }) { server in
            try await withClient(server) { client in
                _ = try await SQSClient(client: client).getQueueAttributes(queueURL: Self.queueURL)
            }
            #expect(server.requestCount == 3)
        }
        try await LocalHTTPServer.with({ _, _ in .closeConnection }) { server in
            try await withClient(server) { client in
                let error = await #expect(throws: AWSClientError.self) {
                    try await SQSClient(client: client).sendMessage(queueURL: Self.queueURL, body: "hello")
                }
                guard case .transport(_, let operation, _, let attempts) = error else {
                    Issue.record("expected a transport error, got \(String(describing: error))")
                    return
                }
                #expect(operation == "SendMessage" && attempts == 1)
            }
            #expect(server.requestCount == 1)
        }
    }

    @Test("attempts are capped by maxAttempts and the last error is surfaced")
    func maxAttempts() async throws {
        try await LocalHTTPServer.with({ _, _ in
            .xml(503, "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>R</RequestId></Error>")
        }) { server in
            try await withClient(server, maxAttempts: 2) { client in
                let error = await #expect(throws: AWSError.self) {
                    _ = try await S3Client(client: client).headObject(bucket: "bucket", key: "k")
                }
                // HEAD has no body: the code comes from the status.
                #expect(error?.statusCode == 503)
            }
            #expect(server.requestCount == 2)
        }
    }

    @Test("connection refused: retried (nothing was sent) and reported as a connection failure")
    func connectionRefused() async throws {
        let port = try freeTCPPort()
        var configuration = try AWSConfiguration.local(endpoint: "http://127.0.0.1:\(port)")
        configuration.retry = AWSRetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(5), maxBackoff: .milliseconds(20))
        try await withAWSClient(AWSClient(configuration: configuration, credentialProvider: Self.credentials)) { client in
            let error = await #expect(throws: AWSClientError.self) {
                try await SQSClient(client: client).sendMessage(queueURL: Self.queueURL, body: "x")
            }
            guard case .connectionFailed(_, _, _, let attempts) = error else {
                Issue.record("expected a connection failure, got \(String(describing: error))")
                return
            }
            #expect(attempts == 3)
        }
    }

    @Test("a server that never answers hits the per-attempt deadline: a typed timeout, no hang")
    func timeout() async throws {
        try await LocalHTTPServer.with({ _, _ in .delayed(.seconds(10), Self.attributesOK) }) { server in
            let started = Date()
            try await withClient(server, maxAttempts: 2, requestTimeout: .milliseconds(300)) { client in
                let error = await #expect(throws: AWSClientError.self) {
                    try await SQSClient(client: client).getQueueAttributes(queueURL: Self.queueURL)
                }
                guard case .timeout(_, _, _, let attempts) = error else {
                    Issue.record("expected timeout, got \(String(describing: error))")
                    return
                }
                #expect(attempts == 2)
            }
            #expect(Date().timeIntervalSince(started) < 5)
        }
    }

    @Test("backoff is full jitter under the exponential ceiling and the cap")
    func backoff() {
        for attempt in 1...12 {
            for _ in 0..<50 {
                let delay = AWSClient.backoff(attempt: attempt, base: .milliseconds(100), cap: .seconds(20))
                let ceiling = min(20_000_000_000.0, 100_000_000.0 * pow(2, Double(attempt - 1)))
                #expect(delay.nanoseconds >= 0 && Double(delay.nanoseconds) < ceiling)
            }
        }
    }

    @Test("the retry quota runs out under sustained failure and refills on success")
    func retryQuota() {
        let quota = RetryQuota()
        var granted = 0
        while quota.acquire(5) { granted += 1 }
        #expect(granted == 100)
        quota.recordSuccess(retriedCost: 10)
        #expect(quota.available == 10)
        quota.recordSuccess(retriedCost: 0)
        #expect(quota.available == 11)
    }

    // MARK: Broken responses

    @Test("malformed JSON on success is a typed malformedResponse")
    func malformedJSON() async throws {
        for body in ["{", "not json", "{\"Messages\":[{\"MessageId\":1}]}", ""] {
            try await LocalHTTPServer.with({ _, _ in .json(200, body) }) { server in
                try await withClient(server) { client in
                    let error = await #expect(throws: AWSClientError.self) {
                        try await SQSClient(client: client).receiveMessages(queueURL: Self.queueURL, waitTimeSeconds: 0)
                    }
                    guard case .malformedResponse(let service, let operation, _) = error else {
                        Issue.record("expected malformedResponse for \(body), got \(String(describing: error))")
                        return
                    }
                    #expect(service == "SQS" && operation == "ReceiveMessage")
                }
            }
        }
    }

    @Test("malformed and truncated XML on success are typed errors")
    func malformedXML() async throws {
        for body in ["<ListBucketResult><Contents>", "<<<", "{\"json\":true}", "<html><body>proxy says hi</body></html>"] {
            try await LocalHTTPServer.with({ _, _ in .xml(200, body) }) { server in
                try await withClient(server) { client in
                    await #expect(throws: AWSClientError.self) { try await S3Client(client: client).listObjectsV2(bucket: "bucket") }
                }
            }
        }
    }

    @Test("an HTML error page from a proxy is an AWSError with the status and a readable excerpt")
    func htmlErrorPage() async throws {
        try await LocalHTTPServer.with({ _, _ in
            .text(403, "<!DOCTYPE html><html><body><h1>403 Forbidden</h1><p>Request blocked by proxy</p></body></html>", contentType: "text/html")
        }) { server in
            try await withClient(server) { client in
                let error = await #expect(throws: AWSError.self) { try await S3Client(client: client).listObjectsV2(bucket: "bucket") }
                #expect(error?.statusCode == 403 && error?.code == "Forbidden")
                #expect(error?.rawBodyPrefix?.contains("Request blocked by proxy") == true)
            }
        }
    }

    @Test("a truncated download is retried, then fails typed, leaving no partial file")
    func truncatedDownload() async throws {
        let directory = try TemporaryDirectory()
        try await LocalHTTPServer.with({ _, _ in
            .truncated(status: 200, headers: [("Content-Type", "video/mp4")], declaredLength: 1000, body: Array(repeating: 7, count: 100))
        }) { server in
            try await withClient(server, maxAttempts: 2) { client in
                let destination = directory.file("out.mp4")
                await #expect(throws: (any Error).self) {
                    try await S3Client(client: client).getObject(bucket: "bucket", key: "k", to: destination)
                }
                #expect(directory.contents().isEmpty, "no partial or temporary file left: \(directory.contents())")
            }
            #expect(server.requestCount == 2)
        }
    }

    @Test("a truncated buffered body is a typed error")
    func truncatedBuffered() async throws {
        try await LocalHTTPServer.with({ _, _ in
            .truncated(status: 200, headers: [], declaredLength: 500, body: Array("{\"Attributes\":{".utf8))
        }) { server in
            try await withClient(server, maxAttempts: 1) { client in
                await #expect(throws: AWSClientError.self) { try await SQSClient(client: client).getQueueAttributes(queueURL: Self.queueURL) }
            }
        }
    }

    @Test("an oversized body is refused with responseTooLarge")
    func oversized() async throws {
        try await LocalHTTPServer.with({ _, _ in
            .respond(status: 200, headers: [("Content-Type", "application/octet-stream")], body: Array(repeating: 1, count: 2 << 20))
        }) { server in
            try await withClient(server) { client in
                let error = await #expect(throws: AWSClientError.self) {
                    _ = try await S3Client(client: client).getObject(bucket: "bucket", key: "k", maxBytes: 1 << 20)
                }
                #expect(error == .responseTooLarge(service: "S3", operation: "GetObject", limit: 1 << 20))
            }
        }
    }

    @Test("SQS checksum mismatch is detected")
    func checksumMismatch() async throws {
        try await LocalHTTPServer.with({ _, _ in
            .json(200, "{\"Messages\":[{\"MessageId\":\"m\",\"ReceiptHandle\":\"r\",\"MD5OfBody\":\"00000000000000000000000000000000\",\"Body\":\"hello\"}]}")
        }) { server in
            try await withClient(server) { client in
                let error = await #expect(throws: AWSClientError.self) {
                    try await SQSClient(client: client).receiveMessages(queueURL: Self.queueURL, waitTimeSeconds: 0)
                }
                guard case .checksumMismatch = error else {
                    Issue.record("expected checksumMismatch, got \(String(describing: error))")
                    return
                }
            }
        }
    }

    @Test("SendMessageBatch partial failures come back per entry")
    func batchPartialFailure() async throws {
        try await LocalHTTPServer.with({ _, _ in
            .json(200, """
                {"Successful":[{"Id":"a","MessageId":"m-a","MD5OfMessageBody":"0cc175b9c0f1b6a831c399e269772661"}],
                 "Failed":[{"Id":"b","SenderFault":true,"Code":"InvalidParameterValue","Message":"bad"}]}
                """)
        }) { server in
            try await withClient(server) { client in
                let result = try await SQSClient(client: client).sendMessageBatch(
                    queueURL: Self.queueURL,
                    entries: [SQSSendEntry(id: "a", body: "a"), SQSSendEntry(id: "b", body: "b"), SQSSendEntry(id: "c", body: "c")])
                #expect(result.successful.map(\.messageId) == ["m-a"])
                #expect(result.failed.map(\.id).sorted() == ["b", "c"])
                #expect(result.failed.first { $0.id == "b" } == SQSBatchFailure(id: "b", code: "InvalidParameterValue", message: "bad", senderFault: true))
                #expect(result.failed.first { $0.id == "c" }?.code == "MissingFromResponse")
            }
        }
    }

    @Test("CompleteMultipartUpload answering 200 with an <Error> body is an error")
    func completeWithErrorBody() async throws {
        try await LocalHTTPServer.with({ _, _ in
            .xml(200, "<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message><RequestId>R9</RequestId></Error>")
        }) { server in
            try await withClient(server) { client in
                let error = await #expect(throws: AWSError.self) {
                    try await S3Client(client: client).completeMultipartUpload(bucket: "bucket", key: "k", uploadId: "u", parts: [(1, "\"e\"")])
                }
                #expect(error?.code == .internalError && error?.requestId == "R9")
            }
        }
    }

    @Test("a multipart upload whose part fails is aborted, and the part's error surfaces")
    func multipartAbort() async throws {
        let directory = try TemporaryDirectory()
        let file = try directory.randomFile("big.bin", size: 11 << 20)
        try await LocalHTTPServer.with({ request, _ in
            if request.method == "POST" && request.uri.contains("uploads") {
                return .xml(200, "<InitiateMultipartUploadResult><Bucket>bucket</Bucket><Key>k</Key><UploadId>UP-1</UploadId></InitiateMultipartUploadResult>")
            }
            if request.method == "PUT" && request.uri.contains("partNumber=2") {
                return .xml(400, "<Error><Code>InvalidDigest</Code><Message>corrupted part</Message></Error>")
            }
            if request.method == "PUT" { return .respond(status: 200, headers: [("ETag", "\"etag\"")], body: []) }
            if request.method == "DELETE" { return .respond(status: 204, headers: [], body: []) }
            return .text(400, "unexpected")
        }) { server in
            try await withClient(server) { client in
                var s3 = S3Client(client: client)
                s3.multipartThreshold = 5 << 20
                s3.partSize = 5 << 20
                let error = await #expect(throws: AWSError.self) { try await s3.uploadFile(bucket: "bucket", key: "k", file: file) }
                #expect(error?.code == "InvalidDigest" && error?.operation == "UploadPart")
            }
            let aborts = server.requests.filter { $0.method == "DELETE" }
            #expect(aborts.count == 1)
            #expect(aborts.first?.uri.contains("uploadId=UP-1") == true)
            // Parts carry UNSIGNED-PAYLOAD and their exact length.
            let part = try #require(server.requests.first { $0.method == "PUT" })
            #expect(part.header("x-amz-content-sha256") == "UNSIGNED-PAYLOAD")
            #expect(part.body.count == 5 << 20 || part.body.count == 1 << 20)
        }
    }

    @Test("a client that was shut down refuses work with a typed error")
    func afterShutdown() async throws {
        let client = AWSClient(configuration: try .local(endpoint: "http://127.0.0.1:9"), credentialProvider: Self.credentials)
        try await client.shutdown()
        try await client.shutdown()  // idempotent
        await #expect(throws: AWSClientError.self) { try await SQSClient(client: client).getQueueAttributes(queueURL: Self.queueURL) }
    }
}

/// The ECS agent's task-protection endpoint, faked faithfully to the agent's documented shapes.
@Suite("ECS task protection against a fake agent")
struct TaskProtectionTests {
    @Test("PUT sends the documented body and decodes the protection; GET reads it back")
    func putAndGet() async throws {
        try await LocalHTTPServer.with({ request, _ in
            guard request.path == "/api/task-1/task-protection/v1/state" else { return .json(404, "{}") }
            if request.method == "PUT" {
                guard let object = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any],
                    object["ProtectionEnabled"] as? Bool == true, (object["ExpiresInMinutes"] as? NSNumber)?.intValue == 30
                else {
                    return .json(400, "{\"error\":{\"Code\":\"InvalidParameterException\",\"Message\":\"bad body\"}}")
                }
            }
            return .json(200, "{\"protection\":{\"ExpirationDate\":\"2030-01-01T00:30:00Z\",\"ProtectionEnabled\":true,\"TaskArn\":\"arn:task\"}}")
        }) { server in
            try await withHTTPClient { http in
                let client = try ECSTaskProtectionClient.fromEnvironment(["ECS_AGENT_URI": server.baseURL + "/api/task-1"], httpClient: http)
                let state = try await client.setProtection(enabled: true, expiresInMinutes: 30)
                #expect(state.protectionEnabled && state.taskArn == "arn:task")
                #expect(state.expirationDate == AWSDate.parseISO8601("2030-01-01T00:30:00Z"))
                #expect(try await client.getProtection() == state)
                await #expect(throws: TaskProtectionError.self) { try await client.setProtection(enabled: true, expiresInMinutes: 0) }
                await #expect(throws: TaskProtectionError.self) { try await client.setProtection(enabled: true, expiresInMinutes: 2_881) }
            }
            #expect(server.requests.first?.header("Content-Type") == "application/json")
        }
    }

    @Test("failure and error answers are typed; 5xx is retried")
    func failures() async throws {
        try await LocalHTTPServer.with({ request, index in
            if request.method == "GET" {
                return .json(200, "{\"failure\":{\"Arn\":\"arn:task\",\"Reason\":\"TASK_NOT_VALID\",\"Detail\":\"not in a service\"}}")
            }
            return index < 3
                ? .json(500, "{\"requestID\":\"r-1\",\"error\":{\"Arn\":\"arn:task\",\"Code\":\"ServerException\",\"Message\":\"Unexpected error occurred\"}}")
                : .json(403, "{\"requestID\":\"r-2\",\"error\":{\"Arn\":\"arn:task\",\"Code\":\"AccessDeniedException\",\"Message\":\"no task role\"}}")
        }) { server in
            try await withHTTPClient { http in
                let client = ECSTaskProtectionClient(agentURI: server.baseURL + "/", httpClient: http)
                await #expect(throws: TaskProtectionError.failure(arn: "arn:task", reason: "TASK_NOT_VALID", detail: "not in a service")) {
                    try await client.getProtection()
                }
                await #expect(
                    throws: TaskProtectionError.error(status: 403, code: "AccessDeniedException", message: "no task role", arn: "arn:task", requestId: "r-2")
                ) {
                    try await client.setProtection(enabled: false)
                }
            }
            #expect(server.requests.filter { $0.method == "PUT" }.count == 3)
        }
        await #expect(throws: TaskProtectionError.notConfigured) {
            try await withHTTPClient { http in _ = try ECSTaskProtectionClient.fromEnvironment([:], httpClient: http) }
        }
    }
}
