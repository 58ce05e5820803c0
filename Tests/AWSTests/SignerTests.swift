import AWSSigner
import Foundation
import Testing

/// AWS's published SigV4 worked examples, reproduced exactly.
@Suite("SigV4 signer")
struct SignerTests {
    // The S3 API Reference examples ("Signature Calculations for the Authorization Header" and
    // "Authenticating Requests: Using Query Parameters").
    static let s3Credentials = AWSCredentials(
        accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    static let s3Date = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z
    // The SigV4 test suite / IAM guide examples.
    static let suiteCredentials = AWSCredentials(
        accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let suiteDate = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z

    static func signature(_ headers: [(String, String)]) -> String? {
        guard let auth = headers.first(where: { $0.0 == "authorization" })?.1,
            let range = auth.range(of: "Signature=")
        else { return nil }
        return String(auth[range.upperBound...])
    }

    static func signedHeaders(_ headers: [(String, String)]) -> String? {
        guard let auth = headers.first(where: { $0.0 == "authorization" })?.1,
            let start = auth.range(of: "SignedHeaders="), let end = auth.range(of: ", Signature=")
        else { return nil }
        return String(auth[start.upperBound..<end.lowerBound])
    }

    let s3 = SigV4Signer(credentials: SignerTests.s3Credentials, region: "us-east-1", service: "s3")

    @Test("S3 GET Object example (Range: bytes=0-9)")
    func s3GetObject() throws {
        let headers = try s3.signHeaders(
            method: "GET", url: "https://examplebucket.s3.amazonaws.com/test.txt", headers: [("Range", "bytes=0-9")],
            payload: .empty, date: Self.s3Date)
        #expect(Self.signature(headers) == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(Self.signedHeaders(headers) == "host;range;x-amz-content-sha256;x-amz-date")
        let auth = try #require(headers.first { $0.0 == "authorization" }?.1)
        #expect(auth.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "))
        #expect(headers.contains { $0.0 == "x-amz-date" && $0.1 == "20130524T000000Z" })
        #expect(headers.contains { $0.0 == "x-amz-content-sha256" && $0.1 == SigV4Signer.emptyPayloadHash })
    }

    @Test("S3 GET Object example: canonical request as documented")
    func s3GetObjectCanonicalRequest() {
        let (canonicalHeaders, signed) = SigV4Signer.canonicalHeaders([
            ("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9"),
            ("x-amz-content-sha256", SigV4Signer.emptyPayloadHash), ("x-amz-date", "20130524T000000Z"),
        ])
        let request = s3.canonicalRequest(
            method: "GET", path: "/test.txt", canonicalQuery: "", canonicalHeaders: canonicalHeaders,
            signedHeaders: signed, payloadHash: SigV4Signer.emptyPayloadHash)
        #expect(
            request == """
                GET
                /test.txt

                host:examplebucket.s3.amazonaws.com
                range:bytes=0-9
                x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                x-amz-date:20130524T000000Z

                host;range;x-amz-content-sha256;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """)
    }

    @Test("S3 PUT Object example (signed payload, reserved character in the key)")
    func s3PutObject() throws {
        let body = Array("Welcome to Amazon S3.".utf8)
        #expect(SigV4Signer.hexSHA256(body) == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        let headers = try s3.signHeaders(
            method: "PUT", url: "https://examplebucket.s3.amazonaws.com/test%24file.text",
            headers: [("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY")],
            payload: .bytes(body), date: Self.s3Date)
        #expect(Self.signature(headers) == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
        #expect(Self.signedHeaders(headers) == "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class")
        // `$` unescaped in the URL signs the same (S3 canonical URI is encoded once, strictly).
        let unescaped = try s3.signHeaders(
            method: "PUT", url: "https://examplebucket.s3.amazonaws.com/test$file.text",
            headers: [("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY")],
            payload: .sha256("44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"), date: Self.s3Date)
        #expect(Self.signature(unescaped) == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
    }

    @Test("S3 GET Bucket Lifecycle example (query parameter without value)")
    func s3Lifecycle() throws {
        let headers = try s3.signHeaders(
            method: "GET", url: "https://examplebucket.s3.amazonaws.com/?lifecycle", date: Self.s3Date)
        #expect(Self.signature(headers) == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
    }

    @Test("S3 GET Bucket (List Objects) example, query given out of order")
    func s3ListObjects() throws {
        let headers = try s3.signHeaders(
            method: "GET", url: "https://examplebucket.s3.amazonaws.com/?prefix=J&max-keys=2", date: Self.s3Date)
        #expect(Self.signature(headers) == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    @Test("S3 presigned URL example")
    func s3Presign() throws {
        let presigned = try s3.presign(
            url: "https://examplebucket.s3.amazonaws.com/test.txt", expires: 86_400, date: Self.s3Date)
        #expect(
            presigned.url
                == "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
        )
        #expect(presigned.expiresIn == 86_400)
        #expect(presigned.warnings.isEmpty)
        #expect(presigned.expiresAt == Self.s3Date.addingTimeInterval(86_400))
    }

