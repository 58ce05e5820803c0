import AWSSigner
import Fleet
import Foundation
import NIOHTTP1
import Testing

@testable import AWS

@Suite("XML, errors, events and typed values: bad input gets typed errors")
struct ParsingTests {
    // MARK: s3:// URIs

    @Test("s3:// URIs parse like the AWS CLI's; bad ones are typed errors")
    func s3URIs() throws {
        #expect(try S3URI.parse("s3://raw-videos/lifter 7/squat+1 é.mp4") == S3URI(bucket: "raw-videos", key: "lifter 7/squat+1 é.mp4"))
        for bad in ["", "raw/key", "s3://", "s3://bucket", "s3://bucket/", "s3://b/key", "https://bucket/key", "s3://bad bucket/key"] {
            #expect(throws: AWSClientError.self, "\(bad)") { try S3URI.parse(bad) }
        }
    }

    // MARK: XML

    @Test("XML: well-formed documents parse, namespaces and CDATA included")
    func xmlParses() throws {
        let root = try AWSXML.parse(
            Array(
                """
                <?xml version="1.0" encoding="UTF-8"?>
                <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name>
                <Contents><Key>a &amp; b</Key><Size>3</Size></Contents><Note><![CDATA[<raw>]]></Note></ListBucketResult>
                """.utf8))
        #expect(root.name == "ListBucketResult")
        #expect(root.path("Contents", "Key")?.text == "a & b")
        #expect(root.string("Note") == "<raw>")
    }

    @Test(
        "XML: corrupt, truncated, empty, hostile and huge input are typed errors",
        arguments: [
            "", "   ", "<a>", "<a><b></a>", "not xml at all", "<a></a><b></b>", "<?xml version=\"1.0\"?>",
            "<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;\">]><lolz>&lol2;</lolz>",
            "<!DOCTYPE x SYSTEM \"file:///etc/passwd\"><x>&xxe;</x>",
            String(repeating: "<a>", count: 10_000) + String(repeating: "</a>", count: 10_000),
        ])
    func xmlRejects(_ text: String) {
        #expect(throws: AWSXMLError.self) { try AWSXML.parse(Array(text.utf8)) }
    }

    @Test("XML: non-UTF-8 bytes are rejected")
    func xmlRejectsBinary() {
        #expect(throws: AWSXMLError.self) { try AWSXML.parse([0x3C, 0x61, 0x3E, 0xFF, 0xFE, 0x3C, 0x2F, 0x61, 0x3E]) }
    }

    @Test("XML: a large but legal document parses")
    func xmlLarge() throws {
        let items = (0..<20_000).map { "<Contents><Key>k\($0)</Key><Size>\($0)</Size></Contents>" }.joined()
        let page = try S3Client.parseListPage(Array("<ListBucketResult>\(items)<IsTruncated>false</IsTruncated></ListBucketResult>".utf8))
        #expect(page.objects.count == 20_000)
        #expect(page.objects.last?.key == "k19999")
    }

    @Test("XML writer escapes markup")
    func xmlWriter() throws {
        var writer = XMLWriter()
        writer.element("Root", xmlns: "urn:x") { $0.element("Value", "<a & 'b' \"c\">") }
        let root = try AWSXML.parse(Array(writer.output.utf8))
        #expect(root.string("Value") == "<a & 'b' \"c\">")
    }

    // MARK: S3 list pages

    @Test("ListObjectsV2 pages decode URL-encoded keys and reject inconsistent pages")
    func listPages() throws {
        let page = try S3Client.parseListPage(
            Array(
                """
                <ListBucketResult><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>
                <NextContinuationToken>tok</NextContinuationToken>
                <Contents><Key>a+b%2Bc%25d/%C3%A9</Key><Size>1</Size><LastModified>2024-05-01T10:00:00.000Z</LastModified></Contents>
                <CommonPrefixes><Prefix>dir%20x/</Prefix></CommonPrefixes></ListBucketResult>
                """.utf8))
        #expect(page.objects.first?.key == "a b+c%d/é")
        #expect(page.objects.first?.lastModified == Date(timeIntervalSince1970: 1_714_557_600))
        #expect(page.commonPrefixes == ["dir x/"])
        #expect(page.isTruncated && page.nextContinuationToken == "tok")

        for bad in [
            "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
            "<ListBucketResult><Contents><Key>x</Key></Contents></ListBucketResult>",
            "<ListBucketResult><Contents><Key>x</Key><Size>big</Size></Contents></ListBucketResult>",
            "<Error><Code>X</Code></Error>",
            "<ListBucketResult><EncodingType>url</EncodingType><Contents><Key>%zz</Key><Size>1</Size></Contents></ListBucketResult>",
            "<ListBucketResult><Contents><Key>trunc",
        ] {
            #expect(throws: AWSClientError.self, "\(bad)") { try S3Client.parseListPage(Array(bad.utf8)) }
        }
    }

