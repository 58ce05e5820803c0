import Crypto
import Foundation
import NIOCore

/// An SQS message attribute value.
public enum SQSMessageAttributeValue: Sendable, Equatable, Codable {
    case string(String)
    case number(String)
    case binary(Data)
    /// A custom type such as `String.json` or `Number.int`.
    case custom(dataType: String, string: String)

    public var dataType: String {
        switch self {
        case .string: return "String"
        case .number: return "Number"
        case .binary: return "Binary"
        case .custom(let dataType, _): return dataType
        }
    }

    public var stringValue: String? {
        switch self {
        case .string(let value), .number(let value), .custom(_, let value): return value
        case .binary: return nil
        }
    }

    enum CodingKeys: String, CodingKey {
        case dataType = "DataType"
        case stringValue = "StringValue"
        case binaryValue = "BinaryValue"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let dataType = try container.decode(String.self, forKey: .dataType)
        if dataType.hasPrefix("Binary") {
            let base64 = try container.decode(String.self, forKey: .binaryValue)
            guard let data = Data(base64Encoded: base64) else {
                throw DecodingError.dataCorruptedError(forKey: .binaryValue, in: container, debugDescription: "not base64")
            }
            self = .binary(data)
            return
        }
        let value = try container.decode(String.self, forKey: .stringValue)
        switch dataType {
        case "String": self = .string(value)
        case "Number": self = .number(value)
        default: self = .custom(dataType: dataType, string: value)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(dataType, forKey: .dataType)
        switch self {
        case .binary(let data): try container.encode(data.base64EncodedString(), forKey: .binaryValue)
        case .string(let value), .number(let value), .custom(_, let value): try container.encode(value, forKey: .stringValue)
        }
    }
}

/// A received message.
public struct SQSMessage: Sendable, Equatable {
    public var messageId: String
    public var receiptHandle: String
    public var body: String
    /// System attributes (`ApproximateReceiveCount`, `SentTimestamp`, ...), as strings.
    public var attributes: [String: String]
    public var messageAttributes: [String: SQSMessageAttributeValue]

    /// `ApproximateReceiveCount` as a number.
    public var receiveCount: Int? { attributes["ApproximateReceiveCount"].flatMap(Int.init) }
    /// `SentTimestamp` (epoch milliseconds) as a date.
    public var sentAt: Date? {
        attributes["SentTimestamp"].flatMap(Double.init).map { Date(timeIntervalSince1970: $0 / 1000) }
    }
}

/// A message to send in a batch.
public struct SQSSendEntry: Sendable, Equatable {
    public var id: String
    public var body: String
    public var delaySeconds: Int?
    public var attributes: [String: SQSMessageAttributeValue]
    public var groupId: String?
    public var deduplicationId: String?

    public init(
        id: String, body: String, delaySeconds: Int? = nil, attributes: [String: SQSMessageAttributeValue] = [:],
        groupId: String? = nil, deduplicationId: String? = nil
    ) {
        self.id = id
        self.body = body
        self.delaySeconds = delaySeconds
        self.attributes = attributes
        self.groupId = groupId
        self.deduplicationId = deduplicationId
    }
}

public struct SQSSendResult: Sendable, Equatable {
    public var id: String?
    public var messageId: String
    public var sequenceNumber: String?
}

/// One entry of a batch that failed.
public struct SQSBatchFailure: Sendable, Equatable, Error, CustomStringConvertible {
    public var id: String
    public var code: String
    public var message: String?
    public var senderFault: Bool
    public var description: String { "entry \(id): \(code)\(message.map { " (\($0))" } ?? "")\(senderFault ? " [sender fault]" : "")" }
}

/// The per-entry outcome of a batch call: some entries can succeed while others fail.
public struct SQSBatchResult<Success: Sendable & Equatable>: Sendable, Equatable {
    public var successful: [Success]
    public var failed: [SQSBatchFailure]
    public var allSucceeded: Bool { failed.isEmpty }
}

/// Receipt handle + new timeout for ChangeMessageVisibilityBatch.
public struct SQSVisibilityEntry: Sendable, Equatable {
    public var id: String
    public var receiptHandle: String
    public var visibilityTimeout: Int
    public init(id: String, receiptHandle: String, visibilityTimeout: Int) {
        self.id = id
        self.receiptHandle = receiptHandle
        self.visibilityTimeout = visibilityTimeout
    }
}

/// SQS over the JSON protocol (`X-Amz-Target: AmazonSQS.<Operation>`).
public struct SQSClient: Sendable {
    public let client: AWSClient
    /// Verify MD5OfMessageBody / MD5OfMessageAttributes on send and receive, as the SDKs do.
    public var verifyChecksums = true

