import AWSSigner
import AsyncHTTPClient
import Foundation
import Testing
import TestSupport

@testable import AWS

@Suite("Configuration and credential providers")
struct ConfigurationTests {
    // MARK: Shared config files

    @Test("shared files: profiles, [profile x] sections, comments, nested settings")
    func sharedConfigParse() throws {
        let credentials = try SharedConfigFile.parse(
            """
            # comment
            [default]
            aws_access_key_id = AKIDDEFAULT
            aws_secret_access_key = secret/default+key ; inline comment
            [ci]
            aws_access_key_id=AKIDCI
            aws_secret_access_key=secretci
            aws_session_token = token#with#hash
            """, isConfigFile: false)
        #expect(credentials.profiles["default"]?["aws_secret_access_key"] == "secret/default+key")
        #expect(credentials.profiles["ci"]?["aws_session_token"] == "token#with#hash")

        let config = try SharedConfigFile.parse(
            """
            [default]
            region = eu-west-1
            [profile ci]
            region = us-west-2
            s3 =
              addressing_style = path
            [sso-session corp]
            sso_region = us-east-1
            [ci]
            region = ignored
            """, isConfigFile: true)
        #expect(config.profiles["default"]?["region"] == "eu-west-1")
        #expect(config.profiles["ci"]?["region"] == "us-west-2")
        #expect(config.profiles["ci"]?["s3.addressing_style"] == "path")
        #expect(config.profiles["sso-session:corp"]?["sso_region"] == "us-east-1")
    }

    @Test(
        "shared files: malformed lines are errors with a line number",
        arguments: ["[default\nregion=x", "region = x", "[default]\njust words", "[]\n", "[default]\n= value", "[a] trailing\n"])
    func sharedConfigMalformed(_ text: String) {
        #expect(throws: SharedConfigError.self) { try SharedConfigFile.parse(text, isConfigFile: true) }
    }

    @Test("shared files: empty, missing, huge and binary files")
    func sharedConfigEdges() throws {
        #expect(try SharedConfigFile.parse("", isConfigFile: true).profiles.isEmpty)
        #expect(try SharedConfigFile.parse("\n# only comments\n; here\n", isConfigFile: false).profiles.isEmpty)
        let directory = try TemporaryDirectory()
        #expect(try SharedConfigFile.load(path: directory.file("missing"), isConfigFile: true).profiles.isEmpty)
        let huge = directory.file("huge")
        try Data(repeating: UInt8(ascii: "#"), count: (1 << 20) + 1).write(to: URL(fileURLWithPath: huge))
        #expect(throws: SharedConfigError.self) { try SharedConfigFile.load(path: huge, isConfigFile: true) }
        let binary = directory.file("binary")
        try Data([0xFF, 0xFE, 0x00, 0x5B]).write(to: URL(fileURLWithPath: binary))
        #expect(throws: SharedConfigError.self) { try SharedConfigFile.load(path: binary, isConfigFile: true) }
        // Windows line endings and a BOM are fine.
        let crlf = try SharedConfigFile.parse("\u{FEFF}[default]\r\nregion = eu-west-1\r\n", isConfigFile: true)
        #expect(crlf.profiles["default"]?["region"] == "eu-west-1")
    }

    // MARK: Region and endpoints

