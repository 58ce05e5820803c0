import AWS
import AWSSigner
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix

/// Access to the shared moto_server that `make test` starts (REFVISION_TEST_MOTO).
enum Moto {
    static let endpoint: String? = ProcessInfo.processInfo.environment["REFVISION_TEST_MOTO"]
    static let enabled = endpoint != nil
    static let credentials = AWSCredentials(accessKeyId: "testing", secretAccessKey: "testing")

    /// A client for moto with fast retries (so tests that provoke errors stay quick).
    static func client(
        endpoint: String, credentials: AWSCredentials = Moto.credentials, region: String = "us-east-1",
        maxAttempts: Int = 3
    ) throws -> AWSClient {
        var configuration = try AWSConfiguration.local(endpoint: endpoint, region: region)
        configuration.retry = AWSRetryPolicy(
            maxAttempts: maxAttempts, baseDelay: .milliseconds(10), throttlingBaseDelay: .milliseconds(10),
            maxBackoff: .milliseconds(100))
        return AWSClient(configuration: configuration, credentialProvider: StaticCredentialProvider(credentials))
    }

    /// Runs `body` against the shared moto with a client that is always shut down.
    static func withClient<Result: Sendable>(_ body: (AWSClient) async throws -> Result) async throws -> Result {
        guard let endpoint else { throw MotoError.notConfigured }
        return try await withAWSClient(try client(endpoint: endpoint), body)
    }

    /// A name unique to this run, valid as bucket, queue, topic and table name.
    static func unique(_ prefix: String) -> String {
        "\(prefix)-\(UUID().uuidString.prefix(13).lowercased().replacingOccurrences(of: "-", with: ""))"
    }

    enum MotoError: Error { case notConfigured, noFreePort, didNotStart(String) }
}

/// Temporary files and directories removed at the end of a test.
final class TemporaryDirectory: @unchecked Sendable {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "refvision-aws-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    /// Writes `size` pseudo-random bytes (deterministic per seed) and returns the path.
    func randomFile(_ name: String, size: Int, seed: UInt64 = 42) throws -> String {
        var state = seed
        var bytes = [UInt8](repeating: 0, count: size)
        var index = 0
        while index < size {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            var word = state
            for _ in 0..<8 where index < size {
                bytes[index] = UInt8(truncatingIfNeeded: word >> 56)
                word <<= 8
                index += 1
            }
        }
        let path = file(name)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    func contents() -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Runs `body` with an HTTP client configured like the layer's, always shut down afterwards.
@discardableResult
func withHTTPClient<Result: Sendable>(_ body: (HTTPClient) async throws -> Result) async throws -> Result {
    let client = AWSClient.makeHTTPClient()
    do {
        let result = try await body(client)
        try await client.shutdown()
        return result
    } catch {
        try? await client.shutdown()
        throw error
    }
}