    public init(client: AWSClient) { self.client = client }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    func call<Request: Encodable, Response: Decodable>(
        _ operation: String, _ request: Request, as: Response.Type, idempotent: Bool, timeout: TimeAmount? = nil
    ) async throws -> Response {
        let body: [UInt8]
        do {
            body = Array(try Self.encoder.encode(request))
        } catch {
            throw AWSClientError.invalidArgument("SQS \(operation): cannot encode request: \(error)")
        }
        let response = try await client.jsonCall(
            service: .sqs, target: "AmazonSQS.\(operation)", operation: operation, body: body, idempotent: idempotent,
            timeout: timeout)
        if Response.self == Empty.self, response.isEmpty || response.allSatisfy({ $0 == 0x20 || $0 == 0x0A }) {
            if let empty = Empty() as? Response { return empty }
        }
        do {
            return try JSONDecoder().decode(Response.self, from: Data(response))
        } catch {
            throw AWSClientError.malformedResponse(service: "SQS", operation: operation, reason: "\(error)")
        }
    }

    struct Empty: Codable, Equatable {}

    // MARK: Send

    struct SendMessageRequest: Encodable {
        let QueueUrl: String
        let MessageBody: String
        let DelaySeconds: Int?
        let MessageAttributes: [String: SQSMessageAttributeValue]?
        let MessageGroupId: String?
        let MessageDeduplicationId: String?
    }

    struct SendMessageResponse: Decodable {
        let MessageId: String
        let MD5OfMessageBody: String?
        let MD5OfMessageAttributes: String?
        let SequenceNumber: String?
    }

    /// SendMessage. Not retried after ambiguous failures (a retry could duplicate the message) unless the
    /// queue is FIFO with a deduplication id.
    @discardableResult
    public func sendMessage(
        queueURL: String, body: String, delaySeconds: Int? = nil, attributes: [String: SQSMessageAttributeValue] = [:],
        groupId: String? = nil, deduplicationId: String? = nil
    ) async throws -> SQSSendResult {
        try Self.validate(body: body, attributes: attributes, delaySeconds: delaySeconds)
        let response = try await call(
            "SendMessage",
            SendMessageRequest(
                QueueUrl: queueURL, MessageBody: body, DelaySeconds: delaySeconds,
                MessageAttributes: attributes.isEmpty ? nil : attributes, MessageGroupId: groupId,
                MessageDeduplicationId: deduplicationId),
            as: SendMessageResponse.self, idempotent: deduplicationId != nil)
        if verifyChecksums {
            try checkMD5(response.MD5OfMessageBody, of: body, operation: "SendMessage")
            if !attributes.isEmpty {
                try checkAttributesMD5(response.MD5OfMessageAttributes, of: attributes, operation: "SendMessage")
            }
        }
        return SQSSendResult(id: nil, messageId: response.MessageId, sequenceNumber: response.SequenceNumber)
    }

    struct SendBatchEntry: Encodable {
        let Id: String
        let MessageBody: String
        let DelaySeconds: Int?
        let MessageAttributes: [String: SQSMessageAttributeValue]?
        let MessageGroupId: String?
        let MessageDeduplicationId: String?
    }

    struct SendBatchRequest: Encodable {
        let QueueUrl: String
        let Entries: [SendBatchEntry]
    }

