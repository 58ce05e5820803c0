import AWSSigner
import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
import TestSupport

@testable import AWS

/// moto checks signatures only once an IAM user exists and `POST /moto-api/reset-auth` was sent with body
/// `0`. That mode is global to the moto process, so this suite starts a moto_server of its own on a free
/// port and stops it at the end; the shared moto other suites use is never switched into auth mode.
@Suite(
    "Signatures verified by moto in auth mode (private moto_server)",
    .enabled(if: ProcessInfo.processInfo.environment["REFVISION_TEST_MOTO"] != nil, "needs moto_server: set REFVISION_TEST_MOTO"))
struct SignatureVerificationTests {
    /// A raw IAM/STS query call signed with the standalone signer (we have no IAM client).
    static func rawQuery(
        http: HTTPClient, endpoint: String, service: String, credentials: AWSCredentials, parameters: [(String, String)]
    ) async throws -> AWSXMLNode {
        let body = AWSURIEncoding.formEncode(parameters)
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: service)
        let headers = try signer.signHeaders(
            method: "POST", url: endpoint + "/", headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
            payload: .bytes(Array(body.utf8)))
        var request = HTTPClientRequest(url: endpoint + "/")
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(Array(body.utf8))
        let response = try await http.execute(request, timeout: .seconds(10))
        let bytes = Array(buffer: try await response.body.collect(upTo: 1 << 20))
        guard response.status == .ok else {
            throw AWSErrorDecoder.decode(service: service, operation: parameters.first?.1 ?? "", status: Int(response.status.code), headers: response.headers, body: bytes)
        }
        return try AWSXML.parse(bytes)
    }

    /// Creates an admin IAM user in the private moto and returns its key pair.
    static func createUser(http: HTTPClient, endpoint: String) async throws -> AWSCredentials {
        let bootstrap = AWSCredentials(accessKeyId: "bootstrap", secretAccessKey: "bootstrap")
        _ = try await rawQuery(
            http: http, endpoint: endpoint, service: "iam", credentials: bootstrap,
            parameters: [("Action", "CreateUser"), ("Version", "2010-05-08"), ("UserName", "refvision-test")])
        _ = try await rawQuery(
            http: http, endpoint: endpoint, service: "iam", credentials: bootstrap,
            parameters: [
                ("Action", "PutUserPolicy"), ("Version", "2010-05-08"), ("UserName", "refvision-test"), ("PolicyName", "all"),
                ("PolicyDocument", "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}"),
            ])
        let created = try await rawQuery(
            http: http, endpoint: endpoint, service: "iam", credentials: bootstrap,
            parameters: [("Action", "CreateAccessKey"), ("Version", "2010-05-08"), ("UserName", "refvision-test")])
        guard let key = created.path("CreateAccessKeyResult", "AccessKey"), let id = key.string("AccessKeyId"),
            let secret = key.string("SecretAccessKey")
        else { throw AWSClientError.malformedResponse(service: "IAM", operation: "CreateAccessKey", reason: "no key") }
        return AWSCredentials(accessKeyId: id, secretAccessKey: secret)
    }

    static func enableAuth(http: HTTPClient, endpoint: String) async throws {
        var request = HTTPClientRequest(url: endpoint + "/moto-api/reset-auth")
        request.method = .POST
        request.body = .bytes(Array("0".utf8))
        let response = try await http.execute(request, timeout: .seconds(10))
        _ = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok else { throw Moto.MotoError.didNotStart("reset-auth answered \(response.status)") }
    }

    @Test("the right key works for every service and protocol; a wrong secret is SignatureDoesNotMatch everywhere")
    func signatures() async throws {
        let moto = try await PrivateMotoServer.start()
        defer { moto.stop() }
        let credentials = try await withHTTPClient { http in
            let credentials = try await Self.createUser(http: http, endpoint: moto.endpoint)
            try await Self.enableAuth(http: http, endpoint: moto.endpoint)
            return credentials
        }

        // Right key: S3 (REST-XML, odd keys, streamed UNSIGNED-PAYLOAD body, multipart), SQS and DynamoDB
        // (JSON), SNS and CloudWatch (query).
        try await withAWSClient(try Moto.client(endpoint: moto.endpoint, credentials: credentials)) { client in
            var s3 = S3Client(client: client)
            let bucket = Moto.unique("signed")
            try await s3.createBucket(bucket)
            let directory = try TemporaryDirectory()
            let file = try directory.randomFile("f.bin", size: 70_000)
            // moto re-quotes the path before verifying, so only keys whose encoding it reproduces can be
            // checked here (boto3 fails the same way on '+', '%', '*', '!', non-ASCII, ...). Odd keys are
            // checked against botocore directly in "S3 signatures for odd keys match botocore".
            for key in ["a b/c.bin", "dir/sub/tilde~file_1-2.bin", "x"] {
                try await s3.putObject(bucket: bucket, key: key, file: file)
                try await s3.getObject(bucket: bucket, key: key, to: directory.file("back"), range: .bytes(0, 99))
                _ = try await s3.headObject(bucket: bucket, key: key)
            }
            #expect(try await s3.listAllObjects(bucket: bucket, prefix: "a b").map(\.key) == ["a b/c.bin"])
            s3.multipartThreshold = 5 << 20
            s3.partSize = 5 << 20
            let big = try directory.randomFile("big.bin", size: (6 << 20) + 5)
            try await s3.uploadFile(bucket: bucket, key: "big file.bin", file: big)
            #expect(try await s3.headObject(bucket: bucket, key: "big file.bin").contentLength == Int64((6 << 20) + 5))

            let sqs = SQSClient(client: client)
            let queue = try await sqs.createQueue(name: Moto.unique("signed"))
            try await sqs.sendMessage(queueURL: queue, body: "signed ✓", attributes: ["k": .string("v")])
            #expect(try await sqs.receiveMessages(queueURL: queue, waitTimeSeconds: 1).map(\.body) == ["signed ✓"])

            let sns = SNSClient(client: client)
            let topic = try await sns.createTopic(name: Moto.unique("signed"))
            try await sns.publish(topicArn: topic, message: "signed & sealed", subject: "Subject: with spaces/slashes", attributes: ["a": .string("b c")])

            let db = DynamoDBClient(client: client)
            let table = Moto.unique("signed")
            try await db.createTable(name: table, partitionKey: DynamoDBKey("pk", .string))
            try await db.putItem(table: table, item: ["pk": "é ✓", "v": 1])
            #expect(try await db.getItem(table: table, key: ["pk": "é ✓"])?["v"]?.intValue == 1)

            try await CloudWatchClient(client: client).putMetricData(
                namespace: "refvision/signed", data: [CloudWatchDatum(name: "Ok", value: 1, unit: .count, dimensions: [("A", "b c")])])
        }

        // Wrong secret: every protocol answers 403 SignatureDoesNotMatch, decoded into AWSError.
        let wrong = AWSCredentials(accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey + "x")
        try await withAWSClient(try Moto.client(endpoint: moto.endpoint, credentials: wrong)) { client in
            func expectSignatureError(_ service: String, _ operation: () async throws -> Void) async {
                let error = await #expect(throws: AWSError.self, "\(service)") { try await operation() }
                #expect(error?.code == .signatureDoesNotMatch, "\(service): \(String(describing: error))")
                #expect(error?.statusCode == 403, "\(service)")
                #expect(error?.service == service)
            }
            await expectSignatureError("S3") { _ = try await S3Client(client: client).listObjectsV2(bucket: "any-bucket") }
            await expectSignatureError("S3") {
                try await S3Client(client: client).putObject(bucket: "any-bucket", key: "k", bytes: [1, 2, 3])
            }
            await expectSignatureError("SQS") { _ = try await SQSClient(client: client).getQueueURL(queueName: "anything") }
            await expectSignatureError("SNS") { _ = try await SNSClient(client: client).createTopic(name: "anything") }
            await expectSignatureError("DynamoDB") { _ = try await DynamoDBClient(client: client).describeTableStatus(name: "anything") }
            await expectSignatureError("CloudWatch") { _ = try await CloudWatchClient(client: client).listMetrics(namespace: "x") }
        }
    }
}