    // MARK: Error shapes

    func decode(_ status: Int, _ body: String, headers: [(String, String)] = [], service: String = "S3") -> AWSError {
        AWSErrorDecoder.decode(
            service: service, operation: "Op", status: status, headers: HTTPHeaders(headers), body: Array(body.utf8))
    }

    @Test("error shapes: S3 XML, query XML, EC2 XML, JSON __type, x-amzn-ErrorType, HTML, empty")
    func errorShapes() {
        let s3 = decode(
            404, "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>The key does not exist</Message><RequestId>R1</RequestId></Error>")
        #expect(s3.code == .noSuchKey && s3.message == "The key does not exist" && s3.requestId == "R1" && s3.statusCode == 404)

        let query = decode(
            403,
            "<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>bad sig</Message></Error><RequestId>R2</RequestId></ErrorResponse>",
            service: "SNS")
        #expect(query.code == .signatureDoesNotMatch && query.requestId == "R2" && query.service == "SNS")

        let motoQuery = decode(
            403, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch</Code><Message>m</Message><Type>Sender</Type></Error></Errors></ErrorResponse>",
            service: "SQS")
        #expect(motoQuery.code == .signatureDoesNotMatch && motoQuery.message == "m")

        let ec2 = decode(400, "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>slow</Message></Error></Errors><RequestID>R3</RequestID></Response>")
        #expect(ec2.code == "RequestLimitExceeded" && ec2.requestId == "R3" && ec2.isThrottling)

        let json = decode(
            400, "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException\",\"message\":\"The conditional request failed\"}",
            headers: [("x-amzn-RequestId", "R4")], service: "DynamoDB")
        #expect(json.code == .conditionalCheckFailed && json.message == "The conditional request failed" && json.requestId == "R4")

        let sqs = decode(
            400, "{\"__type\":\"com.amazonaws.sqs#QueueDoesNotExist\",\"message\":\"nope\"}",
            headers: [("x-amzn-query-error", "AWS.SimpleQueueService.NonExistentQueue;Sender")], service: "SQS")
        #expect(sqs.code == .queueDoesNotExist && sqs.queryErrorCode == .nonExistentQueue && sqs.isQueueDoesNotExist)

        let header = decode(400, "{}", headers: [("x-amzn-ErrorType", "ValidationException:http://internal.amazon.com/coral/")])
        #expect(header.code == "ValidationException")

        let capitalMessage = decode(400, "{\"code\":\"Throttling\",\"Message\":\"Rate exceeded\"}")
        #expect(capitalMessage.code == .throttling && capitalMessage.message == "Rate exceeded" && capitalMessage.isThrottling)

        let html = decode(502, "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>")
        #expect(html.code == "BadGateway" && html.statusCode == 502)
        #expect(html.rawBodyPrefix?.contains("Bad Gateway") == true)
        #expect(html.description.contains("HTTP 502"))

        let empty = decode(404, "")
        #expect(empty.code == .notFound && empty.rawBodyPrefix == nil)

        let garbage = decode(500, "\u{0}\u{1}garbage{")
        #expect(garbage.code == .internalError)

        let truncatedJSON = decode(400, "{\"__type\":\"Thrott")
        #expect(truncatedJSON.code == "BadRequest")

        let throttled429 = decode(429, "")
        #expect(throttled429.isThrottling)
    }

    // MARK: S3 events

    @Test("S3 events: real S3 shape (Z, '+' for spaces, %2B for plus)")
    func s3EventReal() throws {
        let body = """
            {"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"eu-west-1","eventTime":"2024-05-01T10:00:00.123Z",
            "eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"raw"},"object":{"key":"uploads/my+lift%2B1+%C3%A9.mp4","size":1024,"eTag":"abc","sequencer":"0A"}}}]}
            """
        guard case .records(let records) = try S3EventNotification.parse(body) else {
            Issue.record("expected records")
            return
        }
        #expect(records.count == 1)
        #expect(records[0].key == "uploads/my lift+1 é.mp4")
        #expect(records[0].eventTime == Date(timeIntervalSince1970: 1_714_557_600.123))
        #expect(records[0].size == 1024 && records[0].bucket == "raw" && records[0].isObjectCreated)
    }