    struct BatchFailureDTO: Decodable {
        let Id: String
        let SenderFault: Bool?
        let Code: String
        let Message: String?
        var failure: SQSBatchFailure { SQSBatchFailure(id: Id, code: Code, message: Message, senderFault: SenderFault ?? false) }
    }

    struct SendBatchResponse: Decodable {
        struct Entry: Decodable {
            let Id: String
            let MessageId: String
            let MD5OfMessageBody: String?
            let MD5OfMessageAttributes: String?
            let SequenceNumber: String?
        }
        let Successful: [Entry]?
        let Failed: [BatchFailureDTO]?
    }

    /// SendMessageBatch (1–10 entries, unique ids). Entries SQS rejects come back in `failed`; entries whose
    /// checksum does not match are reported there too (code `ChecksumMismatch`).
    public func sendMessageBatch(queueURL: String, entries: [SQSSendEntry]) async throws -> SQSBatchResult<SQSSendResult> {
        try Self.validateBatch(ids: entries.map(\.id))
        for entry in entries { try Self.validate(body: entry.body, attributes: entry.attributes, delaySeconds: entry.delaySeconds) }
        let response = try await call(
            "SendMessageBatch",
            SendBatchRequest(
                QueueUrl: queueURL,
                Entries: entries.map {
                    SendBatchEntry(
                        Id: $0.id, MessageBody: $0.body, DelaySeconds: $0.delaySeconds,
                        MessageAttributes: $0.attributes.isEmpty ? nil : $0.attributes, MessageGroupId: $0.groupId,
                        MessageDeduplicationId: $0.deduplicationId)
                }),
            as: SendBatchResponse.self, idempotent: entries.allSatisfy { $0.deduplicationId != nil })
        var successful: [SQSSendResult] = []
        var failed = (response.Failed ?? []).map(\.failure)
        let byId = Dictionary(entries.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        for entry in response.Successful ?? [] {
            if verifyChecksums, let sent = byId[entry.Id] {
                do {
                    try checkMD5(entry.MD5OfMessageBody, of: sent.body, operation: "SendMessageBatch")
                    if !sent.attributes.isEmpty {
                        try checkAttributesMD5(entry.MD5OfMessageAttributes, of: sent.attributes, operation: "SendMessageBatch")
                    }
                } catch {
                    failed.append(SQSBatchFailure(id: entry.Id, code: "ChecksumMismatch", message: "\(error)", senderFault: false))
                    continue
                }
            }
            successful.append(SQSSendResult(id: entry.Id, messageId: entry.MessageId, sequenceNumber: entry.SequenceNumber))
        }
        let answered = Set(successful.compactMap(\.id) + failed.map(\.id))
        for entry in entries where !answered.contains(entry.id) {
            failed.append(SQSBatchFailure(id: entry.id, code: "MissingFromResponse", message: "SQS did not report this entry", senderFault: false))
        }
        return SQSBatchResult(successful: successful, failed: failed)
    }

    // MARK: Receive

    struct ReceiveRequest: Encodable {
        let QueueUrl: String
        let MaxNumberOfMessages: Int
        let WaitTimeSeconds: Int?
        let VisibilityTimeout: Int?
        let MessageSystemAttributeNames: [String]?
        let MessageAttributeNames: [String]?
    }

    struct ReceiveResponse: Decodable {
        struct Message: Decodable {
            let MessageId: String
            let ReceiptHandle: String
            let MD5OfBody: String?
            let Body: String
            let Attributes: [String: String]?
            let MD5OfMessageAttributes: String?
            let MessageAttributes: [String: SQSMessageAttributeValue]?
        }
        let Messages: [Message]?
    }

    /// ReceiveMessage with long polling (`waitTimeSeconds` 0–20). `attributeNames` are system attributes
    /// (`ApproximateReceiveCount`, `SentTimestamp`, or `All`); `messageAttributeNames` user attributes
    /// (`All` or names).
    public func receiveMessages(
        queueURL: String, maxMessages: Int = 10, waitTimeSeconds: Int? = 20, visibilityTimeout: Int? = nil,
        attributeNames: [String] = ["ApproximateReceiveCount", "SentTimestamp"], messageAttributeNames: [String] = ["All"]
    ) async throws -> [SQSMessage] {
        guard (1...10).contains(maxMessages) else { throw AWSClientError.invalidArgument("maxMessages \(maxMessages) not in 1...10") }
        if let waitTimeSeconds, !(0...20).contains(waitTimeSeconds) {
            throw AWSClientError.invalidArgument("waitTimeSeconds \(waitTimeSeconds) not in 0...20")
        }
        if let visibilityTimeout, !(0...43_200).contains(visibilityTimeout) {
            throw AWSClientError.invalidArgument("visibilityTimeout \(visibilityTimeout) not in 0...43200")
        }
        let timeout = client.configuration.timeouts.request + .seconds(Int64(waitTimeSeconds ?? 0))
        let response = try await call(
            "ReceiveMessage",
            ReceiveRequest(
                QueueUrl: queueURL, MaxNumberOfMessages: maxMessages, WaitTimeSeconds: waitTimeSeconds,
                VisibilityTimeout: visibilityTimeout, MessageSystemAttributeNames: attributeNames.isEmpty ? nil : attributeNames,
                MessageAttributeNames: messageAttributeNames.isEmpty ? nil : messageAttributeNames),
            as: ReceiveResponse.self, idempotent: true, timeout: timeout)
        return try (response.Messages ?? []).map { message in
            if verifyChecksums {
                try checkMD5(message.MD5OfBody, of: message.Body, operation: "ReceiveMessage")
                if let attributes = message.MessageAttributes, !attributes.isEmpty {
                    try checkAttributesMD5(message.MD5OfMessageAttributes, of: attributes, operation: "ReceiveMessage")
                }
            }
            return SQSMessage(
                messageId: message.MessageId, receiptHandle: message.ReceiptHandle, body: message.Body,
                attributes: message.Attributes ?? [:], messageAttributes: message.MessageAttributes ?? [:])
        }
    }

    // MARK: Delete / visibility

    struct DeleteRequest: Encodable {
        let QueueUrl: String
        let ReceiptHandle: String
    }

    public func deleteMessage(queueURL: String, receiptHandle: String) async throws {
        _ = try await call("DeleteMessage", DeleteRequest(QueueUrl: queueURL, ReceiptHandle: receiptHandle), as: Empty.self, idempotent: true)
    }

    struct IdResponse: Decodable { let Id: String }
    struct BatchResponse: Decodable {
        let Successful: [IdResponse]?
        let Failed: [BatchFailureDTO]?
    }

    struct DeleteBatchRequest: Encodable {
        struct Entry: Encodable {
            let Id: String
            let ReceiptHandle: String
        }
        let QueueUrl: String
        let Entries: [Entry]
    }

    /// DeleteMessageBatch: `entries` are (id, receipt handle). Returns the ids deleted and those not.
    public func deleteMessageBatch(queueURL: String, entries: [(id: String, receiptHandle: String)]) async throws -> SQSBatchResult<String> {
        try Self.validateBatch(ids: entries.map(\.id))
        let response = try await call(
            "DeleteMessageBatch",
            DeleteBatchRequest(QueueUrl: queueURL, Entries: entries.map { .init(Id: $0.id, ReceiptHandle: $0.receiptHandle) }),
            as: BatchResponse.self, idempotent: true)
        return Self.batchResult(response, ids: entries.map(\.id))
    }

    struct VisibilityRequest: Encodable {
        let QueueUrl: String
        let ReceiptHandle: String
        let VisibilityTimeout: Int
    }

    public func changeMessageVisibility(queueURL: String, receiptHandle: String, visibilityTimeout: Int) async throws {
        guard (0...43_200).contains(visibilityTimeout) else {
            throw AWSClientError.invalidArgument("visibilityTimeout \(visibilityTimeout) not in 0...43200")
        }
        _ = try await call(
            "ChangeMessageVisibility",
            VisibilityRequest(QueueUrl: queueURL, ReceiptHandle: receiptHandle, VisibilityTimeout: visibilityTimeout),
            as: Empty.self, idempotent: true)
    }

    struct VisibilityBatchRequest: Encodable {
        struct Entry: Encodable {
            let Id: String
            let ReceiptHandle: String
            let VisibilityTimeout: Int
        }
        let QueueUrl: String
        let Entries: [Entry]
    }

    public func changeMessageVisibilityBatch(queueURL: String, entries: [SQSVisibilityEntry]) async throws -> SQSBatchResult<String> {
        try Self.validateBatch(ids: entries.map(\.id))
        for entry in entries where !(0...43_200).contains(entry.visibilityTimeout) {
            throw AWSClientError.invalidArgument("visibilityTimeout \(entry.visibilityTimeout) not in 0...43200")
        }
        let response = try await call(
            "ChangeMessageVisibilityBatch",
            VisibilityBatchRequest(
                QueueUrl: queueURL,
                Entries: entries.map { .init(Id: $0.id, ReceiptHandle: $0.receiptHandle, VisibilityTimeout: $0.visibilityTimeout) }),
            as: BatchResponse.self, idempotent: true)
        return Self.batchResult(response, ids: entries.map(\.id))
    }

    static func batchResult(_ response: BatchResponse, ids: [String]) -> SQSBatchResult<String> {
        let successful = (response.Successful ?? []).map(\.Id)
        var failed = (response.Failed ?? []).map(\.failure)
        let answered = Set(successful + failed.map(\.id))
        for id in ids where !answered.contains(id) {
            failed.append(SQSBatchFailure(id: id, code: "MissingFromResponse", message: "SQS did not report this entry", senderFault: false))
        }
        return SQSBatchResult(successful: successful, failed: failed)
    }

    // MARK: Queues

    struct AttributesRequest: Encodable {
        let QueueUrl: String
        let AttributeNames: [String]
    }
    struct AttributesResponse: Decodable { let Attributes: [String: String]? }

    /// GetQueueAttributes (`All` or names such as `ApproximateNumberOfMessages`, `QueueArn`, `RedrivePolicy`).
    public func getQueueAttributes(queueURL: String, names: [String] = ["All"]) async throws -> [String: String] {
        try await call(
            "GetQueueAttributes", AttributesRequest(QueueUrl: queueURL, AttributeNames: names), as: AttributesResponse.self,
            idempotent: true
        ).Attributes ?? [:]
    }

    struct QueueURLRequest: Encodable {
        let QueueName: String
        let QueueOwnerAWSAccountId: String?
    }
    struct QueueURLResponse: Decodable { let QueueUrl: String }

    public func getQueueURL(queueName: String, ownerAccountId: String? = nil) async throws -> String {
        try await call(
            "GetQueueUrl", QueueURLRequest(QueueName: queueName, QueueOwnerAWSAccountId: ownerAccountId),
            as: QueueURLResponse.self, idempotent: true
        ).QueueUrl
    }

    struct CreateQueueRequest: Encodable {
        let QueueName: String
        let Attributes: [String: String]?
    }

    /// CreateQueue (idempotent for identical attributes). Attributes are SQS's strings, e.g.
    /// `VisibilityTimeout`, `MessageRetentionPeriod`, `RedrivePolicy` (see `redrivePolicy(...)`), `FifoQueue`.
    public func createQueue(name: String, attributes: [String: String] = [:]) async throws -> String {
        try await call(
            "CreateQueue", CreateQueueRequest(QueueName: name, Attributes: attributes.isEmpty ? nil : attributes),
            as: QueueURLResponse.self, idempotent: true
        ).QueueUrl
    }

    /// The JSON of a `RedrivePolicy` attribute.
    public static func redrivePolicy(deadLetterTargetArn: String, maxReceiveCount: Int) -> String {
        let escaped = deadLetterTargetArn.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return "{\"deadLetterTargetArn\":\"\(escaped)\",\"maxReceiveCount\":\(maxReceiveCount)}"
    }

    struct QueueRequest: Encodable { let QueueUrl: String }

    public func deleteQueue(queueURL: String) async throws {
        _ = try await call("DeleteQueue", QueueRequest(QueueUrl: queueURL), as: Empty.self, idempotent: true)
    }

    public func purgeQueue(queueURL: String) async throws {
        _ = try await call("PurgeQueue", QueueRequest(QueueUrl: queueURL), as: Empty.self, idempotent: true)
    }

    // MARK: Validation and checksums

    static func validate(body: String, attributes: [String: SQSMessageAttributeValue], delaySeconds: Int?) throws {
        guard !body.isEmpty else { throw AWSClientError.invalidArgument("SQS message body is empty") }
        guard body.utf8.count <= 262_144 else { throw AWSClientError.invalidArgument("SQS message body exceeds 256 KiB") }
        for scalar in body.unicodeScalars {
            let v = scalar.value
            let allowed = v == 0x9 || v == 0xA || v == 0xD || (0x20...0xD7FF).contains(v) || (0xE000...0xFFFD).contains(v)
                || (0x10000...0x10FFFF).contains(v)
            if !allowed { throw AWSClientError.invalidArgument("SQS message body contains U+\(String(v, radix: 16, uppercase: true)), which SQS rejects") }
        }
        guard attributes.count <= 10 else { throw AWSClientError.invalidArgument("more than 10 message attributes") }
        for name in attributes.keys where name.isEmpty || name.utf8.count > 256 || name.hasPrefix("AWS.") || name.hasPrefix("Amazon.") {
            throw AWSClientError.invalidArgument("message attribute name '\(name)' is not allowed")
        }
        if let delaySeconds, !(0...900).contains(delaySeconds) {
            throw AWSClientError.invalidArgument("delaySeconds \(delaySeconds) not in 0...900")
        }
    }

    static func validateBatch(ids: [String]) throws {
        guard (1...10).contains(ids.count) else { throw AWSClientError.invalidArgument("a batch holds 1 to 10 entries, got \(ids.count)") }
        guard Set(ids).count == ids.count else { throw AWSClientError.invalidArgument("batch entry ids must be unique") }
        for id in ids {
            guard (1...80).contains(id.utf8.count),
                id.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_") })
            else { throw AWSClientError.invalidArgument("batch entry id '\(id)' must be 1-80 of [A-Za-z0-9_-]") }
        }
    }

    func checkMD5(_ expected: String?, of body: String, operation: String) throws {
        guard let expected else { return }
        let actual = Self.md5Hex(Array(body.utf8))
        if actual.lowercased() != expected.lowercased() {
            throw AWSClientError.checksumMismatch(service: "SQS", operation: operation, detail: "MD5 of body \(actual) ≠ \(expected)")
        }
    }

    func checkAttributesMD5(_ expected: String?, of attributes: [String: SQSMessageAttributeValue], operation: String) throws {
        guard let expected else { return }
        let actual = Self.attributesMD5(attributes)
        if actual.lowercased() != expected.lowercased() {
            throw AWSClientError.checksumMismatch(service: "SQS", operation: operation, detail: "MD5 of message attributes \(actual) ≠ \(expected)")
        }
    }

    static func md5Hex(_ bytes: [UInt8]) -> String {
        Insecure.MD5.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    /// SQS's message-attribute digest: for each attribute sorted by name, length-prefixed (4-byte big
    /// endian) name, data type, a transport byte (1 string, 2 binary) and the length-prefixed value.
    static func attributesMD5(_ attributes: [String: SQSMessageAttributeValue]) -> String {
        var bytes: [UInt8] = []
        func appendPrefixed(_ value: [UInt8]) {
            let count = UInt32(value.count)
            bytes += [UInt8(count >> 24 & 0xFF), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)]
            bytes += value
        }
        for name in attributes.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            guard let value = attributes[name] else { continue }
            appendPrefixed(Array(name.utf8))
            appendPrefixed(Array(value.dataType.utf8))
            switch value {
            case .binary(let data):
                bytes.append(2)
                appendPrefixed(Array(data))
            case .string(let text), .number(let text), .custom(_, let text):
                bytes.append(1)
                appendPrefixed(Array(text.utf8))
            }
        }
        return md5Hex(bytes)
    }
}
