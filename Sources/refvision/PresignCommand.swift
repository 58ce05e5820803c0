import AWS
import ArgumentParser
import Foundation
import Logging

/// `refvision presign s3://bucket/key [--expires 3600]`: prints a presigned GET URL, like `aws s3 presign`.
/// Region, endpoint and credentials come from the usual AWS environment (see docs/aws.md).
struct PresignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "presign",
        abstract: "Print a presigned GET URL for an S3 object.",
        discussion: """
            The key is taken literally (spaces, '+', '%' and unicode are fine): s3://raw-videos/lifter 7/squat+1.mp4
            The expiry is clamped to 7 days and to the lifetime of temporary credentials; a warning says so.
            """)

    @Argument(help: "The object, as s3://bucket/key.")
    var uri: String

    @Option(name: [.customLong("expires"), .customLong("expires-in")], help: "Seconds until the URL expires (1...604800).")
    var expires: Int = 3600

    func validate() throws {
        guard expires >= 1 else { throw ValidationError("--expires must be at least 1 second") }
        do {
            _ = try S3URI.parse(uri)
        } catch {
            throw ValidationError("\(error)")
        }
    }

    func run() async throws {
        let object = try S3URI.parse(uri)
        var logger = Logger(label: "refvision.aws")
        logger.logLevel = .error  // clamping warnings are printed below instead
        let client = try AWSClient.fromEnvironment(logger: logger)
        let presigned = try await withAWSClient(client) { client in
            try await S3Client(client: client).presignGetObject(bucket: object.bucket, key: object.key, expires: expires)
        }
        for warning in presigned.warnings {
            FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
        }
        print(presigned.url)
    }
}
