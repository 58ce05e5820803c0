import AWSSigner
import Foundation
import Testing

@testable import AWS

/// botocore (installed with boto3) as an independent oracle for what moto cannot check: moto re-quotes S3
/// paths before verifying, so keys with `+`, `%`, `*`, `!`, non-ASCII... fail there even for boto3.
enum Botocore {
    static let available: Bool = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import botocore"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()

    /// Runs `script` with `input` on stdin and returns stdout.
    static func run(_ script: String, input: Data) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        stdin.fileHandleForWriting.write(input)
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return output
    }

    /// For each request: botocore's signature (computed the way moto does, from the signed headers and
    /// the x-amz-date), and for S3 keys botocore's URL encoding of the key.
    static let script = #"""
        import json, sys, base64
        from botocore.auth import SigV4Auth, S3SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        from botocore.utils import percent_encode
        out = []
        for case in json.load(sys.stdin):
            creds = Credentials(case["key"], case["secret"], case.get("token"))
            headers = dict(case["headers"])
            body = base64.b64decode(case["body"])
            req = AWSRequest(method=case["method"], url=case["url"], data=body, headers=headers)
            req.context["timestamp"] = headers["x-amz-date"]
            cls = S3SigV4Auth if case["service"] == "s3" else SigV4Auth
            auth = cls(creds, case["service"], case["region"])
            sts = auth.string_to_sign(req, auth.canonical_request(req))
            out.append({"signature": auth.signature(sts, req),
                        "encodedKey": percent_encode(case.get("s3key", ""), safe="/~")})
        json.dump(out, sys.stdout)
        """#
}

@Suite("Cross-checked against botocore", .enabled(if: Botocore.available, "needs python3 with botocore (pip install boto3)"))
struct BotocoreCrossCheckTests {
    struct Case {
        var service: String
        var method: String
        var url: String
        var headers: [(String, String)]
        var body: [UInt8]
        var payload: SigV4Signer.Payload
        var s3Key: String?
    }

    static let oddKeys = [
        "plain.txt", "with space.mp4", "plus+sign", "percent%25literal%", "dir/sub/file.bin", "unicode/é日本語✓.mov",
        "emoji 🏋️ lift", "a+b c%2Fd", "trailing/", "quote'\"&<>", "tilde~and*star(paren)!", "semi;colon,comma=eq@at$",
        "//double//slash", "question?hash#", "tab\tnewline\n",
    ]

    @Test("S3 keys are URL-encoded as botocore does and their signatures (with session token) match botocore")
    func s3OddKeys() async throws {
        let credentials = AWSCredentials(accessKeyId: "AKIDTEST", secretAccessKey: "secret/with+chars", sessionToken: "session token+/=")
        let client = AWSClient(
            configuration: try .local(endpoint: "http://127.0.0.1:5599"), credentialProvider: StaticCredentialProvider(credentials))
        var cases: [Case] = []
        try await withAWSClient(client) { client in
            let s3 = S3Client(client: client)
            for key in Self.oddKeys {
                let (endpoint, path) = try s3.location(bucket: "bucket", key: key)
                let url = "\(endpoint.scheme)://\(endpoint.hostHeader)\(path)"
                cases.append(Case(service: "s3", method: "PUT", url: url, headers: [("Content-Type", "video/mp4"), ("x-amz-meta-owner", "a  b")], body: [], payload: .unsigned, s3Key: key))
                cases.append(Case(service: "s3", method: "GET", url: url + "?partNumber=1&versionId=a%2Bb%20c", headers: [("Range", "bytes=0-9")], body: [], payload: .empty, s3Key: key))
            }
        }
        let listQuery = "?list-type=2&prefix=a%20b%2Bc%2F%C3%A9&continuation-token=abc%3D%3D&encoding-type=url"
        cases.append(Case(service: "s3", method: "GET", url: "http://127.0.0.1:5599/bucket" + listQuery, headers: [], body: [], payload: .empty))
        let sqsBody = Array("{\"QueueUrl\":\"http://x/1/q\",\"MessageBody\":\"é & ✓\"}".utf8)
        cases.append(Case(service: "sqs", method: "POST", url: "https://sqs.eu-west-1.amazonaws.com/", headers: [("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", "AmazonSQS.SendMessage")], body: sqsBody, payload: .bytes(sqsBody)))
        let form = Array(AWSURIEncoding.formEncode([("Action", "Publish"), ("Version", "2010-03-31"), ("Subject", "a b/c"), ("Message", "é & ✓")]).utf8)
        cases.append(Case(service: "sns", method: "POST", url: "https://sns.eu-west-1.amazonaws.com/", headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")], body: form, payload: .bytes(form)))
        cases.append(Case(service: "monitoring", method: "POST", url: "https://monitoring.eu-west-1.amazonaws.com/a%20b/../c/./d", headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")], body: form, payload: .bytes(form)))

        let date = Date(timeIntervalSince1970: 1_700_000_000)
        var expected: [String] = []
        var input: [[String: Any]] = []
        for item in cases {
            let signer = SigV4Signer(credentials: credentials, region: "eu-west-1", service: item.service)
            let signed = try signer.signHeaders(method: item.method, url: item.url, headers: item.headers, payload: item.payload, date: date)
            let authorization = try #require(signed.first { $0.0 == "authorization" }?.1)
            expected.append(String(authorization.split(separator: "=").last ?? ""))
            var object: [String: Any] = [
                "service": item.service, "method": item.method, "url": item.url, "region": "eu-west-1",
                "key": credentials.accessKeyId, "secret": credentials.secretAccessKey, "token": credentials.sessionToken ?? "",
                "headers": signed.filter { $0.0 != "authorization" }.map { [$0.0, $0.1] },
                "body": Data(item.body).base64EncodedString(),
            ]
            if let key = item.s3Key { object["s3key"] = key }
            input.append(object)
        }
        let output = try Botocore.run(Botocore.script, input: try JSONSerialization.data(withJSONObject: input))
        let results = try #require(try JSONSerialization.jsonObject(with: output) as? [[String: String]], "botocore output: \(String(decoding: output, as: UTF8.self))")
        #expect(results.count == cases.count)
        for (index, result) in results.enumerated() {
            #expect(result["signature"] == expected[index], "\(cases[index].method) \(cases[index].url)")
            if let key = cases[index].s3Key {
                let encoded = try #require(result["encodedKey"])
                #expect(cases[index].url.hasSuffix("/bucket/" + encoded) || cases[index].url.contains("/bucket/" + encoded + "?"), "\(key)")
            }
        }
    }
}
