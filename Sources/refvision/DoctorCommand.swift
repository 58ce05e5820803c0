import AWS
import ArgumentParser
import Foundation
import Logging

/// `refvision doctor`: a cheap read against every AWS resource the fleet is configured with, one
/// ✓/✗ line each (with the AWS error on ✗). Exits non-zero when anything failed.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check AWS credentials and the fleet's buckets, queues, table and topic.",
        discussion: """
            Resources come from REFVISION_RAW_BUCKET, REFVISION_ANNOTATED_BUCKET, REFVISION_INTAKE_QUEUE_URL,
            REFVISION_JOBS_QUEUE_URL, REFVISION_RESULTS_QUEUE_URL, REFVISION_TABLE and REFVISION_COACHES_TOPIC_ARN;
            unset ones are skipped (or fail with --require-all). Region, endpoints and credentials come from the
            usual AWS variables (AWS_REGION, AWS_ENDPOINT_URL[_<SERVICE>], AWS_PROFILE, ...). See docs/aws.md.
            """)

    @Flag(help: "Treat unset resource variables as failures.")
    var requireAll = false

    func run() async throws {
        var logger = Logger(label: "refvision.aws")
        logger.logLevel = .error
        let client: AWSClient
        do {
            client = try AWSClient.fromEnvironment(logger: logger)
        } catch {
            print("✗ configuration: \(error)")
            throw ExitCode.failure
        }
        let checks = try await withAWSClient(client) { client in
            await AWSDoctor(client: client).run(resources: .fromEnvironment())
        }
        var failed = false
        for check in checks {
            print(check.line)
            if check.isFailure || (requireAll && check.outcome == .skipped) { failed = true }
        }
        if failed { throw ExitCode.failure }
    }
}