    @Test("S3 presigned URL example: the documented string to sign")
    func s3PresignStringToSign() throws {
        let (canonicalHeaders, signed) = SigV4Signer.canonicalHeaders([("host", "examplebucket.s3.amazonaws.com")])
        let query = SigV4Signer.canonicalQuery([
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"),
            ("X-Amz-Date", "20130524T000000Z"), ("X-Amz-Expires", "86400"), ("X-Amz-SignedHeaders", "host"),
        ])
        let request = s3.canonicalRequest(
            method: "GET", path: "/test.txt", canonicalQuery: query, canonicalHeaders: canonicalHeaders,
            signedHeaders: signed, payloadHash: "UNSIGNED-PAYLOAD")
        #expect(
            s3.stringToSign(canonicalRequest: request, date: Self.s3Date)
                == "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04"
        )
    }

    @Test(
        "SigV4 test suite and IAM guide vectors",
        arguments: [
            ("GET", "https://example.amazonaws.com/", "service", [(String, String)](), "host;x-amz-date",
             "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
            ("GET", "https://example.amazonaws.com/?Param2=value2&Param1=value1", "service", [], "host;x-amz-date",
             "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
            ("POST", "https://example.amazonaws.com/", "service", [], "host;x-amz-date",
             "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
            ("GET", "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08", "iam",
             [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")], "content-type;host;x-amz-date",
             "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"),
        ])
    func suiteVectors(
        method: String, url: String, service: String, headers: [(String, String)], signed: String, expected: String
    ) throws {
        let signer = SigV4Signer(credentials: Self.suiteCredentials, region: "us-east-1", service: service)
        let out = try signer.signHeaders(method: method, url: url, headers: headers, date: Self.suiteDate)
        #expect(Self.signature(out) == expected)
        #expect(Self.signedHeaders(out) == signed)
        #expect(!out.contains { $0.0 == "x-amz-content-sha256" }, "only S3 sends x-amz-content-sha256")
    }

    @Test("presign expiry is clamped to 7 days, with a warning")
    func presignClampSevenDays() throws {
        let presigned = try s3.presign(url: "https://b.s3.amazonaws.com/k", expires: 30 * 86_400, date: Self.s3Date)
        #expect(presigned.expiresIn == 604_800)
        #expect(presigned.url.contains("X-Amz-Expires=604800"))
        #expect(presigned.warnings.count == 1)
    }

    @Test("presign expiry is clamped to the credentials' own expiry, and expired credentials are refused")
    func presignClampCredentials() throws {
        let temporary = AWSCredentials(
            accessKeyId: "ASIAEXAMPLE", secretAccessKey: "secret", sessionToken: "token/with+chars=",
            expiration: Self.s3Date.addingTimeInterval(900))
        let signer = SigV4Signer(credentials: temporary, region: "eu-west-1", service: "s3")
        let presigned = try signer.presign(url: "https://b.s3.amazonaws.com/k", expires: 3_600, date: Self.s3Date)
        #expect(presigned.expiresIn == 900)
        #expect(presigned.warnings.count == 1)
        #expect(presigned.url.contains("X-Amz-Security-Token=token%2Fwith%2Bchars%3D"))
        #expect(presigned.url.contains("X-Amz-Expires=900"))

        #expect(throws: SigV4Error.credentialsExpired(temporary.expiration!)) {
            try signer.presign(url: "https://b.s3.amazonaws.com/k", expires: 60, date: Self.s3Date.addingTimeInterval(901))
        }
        #expect(throws: SigV4Error.invalidExpiry(0)) {
            try signer.presign(url: "https://b.s3.amazonaws.com/k", expires: 0, date: Self.s3Date)
        }
    }

    @Test("session tokens are sent and signed")
    func sessionToken() throws {
        let temporary = AWSCredentials(accessKeyId: "ASIA", secretAccessKey: "s", sessionToken: "TOKEN")
        let signer = SigV4Signer(credentials: temporary, region: "us-east-1", service: "sqs")
        let headers = try signer.signHeaders(method: "POST", url: "https://sqs.us-east-1.amazonaws.com/", date: Self.suiteDate)
        #expect(headers.contains { $0.0 == "x-amz-security-token" && $0.1 == "TOKEN" })
        #expect(Self.signedHeaders(headers) == "host;x-amz-date;x-amz-security-token")
        let withoutToken = try SigV4Signer(
            credentials: AWSCredentials(accessKeyId: "ASIA", secretAccessKey: "s"), region: "us-east-1", service: "sqs"
        ).signHeaders(method: "POST", url: "https://sqs.us-east-1.amazonaws.com/", date: Self.suiteDate)
        #expect(Self.signature(headers) != Self.signature(withoutToken))
    }

    @Test("canonical URI: S3 encodes once and keeps the path; other services normalise and encode twice")
    func canonicalURI() {
        let other = SigV4Signer(credentials: Self.suiteCredentials, region: "us-east-1", service: "service")
        func uri(_ signer: SigV4Signer, _ path: String) -> String {
            signer.canonicalRequest(
                method: "GET", path: path, canonicalQuery: "", canonicalHeaders: "", signedHeaders: "", payloadHash: ""
            ).split(separator: "\n", omittingEmptySubsequences: false)[1].description
        }
        #expect(uri(s3, "/my%20key+plus%25pct/%E6%97%A5") == "/my%20key%2Bplus%25pct/%E6%97%A5")
        #expect(uri(s3, "/a//b/./c/") == "/a//b/./c/")
        #expect(uri(s3, "/slash%2Finside") == "/slash%2Finside")
        #expect(uri(other, "/a%20b") == "/a%2520b")
        #expect(uri(other, "/example/..") == "/")
        #expect(uri(other, "//example//") == "/example/")
        #expect(uri(other, "/./") == "/")
        #expect(uri(other, "") == "/")
        #expect(uri(other, "/-._~") == "/-._~")
    }

    @Test("canonical query: strict encoding, sorted by name then value, byte order")
    func canonicalQuery() {
        #expect(
            SigV4Signer.canonicalQuery([("b", "2"), ("a", "x y"), ("a!", "'"), ("A", "+"), ("a", "1"), ("e", "")])
                == "A=%2B&a=1&a=x%20y&a%21=%27&b=2&e=")
        #expect(SigV4Signer.canonicalQuery([]) == "")
        #expect(SigV4Signer.canonicalQuery([("k", "ü/~")]) == "k=%C3%BC%2F~")
    }

    @Test("header folding: trimmed, whitespace runs folded, repeated names joined")
    func headerFolding() {
        let (canonical, signed) = SigV4Signer.canonicalHeaders([
            ("My-Header1", "    a   b   c  "), ("X-Multi", "one"), ("x-multi", "two \n  three"),
            ("User-Agent", "ignored"), ("Content-Length", "12"),
        ])
        #expect(canonical == "my-header1:a b c\nx-multi:one,two three\n")
        #expect(signed == "my-header1;x-multi")
    }

    @Test("URI encoding and decoding round trip odd keys; malformed escapes are rejected")
    func uriEncoding() {
        for key in ["a b", "plus+sign", "100%", "dir/sub/file", "日本語 ✓", "~-_.", "tab\tnew\nline", "emoji 🏋️"] {
            let encoded = AWSURIEncoding.encode(key, keepSlash: true)
            #expect(!encoded.contains(" ") && !encoded.contains("+"))
            #expect(AWSURIEncoding.decode(encoded) == key)
        }
        #expect(AWSURIEncoding.encode("a/b") == "a%2Fb")
        #expect(AWSURIEncoding.decode("%zz") == nil)
        #expect(AWSURIEncoding.decode("%4") == nil)
        #expect(AWSURIEncoding.decode("%FF%FE") == nil)
        #expect(AWSURIEncoding.decode("a+b") == "a+b")
        #expect(AWSURIEncoding.decode("a+b", plusIsSpace: true) == "a b")
    }

    @Test("form bodies: strict encoding, '+' for spaces, order kept")
    func formEncoding() {
        #expect(
            AWSURIEncoding.formEncode([("Action", "Publish"), ("Subject", "a b/c:d&e=f+g"), ("Message", "é ✓")])
                == "Action=Publish&Subject=a+b%2Fc%3Ad%26e%3Df%2Bg&Message=%C3%A9+%E2%9C%93")
    }

    @Test("bad URLs are typed errors")
    func badURLs() {
        for url in ["", "not a url", "ftp://host/x", "https:///path", "/relative"] {
            #expect(throws: SigV4Error.self) { try s3.signHeaders(method: "GET", url: url) }
            #expect(throws: SigV4Error.self) { try s3.presign(url: url, expires: 60) }
        }
    }

    @Test("the date stamp is right across leap days, epochs and centuries")
    func dateStamps() throws {
        let presign = { (seconds: TimeInterval) -> String in
            let url = try self.s3.presign(
                url: "https://b.s3.amazonaws.com/k", expires: 60, date: Date(timeIntervalSince1970: seconds)
            ).url
            let start = try #require(url.range(of: "X-Amz-Date="))
            return String(url[start.upperBound...].prefix(16))
        }
        #expect(try presign(0) == "19700101T000000Z")
        #expect(try presign(951_782_400) == "20000229T000000Z")
        #expect(try presign(1_709_251_199) == "20240229T235959Z")
        #expect(try presign(4_107_542_400) == "21000301T000000Z")
        #expect(try presign(1_440_938_160.999) == "20150830T123600Z")
    }

    @Test("credentials never print their secrets")
    func redaction() {
        let credentials = AWSCredentials(accessKeyId: "AKID", secretAccessKey: "SECRET", sessionToken: "TOKEN")
        #expect(!credentials.description.contains("SECRET"))
        #expect(!credentials.description.contains("TOKEN"))
        #expect(credentials.description.contains("AKID"))
    }
}