    @Test("S3 events: moto's shape (no zone on eventTime, '/' as %2F)")
    func s3EventMoto() throws {
        let body = """
            {"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventTime":"2024-05-01T10:00:00.000",
            "eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"raw","arn":"arn:aws:s3:::raw"},"object":{"key":"uploads%2Fa%20b.mp4","size":5}}}]}
            """
        guard case .records(let records) = try S3EventNotification.parse(body) else {
            Issue.record("expected records")
            return
        }
        #expect(records[0].key == "uploads/a b.mp4")
        #expect(records[0].eventTime == Date(timeIntervalSince1970: 1_714_557_600))
    }

    @Test("S3 events: test event and SNS envelope")
    func s3EventVariants() throws {
        #expect(
            try S3EventNotification.parse("{\"Service\":\"Amazon S3\",\"Event\":\"s3:TestEvent\",\"Bucket\":\"raw\"}")
                == .testEvent(bucket: "raw"))
        let inner = "{\"Records\":[{\"eventName\":\"ObjectCreated:Put\",\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"k\"}}}]}"
        let envelope = try JSONSerialization.data(withJSONObject: ["Type": "Notification", "Message": inner])
        guard case .records(let records) = try S3EventNotification.parse(String(decoding: envelope, as: UTF8.self)) else {
            Issue.record("expected records")
            return
        }
        #expect(records.first?.key == "k" && records.first?.size == nil)
    }

    @Test(
        "S3 events: corrupt input is a typed error",
        arguments: [
            "", "{", "[]", "null", "{\"Records\":5}", "{\"Records\":[1]}", "{\"Records\":[{}]}",
            "{\"Records\":[{\"eventName\":\"X\",\"s3\":{\"bucket\":{},\"object\":{\"key\":\"k\"}}}]}",
            "{\"Records\":[{\"eventName\":\"X\",\"eventTime\":\"yesterday\",\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"k\"}}}]}",
            "{\"Records\":[{\"eventName\":\"X\",\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"%zz\"}}}]}",
            "{\"Type\":\"Notification\",\"Message\":\"not json\"}",
        ])
    func s3EventCorrupt(_ body: String) {
        #expect(throws: S3EventParseError.self) { try S3EventNotification.parse(body) }
    }

    @Test("S3 events: huge bodies are refused before parsing")
    func s3EventHuge() {
        let huge = "{\"Records\":[" + String(repeating: " ", count: 2 << 20) + "]}"
        #expect(throws: S3EventParseError.self) { try S3EventNotification.parse(huge) }
    }

    // MARK: Dates

    @Test("ISO 8601 dates: with and without zone, fractions, offsets; garbage rejected")
    func isoDates() {
        let base = Date(timeIntervalSince1970: 1_714_557_600)
        #expect(AWSDate.parseISO8601("2024-05-01T10:00:00Z") == base)
        #expect(AWSDate.parseISO8601("2024-05-01T10:00:00") == base)
        #expect(AWSDate.parseISO8601("2024-05-01T12:00:00+02:00") == base)
        #expect(AWSDate.parseISO8601("2024-05-01T05:30:00-0430") == base)
        #expect(AWSDate.parseISO8601("2024-05-01T10:00:00.5Z") == base.addingTimeInterval(0.5))
        #expect(AWSDate.parseISO8601("2024-05-01") == Date(timeIntervalSince1970: 1_714_521_600))
        for bad in ["", "2024", "2024-13-01T00:00:00Z", "2024-05-01T25:00:00Z", "2024-05-01T10:00:00Q", "2024-05-01T10:00:00.Z", "yesterday"] {
            #expect(AWSDate.parseISO8601(bad) == nil, "\(bad)")
        }
        #expect(AWSDate.formatISO8601(base.addingTimeInterval(0.25)) == "2024-05-01T10:00:00.250Z")
        #expect(AWSDate.parseHTTPDate("Wed, 01 May 2024 10:00:00 GMT") == base)
        #expect(AWSDate.parseHTTPDate("garbage") == nil)
    }

    // MARK: DynamoDB values

    @Test("DynamoDB attribute values round-trip through JSON with their wire types")
    func attributeValues() throws {
        let item: DynamoDBItem = [
            "s": "text", "n": 42, "f": try .number(1.5), "t": true, "z": nil, "list": ["a", 1, ["nested": false]],
            "bin": .b(Data([0, 1, 2])), "ss": .ss(["x", "y"]), "ns": .ns(["1", "2"]),
        ]
        let data = try JSONEncoder().encode(item)
        let json = try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect((json["n"] as? [String: String])?["N"] == "42")
        #expect((json["z"] as? [String: Bool])?["NULL"] == true)
        #expect((json["bin"] as? [String: String])?["B"] == "AAEC")
        let back = try JSONDecoder().decode(DynamoDBItem.self, from: data)
        #expect(back == item)
        #expect(back["n"]?.intValue == 42 && back["f"]?.doubleValue == 1.5 && back["t"]?.boolValue == true)
        #expect(back["list"]?.listValue?.count == 3 && back["z"]?.isNull == true)
    }

    @Test(
        "DynamoDB attribute values: malformed JSON is a decoding error",
        arguments: [
            "{}", "{\"S\":\"a\",\"N\":\"1\"}", "{\"N\":\"one\"}", "{\"X\":1}", "{\"NULL\":false}", "{\"B\":\"***\"}",
            "{\"S\":5}", "{\"M\":{\"a\":{}}}", "[]",
        ])
    func attributeValuesMalformed(_ text: String) {
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(DynamoDBAttributeValue.self, from: Data(text.utf8)) }
    }

    @Test("DynamoDB numbers must be finite")
    func attributeNumbers() {
        #expect(throws: AWSClientError.self) { try DynamoDBAttributeValue.number(Double.nan) }
        #expect(throws: AWSClientError.self) { try DynamoDBAttributeValue.number(Double.infinity) }
    }

    // MARK: SQS checksums

    @Test("SQS message-attribute MD5 follows the documented algorithm")
    func sqsAttributesMD5() {
        // Expected digests computed with moto's independent implementation (moto.sqs.models.Message).
        #expect(SQSClient.md5Hex(Array("hello".utf8)) == "5d41402abc4b2a76b9719d911017c592")
        #expect(
            SQSClient.attributesMD5(["kind": .string("coach"), "n": .number("3"), "b": .binary(Data([1, 2]))])
                == "af55424bfb938c0eee905057972d2283")
        #expect(SQSClient.attributesMD5(["kind": .string("coach")]) == "0572fde6b7aacc50ecaab828ac98cf4a")
        #expect(SQSClient.attributesMD5(["a": .string("1"), "b": .string("2")]) == SQSClient.attributesMD5(["b": .string("2"), "a": .string("1")]))
    }

    @Test("SQS inputs are validated before anything is sent")
    func sqsValidation() {
        #expect(throws: AWSClientError.self) { try SQSClient.validate(body: "", attributes: [:], delaySeconds: nil) }
        #expect(throws: AWSClientError.self) { try SQSClient.validate(body: "a\u{0}b", attributes: [:], delaySeconds: nil) }
        #expect(throws: AWSClientError.self) { try SQSClient.validate(body: String(repeating: "x", count: 262_145), attributes: [:], delaySeconds: nil) }
        #expect(throws: AWSClientError.self) { try SQSClient.validate(body: "ok", attributes: ["AWS.x": .string("1")], delaySeconds: nil) }
        #expect(throws: AWSClientError.self) { try SQSClient.validate(body: "ok", attributes: [:], delaySeconds: 901) }
        #expect(throws: AWSClientError.self) { try SQSClient.validateBatch(ids: []) }
        #expect(throws: AWSClientError.self) { try SQSClient.validateBatch(ids: ["a", "a"]) }
        #expect(throws: AWSClientError.self) { try SQSClient.validateBatch(ids: (0..<11).map(String.init)) }
        #expect(throws: AWSClientError.self) { try SQSClient.validateBatch(ids: ["has space"]) }
        #expect(throws: Never.self) { try SQSClient.validate(body: "ok ✓ 🏋️", attributes: ["kind": .string("x")], delaySeconds: 0) }
    }

    // MARK: EMF

    @Test("EMF records are valid single-line JSON with the metric directive")
    func emf() throws {
        let record = EMFRecord(
            namespace: "refvision", dimensions: ["Service": "worker", "Stage": "prod"],
            metrics: [.init(name: "JudgeLatency", value: 12.5, unit: .milliseconds), .init(name: "Frames", values: [1, 2, 3], unit: .count)],
            properties: ["jobId": .string("j-1"), "ok": .bool(true)], timestamp: Date(timeIntervalSince1970: 1_700_000_000.123))
        let line = try record.jsonLine()
        #expect(!line.contains("\n"))
        let json = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let aws = try #require(json["_aws"] as? [String: Any])
        #expect((aws["Timestamp"] as? NSNumber)?.int64Value == 1_700_000_000_123)
        let directive = try #require((aws["CloudWatchMetrics"] as? [[String: Any]])?.first)
        #expect(directive["Namespace"] as? String == "refvision")
        #expect(directive["Dimensions"] as? [[String]] == [["Service", "Stage"]])
        #expect((directive["Metrics"] as? [[String: Any]])?.count == 2)
        #expect((json["JudgeLatency"] as? NSNumber)?.doubleValue == 12.5)
        #expect(json["Service"] as? String == "worker" && json["jobId"] as? String == "j-1")

        let lines = LineCollector()
        try EMFWriter(sink: { lines.append($0) }).write(record)
        #expect(lines.lines == [line])
    }

    @Test("EMF rejects what CloudWatch would drop")
    func emfInvalid() {
        let metric = EMFRecord.Metric(name: "m", value: 1)
        let bad: [EMFRecord] = [
            EMFRecord(namespace: "", metrics: [metric]),
            EMFRecord(namespace: "n", metrics: []),
            EMFRecord(namespace: "n", metrics: [.init(name: "m", value: .nan)]),
            EMFRecord(namespace: "n", metrics: [.init(name: "m", values: Array(repeating: 1, count: 101))]),
            EMFRecord(namespace: "n", dimensions: ["m": "x"], metrics: [metric]),
            EMFRecord(namespace: "n", metrics: [metric], properties: ["_aws": .string("x")]),
            EMFRecord(namespace: "n", dimensions: ["a": "1"], dimensionSets: [["b"]], metrics: [metric]),
            EMFRecord(namespace: "n", metrics: Array(repeating: metric, count: 2)),
        ]
        for record in bad {
            #expect(throws: AWSClientError.self) { try record.jsonLine() }
        }
    }

    // MARK: ECS task protection shapes

    @Test("task protection: success, failure and error documents")
    func taskProtectionShapes() throws {
        let ok = try ECSTaskProtectionClient.decode(
            status: 200,
            body: Array(
                "{\"protection\":{\"ExpirationDate\":\"2023-12-20T21:57:44.837Z\",\"ProtectionEnabled\":true,\"TaskArn\":\"arn:aws:ecs:us-east-1:1:task/c/t\"}}".utf8))
        #expect(ok.protectionEnabled && ok.taskArn == "arn:aws:ecs:us-east-1:1:task/c/t")
        #expect(ok.expirationDate == AWSDate.parseISO8601("2023-12-20T21:57:44.837Z"))

        #expect(throws: TaskProtectionError.failure(arn: "arn:t", reason: "TASK_NOT_VALID", detail: nil)) {
            try ECSTaskProtectionClient.decode(status: 200, body: Array("{\"failure\":{\"Arn\":\"arn:t\",\"Reason\":\"TASK_NOT_VALID\",\"Detail\":null}}".utf8))
        }
        #expect(
            throws: TaskProtectionError.error(status: 403, code: "AccessDeniedException", message: "no creds", arn: "arn:t", requestId: "req-1")
        ) {
            try ECSTaskProtectionClient.decode(
                status: 403,
                body: Array("{\"requestID\":\"req-1\",\"error\":{\"Arn\":\"arn:t\",\"Code\":\"AccessDeniedException\",\"Message\":\"no creds\"}}".utf8))
        }
        for garbage in ["", "<html>", "{}", "{\"protection\":{}}", "{\"protection\":{\"ProtectionEnabled\":true,\"ExpirationDate\":\"soon\"}}", "[1]"] {
            #expect(throws: TaskProtectionError.self, "\(garbage)") { try ECSTaskProtectionClient.decode(status: 200, body: Array(garbage.utf8)) }
        }
        #expect(throws: TaskProtectionError.self) { try ECSTaskProtectionClient.decode(status: 500, body: Array("{}".utf8)) }
    }
}

final class LineCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    func append(_ line: String) {
        lock.lock()
        stored.append(line)
        lock.unlock()
    }
    var lines: [String] {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}