    @Test("region and endpoints from the environment and the profile")
    func configurationFromEnvironment() throws {
        let directory = try TemporaryDirectory()
        let configPath = directory.file("config")
        try "[profile moto]\nregion = ap-southeast-2\nendpoint_url = http://127.0.0.1:4566\n".write(
            toFile: configPath, atomically: true, encoding: .utf8)
        let base = ["HOME": directory.path, "AWS_CONFIG_FILE": configPath, "AWS_SHARED_CREDENTIALS_FILE": directory.file("none")]

        var env = base
        env["AWS_REGION"] = "eu-central-1"
        let plain = try AWSConfiguration.fromEnvironment(env)
        #expect(plain.region == "eu-central-1")
        #expect(plain.endpoint(for: .sqs).endpoint.description == "https://sqs.eu-central-1.amazonaws.com")
        #expect(plain.endpoint(for: .cloudwatch).endpoint.host == "monitoring.eu-central-1.amazonaws.com")
        #expect(!plain.endpoint(for: .s3).overridden && !plain.s3UsesPathStyle)

        env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:5599/"
        env["AWS_ENDPOINT_URL_S3"] = "http://localhost:9000"
        env["AWS_MAX_ATTEMPTS"] = "5"
        let local = try AWSConfiguration.fromEnvironment(env)
        #expect(local.endpoint(for: .s3).endpoint.description == "http://localhost:9000")
        #expect(local.endpoint(for: .dynamodb).endpoint.description == "http://127.0.0.1:5599")
        #expect(local.endpoint(for: .sqs).overridden && local.s3UsesPathStyle)
        #expect(local.retry.maxAttempts == 5)

        env["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true"
        #expect(!(try AWSConfiguration.fromEnvironment(env)).endpoint(for: .s3).overridden)

        var profileEnv = base
        profileEnv["AWS_PROFILE"] = "moto"
        let profile = try AWSConfiguration.fromEnvironment(profileEnv)
        #expect(profile.region == "ap-southeast-2")
        #expect(profile.endpoint(for: .sns).endpoint.port == 4566)

        #expect(throws: AWSClientError.self) { try AWSConfiguration.fromEnvironment(base) }  // no region
        var bad = base
        bad["AWS_REGION"] = "Not A Region"
        #expect(throws: AWSClientError.self) { try AWSConfiguration.fromEnvironment(bad) }
        bad["AWS_REGION"] = "us-east-1"
        bad["AWS_ENDPOINT_URL"] = "ftp://x"
        #expect(throws: AWSClientError.self) { try AWSConfiguration.fromEnvironment(bad) }
        bad["AWS_ENDPOINT_URL"] = nil
        bad["AWS_MAX_ATTEMPTS"] = "zero"
        #expect(throws: AWSClientError.self) { try AWSConfiguration.fromEnvironment(bad) }
    }

    @Test("S3 addressing: virtual-hosted on AWS, path-style when overridden or for dotted names; odd keys encoded once")
    func s3Addressing() async throws {
        let aws = AWSClient(
            configuration: AWSConfiguration(region: "eu-west-1"),
            credentialProvider: StaticCredentialProvider(AWSCredentials(accessKeyId: "a", secretAccessKey: "b")))
        try await withAWSClient(aws) { client in
            let s3 = S3Client(client: client)
            let (endpoint, path) = try s3.location(bucket: "raw-videos", key: "a b/c+d%e/é.mp4")
            #expect(endpoint.host == "raw-videos.s3.eu-west-1.amazonaws.com")
            #expect(path == "/a%20b/c%2Bd%25e/%C3%A9.mp4")
            let (dotted, dottedPath) = try s3.location(bucket: "my.bucket", key: "k")
            #expect(dotted.host == "s3.eu-west-1.amazonaws.com" && dottedPath == "/my.bucket/k")
            #expect(throws: AWSClientError.self) { try s3.location(bucket: "b", key: "k") }
            #expect(throws: AWSClientError.self) { try s3.location(bucket: "bucket", key: "") }
            #expect(throws: AWSClientError.self) { try s3.location(bucket: "bucket", key: String(repeating: "k", count: 1025)) }
        }
        let local = AWSClient(
            configuration: try .local(endpoint: "http://127.0.0.1:5599"),
            credentialProvider: StaticCredentialProvider(AWSCredentials(accessKeyId: "a", secretAccessKey: "b")))
        try await withAWSClient(local) { client in
            let (endpoint, path) = try S3Client(client: client).location(bucket: "raw", key: "x/y")
            #expect(endpoint.hostHeader == "127.0.0.1:5599" && path == "/raw/x/y")
        }
    }

    @Test("multipart part size grows to stay under 10,000 parts and never drops below 5 MiB")
    func partSizes() {
        #expect(S3Client.effectivePartSize(fileSize: 100 << 20, requested: 1 << 20) == 5 << 20)
        #expect(S3Client.effectivePartSize(fileSize: 100 << 20, requested: 8 << 20) == 8 << 20)
        let huge: Int64 = 200 << 30
        #expect(S3Client.effectivePartSize(fileSize: huge, requested: 8 << 20) * 10_000 >= huge)
    }

    // MARK: Environment and profile credentials

    @Test("environment credentials: full, partial, absent, with session token and expiry")
    func environmentCredentials() async throws {
        let full = try await EnvironmentCredentialProvider(environment: [
            "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SECRET", "AWS_SESSION_TOKEN": "TOKEN",
            "AWS_CREDENTIAL_EXPIRATION": "2030-01-01T00:00:00Z",
        ]).getCredentials()
        #expect(full == AWSCredentials(accessKeyId: "AKID", secretAccessKey: "SECRET", sessionToken: "TOKEN", expiration: AWSDate.parseISO8601("2030-01-01T00:00:00Z")))

        await #expect(throws: CredentialProviderError(provider: "environment", kind: .failed, reason: "only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set")) {
            try await EnvironmentCredentialProvider(environment: ["AWS_ACCESS_KEY_ID": "AKID"]).getCredentials()
        }
        let absent = await #expect(throws: CredentialProviderError.self) {
            try await EnvironmentCredentialProvider(environment: [:]).getCredentials()
        }
        #expect(absent?.kind == .notConfigured)
        await #expect(throws: CredentialProviderError.self) {
            try await EnvironmentCredentialProvider(environment: [
                "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b", "AWS_CREDENTIAL_EXPIRATION": "tomorrow",
            ]).getCredentials()
        }
    }

    @Test("profile credentials from temp shared files, AWS_PROFILE selecting, unsupported kinds reported")
    func profileCredentials() async throws {
        let directory = try TemporaryDirectory()
        try """
        [default]
        aws_access_key_id = AKIDDEFAULT
        aws_secret_access_key = SECRETDEFAULT
        [worker]
        aws_access_key_id = AKIDWORKER
        aws_secret_access_key = SECRETWORKER
        aws_session_token = TOKENWORKER
        [half]
        aws_access_key_id = AKIDHALF
        """.write(toFile: directory.file("credentials"), atomically: true, encoding: .utf8)
        try """
        [profile fromconfig]
        aws_access_key_id = AKIDCONFIG
        aws_secret_access_key = SECRETCONFIG
        [profile assume]
        role_arn = arn:aws:iam::123:role/x
        source_profile = default
        """.write(toFile: directory.file("config"), atomically: true, encoding: .utf8)
        let base = ["HOME": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": directory.file("credentials"), "AWS_CONFIG_FILE": directory.file("config")]

        #expect(try await ProfileCredentialProvider(environment: base).getCredentials().accessKeyId == "AKIDDEFAULT")
        var env = base
        env["AWS_PROFILE"] = "worker"
        let worker = try await ProfileCredentialProvider(environment: env).getCredentials()
        #expect(worker.accessKeyId == "AKIDWORKER" && worker.sessionToken == "TOKENWORKER")
        #expect(try await ProfileCredentialProvider(environment: base, profile: "fromconfig").getCredentials().secretAccessKey == "SECRETCONFIG")

        let half = await #expect(throws: CredentialProviderError.self) {
            try await ProfileCredentialProvider(environment: base, profile: "half").getCredentials()
        }
        #expect(half?.kind == .failed)
        let assume = await #expect(throws: CredentialProviderError.self) {
            try await ProfileCredentialProvider(environment: base, profile: "assume").getCredentials()
        }
        #expect(assume?.reason.contains("role_arn") == true)
        let missing = await #expect(throws: CredentialProviderError.self) {
            try await ProfileCredentialProvider(environment: base, profile: "nope").getCredentials()
        }
        #expect(missing?.kind == .notConfigured)

        try "[default\nbroken".write(toFile: directory.file("credentials"), atomically: true, encoding: .utf8)
        let broken = await #expect(throws: CredentialProviderError.self) {
            try await ProfileCredentialProvider(environment: base).getCredentials()
        }
        #expect(broken?.kind == .failed)
    }

    // MARK: Container and instance credentials

    static func credentialsJSON(_ keyId: String, expiresIn seconds: TimeInterval) -> String {
        let expiration = AWSDate.formatISO8601(Date().addingTimeInterval(seconds))
        return """
            {"AccessKeyId":"\(keyId)","SecretAccessKey":"secret-\(keyId)","Token":"token-\(keyId)","Expiration":"\(expiration)","RoleArn":"arn:aws:iam::1:role/task"}
            """
    }

    @Test("ECS container endpoint: FULL_URI, token file, refresh before expiry")
    func ecsCredentials() async throws {
        let directory = try TemporaryDirectory()
        try "secret-auth-token\n".write(toFile: directory.file("token"), atomically: true, encoding: .utf8)
        try await LocalHTTPServer.with({ request, index in
            guard request.path == "/v2/credentials/abc", request.header("Authorization") == "secret-auth-token" else {
                return .json(401, "{\"message\":\"unauthorized\"}")
            }
            // Short-lived credentials: each fetch hands out a new key.
            return .json(200, Self.credentialsJSON("KEY\(index)", expiresIn: 240))
        }) { server in
            try await withHTTPClient { http in
            let provider = ECSCredentialProvider(
                environment: [
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.baseURL + "/v2/credentials/abc",
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": directory.file("token"),
                ], httpClient: http)
            let first = try await provider.getCredentials()
            #expect(first.accessKeyId == "KEY0" && first.sessionToken == "token-KEY0")
            #expect(try #require(first.expiration).timeIntervalSinceNow > 200)

            // Cached until the refresh margin: a 60 s margin keeps them, a 300 s margin refreshes.
            let keep = RefreshingCredentialProvider(provider, refreshMargin: 60)
            #expect(try await keep.getCredentials().accessKeyId == "KEY1")
            #expect(try await keep.getCredentials().accessKeyId == "KEY1")
            #expect(await keep.fetchCount == 1)
            let refresh = RefreshingCredentialProvider(provider, refreshMargin: 300)
            #expect(try await refresh.getCredentials().accessKeyId == "KEY2")
            #expect(try await refresh.getCredentials().accessKeyId == "KEY3")

            // Wrong token: a failed (not "not configured") provider.
            let wrong = ECSCredentialProvider(
                environment: [
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.baseURL + "/v2/credentials/abc",
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN": "wrong",
                ], httpClient: http)
            let error = await #expect(throws: CredentialProviderError.self) { try await wrong.getCredentials() }
            #expect(error?.kind == .failed && error?.reason.contains("401") == true)
            }
        }
    }

    @Test("ECS container endpoint: refuses plain http to non-local hosts and line breaks in tokens")
    func ecsValidation() async throws {
        try await withHTTPClient { http in
        let remote = ECSCredentialProvider(
            environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://evil.example.com/creds"], httpClient: http)
        #expect(throws: CredentialProviderError.self) { try remote.endpointURL() }
        let relative = try ECSCredentialProvider(environment: ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/x"], httpClient: http).endpointURL()
        #expect(relative == "http://169.254.170.2/v2/x")
        let https = try ECSCredentialProvider(environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "https://creds.example.com/x"], httpClient: http).endpointURL()
        #expect(https == "https://creds.example.com/x")
        let injected = ECSCredentialProvider(
            environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:1/x", "AWS_CONTAINER_AUTHORIZATION_TOKEN": "a\r\nX-Evil: 1"],
            httpClient: http)
        #expect(throws: CredentialProviderError.self) { try injected.authorizationToken() }
        let none = await #expect(throws: CredentialProviderError.self) {
            try await ECSCredentialProvider(environment: [:], httpClient: http).getCredentials()
        }
        #expect(none?.kind == .notConfigured)
        }
    }

    @Test("ECS container endpoint: malformed answers are typed errors", arguments: ["{", "{}", "[]", "<html>oops</html>", "{\"AccessKeyId\":\"\",\"SecretAccessKey\":\"x\"}", "{\"AccessKeyId\":\"a\",\"SecretAccessKey\":\"b\",\"Expiration\":\"never\"}"])
    func ecsMalformed(_ body: String) async throws {
        try await LocalHTTPServer.with({ _, _ in .json(200, body) }) { server in
            try await withHTTPClient { http in
            let provider = ECSCredentialProvider(
                environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": server.baseURL + "/creds"], httpClient: http)
            let error = await #expect(throws: CredentialProviderError.self) { try await provider.getCredentials() }
            #expect(error?.kind == .failed)
            }
        }
    }

    @Test("EC2 IMDSv2: session token, role, credentials")
    func imdsCredentials() async throws {
        try await LocalHTTPServer.with({ request, _ in
            switch (request.method, request.path) {
            case ("PUT", "/latest/api/token"):
                guard request.header("x-aws-ec2-metadata-token-ttl-seconds") == "21600" else { return .text(400, "ttl") }
                return .text(200, "IMDS-TOKEN")
            case ("GET", "/latest/meta-data/iam/security-credentials/"):
                guard request.header("x-aws-ec2-metadata-token") == "IMDS-TOKEN" else { return .text(401, "") }
                return .text(200, "worker-role\n")
            case ("GET", "/latest/meta-data/iam/security-credentials/worker-role"):
                guard request.header("x-aws-ec2-metadata-token") == "IMDS-TOKEN" else { return .text(401, "") }
                return .json(200, "{\"Code\":\"Success\",\"Type\":\"AWS-HMAC\"," + Self.credentialsJSON("IMDSKEY", expiresIn: 3600).dropFirst())
            default:
                return .text(404, "")
            }
        }) { server in
            try await withHTTPClient { http in
            let provider = EC2MetadataCredentialProvider(environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": server.baseURL], httpClient: http)
            let credentials = try await provider.getCredentials()
            #expect(credentials.accessKeyId == "IMDSKEY" && credentials.sessionToken == "token-IMDSKEY")
            #expect(server.requests.map(\.method) == ["PUT", "GET", "GET"])

            let disabled = await #expect(throws: CredentialProviderError.self) {
                try await EC2MetadataCredentialProvider(environment: ["AWS_EC2_METADATA_DISABLED": "true"], httpClient: http).getCredentials()
            }
            #expect(disabled?.kind == .notConfigured)
            }
        }
    }

    @Test("EC2 IMDSv2: nothing listening means not configured, quickly")
    func imdsUnreachable() async throws {
        let port = try freeTCPPort()
        try await withHTTPClient { http in
        let started = Date()
        let error = await #expect(throws: CredentialProviderError.self) {
            try await EC2MetadataCredentialProvider(
                environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:\(port)"], httpClient: http
            ).getCredentials()
        }
        #expect(error?.kind == .notConfigured)
        #expect(Date().timeIntervalSince(started) < 5)
        }
    }

    // MARK: The chain

    @Test("the chain tries providers in order, sticks with the winner and lists what it tried")
    func chain() async throws {
        let directory = try TemporaryDirectory()
        try "[default]\naws_access_key_id = PROFILEKEY\naws_secret_access_key = s\n".write(
            toFile: directory.file("credentials"), atomically: true, encoding: .utf8)
        try await withHTTPClient { http in
        let files = ["HOME": directory.path, "AWS_SHARED_CREDENTIALS_FILE": directory.file("credentials"), "AWS_CONFIG_FILE": directory.file("config"), "AWS_EC2_METADATA_DISABLED": "true"]

        var withEnv = files
        withEnv["AWS_ACCESS_KEY_ID"] = "ENVKEY"
        withEnv["AWS_SECRET_ACCESS_KEY"] = "s"
        let envChain = CredentialProviderChain.default(environment: withEnv, httpClient: http)
        let fromEnv = try await envChain.getCredentials()
        #expect(fromEnv.accessKeyId == "ENVKEY")
        #expect(await envChain.chosenProviderName == "environment")

        let profileChain = CredentialProviderChain.default(environment: files, httpClient: http)
        let fromProfile = try await profileChain.getCredentials()
        #expect(fromProfile.accessKeyId == "PROFILEKEY")

        let emptyChain = CredentialProviderChain.default(
            environment: ["HOME": directory.path, "AWS_SHARED_CREDENTIALS_FILE": directory.file("none"), "AWS_CONFIG_FILE": directory.file("none2"), "AWS_EC2_METADATA_DISABLED": "true"],
            httpClient: http)
        let error = await #expect(throws: AWSClientError.self) { try await emptyChain.getCredentials() }
        if case .noCredentials(let tried) = error {
            #expect(tried.count == 4)
            #expect(tried[0].hasPrefix("environment") && tried[3].hasPrefix("ec2-imds"))
        } else {
            Issue.record("expected noCredentials, got \(String(describing: error))")
        }
        }
    }

    @Test("a failed refresh keeps still-valid credentials; expired ones are not reused")
    func refreshFailureFallsBack() async throws {
        let source = FlakyProvider()
        let now = Date()
        let clock = ManualClock(now)
        let provider = RefreshingCredentialProvider(source, refreshMargin: 300, clock: { clock.now })
        #expect(try await provider.getCredentials().accessKeyId == "K1")  // expires now + 600
        clock.now = now.addingTimeInterval(400)  // inside the margin: refresh, which fails
        source.fail = true
        #expect(try await provider.getCredentials().accessKeyId == "K1")
        clock.now = now.addingTimeInterval(700)  // expired: the failure surfaces
        await #expect(throws: CredentialProviderError.self) { try await provider.getCredentials() }
    }
}

final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Date
    init(_ value: Date) { self.value = value }
    var now: Date {
        get { lock.lock(); defer { lock.unlock() }; return value }
        set { lock.lock(); value = newValue; lock.unlock() }
    }
}

final class FlakyProvider: CredentialProvider, @unchecked Sendable {
    let name = "flaky"
    private let lock = NSLock()
    private var count = 0
    private var failing = false
    var fail: Bool {
        get { lock.lock(); defer { lock.unlock() }; return failing }
        set { lock.lock(); failing = newValue; lock.unlock() }
    }
    func getCredentials() async throws -> AWSCredentials {
        try next()
    }
    private func next() throws -> AWSCredentials {
        lock.lock()
        defer { lock.unlock() }
        if failing { throw CredentialProviderError(provider: name, kind: .failed, reason: "endpoint down") }
        count += 1
        return AWSCredentials(accessKeyId: "K\(count)", secretAccessKey: "s", sessionToken: "t", expiration: Date().addingTimeInterval(600))
    }
}
