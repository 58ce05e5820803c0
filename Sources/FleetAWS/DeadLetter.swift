import AWS
import Fleet
import Foundation

extension SQSJobQueue {
    /// The queue's dead-letter queue, from its `RedrivePolicy` (`deadLetterTargetArn`), so no extra
    /// configuration names it. Nil when the queue has no redrive policy.
    public func deadLetterQueue() async throws -> SQSJobQueue? {
        let attributes = try await sqs.getQueueAttributes(queueURL: queueURL, names: ["RedrivePolicy"])
        guard let policy = attributes["RedrivePolicy"], !policy.isEmpty else { return nil }
        guard let object = try? JSONSerialization.jsonObject(with: Data(policy.utf8)) as? [String: Any],
              let arn = object["deadLetterTargetArn"] as? String
        else { throw FleetError.configuration("queue \(name) has an unreadable RedrivePolicy: \(policy.prefix(200))") }
        // arn:aws:sqs:REGION:ACCOUNT:NAME
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[2] == "sqs" else { throw FleetError.configuration("dead-letter target \(arn) is not an SQS queue ARN") }
        let url = try await sqs.getQueueURL(queueName: String(parts[5]), ownerAccountId: String(parts[4]))
        return SQSJobQueue(sqs: sqs, queueURL: url)
    }
}
