import AWS
import AWSSigner
import Foundation

/// `refvision-bench-aws <endpoint> [signatures] [roundTrips]`: SigV4 signing throughput and SQS
/// send+receive+delete round trips against moto, printed as one JSON object. Driven by scripts/bench-aws,
/// which runs the same loops in boto3 beside it.
@main
struct BenchAWS {
    static func main() async {
        let arguments = CommandLine.arguments
        guard arguments.count >= 2 else {
            FileHandle.standardError.write(Data("usage: refvision-bench-aws <endpoint> [signatures] [roundTrips]\n".utf8))
            exit(64)
        }
        let endpoint = arguments[1]
        let signatures = arguments.count > 2 ? Int(arguments[2]) ?? 100_000 : 100_000
        let roundTrips = arguments.count > 3 ? Int(arguments[3]) ?? 300 : 300
        do {
            let signing = try signingRate(count: signatures)
            let sqs = try await sqsRate(endpoint: endpoint, count: roundTrips)
            print(
                "{\"signatures\":\(signatures),\"signaturesPerSecond\":\(Int(signing)),\"roundTrips\":\(roundTrips),\"roundTripsPerSecond\":\(String(format: "%.1f", sqs))}"
            )
        } catch {
            FileHandle.standardError.write(Data("bench failed: \(error)\n".utf8))
            exit(1)
        }
    }

    /// Header signing of an SQS SendMessage request (JSON body hashed each time, fresh date each time).
    static func signingRate(count: Int) throws -> Double {
        let signer = SigV4Signer(
            credentials: AWSCredentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            region: "us-east-1", service: "sqs")
        let body = Array("{\"QueueUrl\":\"https://sqs.us-east-1.amazonaws.com/123456789012/jobs\",\"MessageBody\":\"{\\\"job\\\":\\\"j-000001\\\"}\"}".utf8)
        let headers = [("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", "AmazonSQS.SendMessage")]
        var sink = 0
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<count {
            let signed = signer.signHeaders(
                method: "POST", host: "sqs.us-east-1.amazonaws.com", path: "/", query: [], headers: headers, payload: .bytes(body))
            sink &+= signed.count
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        if sink == 0 { print("") }
        return Double(count) / seconds
    }

    /// Sequential send → receive → delete of one message, `count` times, against one queue.
    static func sqsRate(endpoint: String, count: Int) async throws -> Double {
        let client = AWSClient(
            configuration: try .local(endpoint: endpoint),
            credentialProvider: StaticCredentialProvider(AWSCredentials(accessKeyId: "testing", secretAccessKey: "testing")))
        return try await withAWSClient(client) { client in
            let sqs = SQSClient(client: client)
            let queue = try await sqs.createQueue(name: "bench-swift-\(UUID().uuidString.prefix(8).lowercased())")
            // Warm-up: connection and queue.
            for _ in 0..<5 { try await roundTrip(sqs, queue) }
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<count { try await roundTrip(sqs, queue) }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            try await sqs.deleteQueue(queueURL: queue)
            return Double(count) / seconds
        }
    }

    static func roundTrip(_ sqs: SQSClient, _ queue: String) async throws {
        try await sqs.sendMessage(queueURL: queue, body: "{\"job\":\"j-000001\"}")
        var messages: [SQSMessage] = []
        while messages.isEmpty {
            messages = try await sqs.receiveMessages(queueURL: queue, maxMessages: 1, waitTimeSeconds: 0)
        }
        for message in messages { try await sqs.deleteMessage(queueURL: queue, receiptHandle: message.receiptHandle) }
    }
}
