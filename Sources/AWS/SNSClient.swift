import Foundation

/// An SNS subscription as listed by ListSubscriptionsByTopic.
public struct SNSSubscription: Sendable, Equatable {
    public var subscriptionArn: String
    public var owner: String?
    public var protocolName: String
    public var endpoint: String
    public var topicArn: String
}

/// SNS over the query protocol (the only one moto accepts for SNS).
public struct SNSClient: Sendable {
    public let client: AWSClient
    static let version = "2010-03-31"

    public init(client: AWSClient) { self.client = client }

    func call(_ action: String, _ parameters: [(String, String)], idempotent: Bool) async throws -> AWSXMLNode {
        let root = try await client.queryCall(
            service: .sns, action: action, version: Self.version, parameters: parameters, idempotent: idempotent)
        guard root.name == "\(action)Response" else {
            throw AWSClientError.malformedResponse(service: "SNS", operation: action, reason: "root element <\(root.name)>")
        }
        return root
    }

    func required(_ node: AWSXMLNode?, _ name: String, action: String) throws -> String {
        guard let value = node?.string(name), !value.isEmpty else {
            throw AWSClientError.malformedResponse(service: "SNS", operation: action, reason: "missing <\(name)>")
        }
        return value
    }

    /// Publish with an optional subject (email subscribers see it) and message attributes (used by
    /// subscription filter policies). Not retried after ambiguous failures: a retry could deliver twice.
    @discardableResult
    public func publish(
        topicArn: String, message: String, subject: String? = nil,
        attributes: [String: SQSMessageAttributeValue] = [:], groupId: String? = nil, deduplicationId: String? = nil
    ) async throws -> String {
        guard !message.isEmpty else { throw AWSClientError.invalidArgument("SNS message is empty") }
        guard message.utf8.count <= 262_144 else { throw AWSClientError.invalidArgument("SNS message exceeds 256 KiB") }
        if let subject {
            // "UTF-8 text with no line breaks or control characters, and less than 100 characters long."
            guard !subject.isEmpty, subject.count < 100,
                subject.unicodeScalars.allSatisfy({ $0.value >= 0x20 && !(0x7F...0x9F).contains($0.value) && $0 != "\u{2028}" && $0 != "\u{2029}" })
            else {
                throw AWSClientError.invalidArgument("SNS subject must be 1-99 characters without line breaks or control characters")
            }
        }
        guard attributes.count <= 10 else { throw AWSClientError.invalidArgument("more than 10 message attributes") }
        var parameters: [(String, String)] = [("TopicArn", topicArn), ("Message", message)]
        if let subject { parameters.append(("Subject", subject)) }
        for (index, name) in attributes.keys.sorted().enumerated() {
            guard let value = attributes[name] else { continue }
            let prefix = "MessageAttributes.entry.\(index + 1)"
            parameters.append(("\(prefix).Name", name))
            parameters.append(("\(prefix).Value.DataType", value.dataType))
            switch value {
            case .binary(let data): parameters.append(("\(prefix).Value.BinaryValue", data.base64EncodedString()))
            case .string(let text), .number(let text), .custom(_, let text): parameters.append(("\(prefix).Value.StringValue", text))
            }
        }
        if let groupId { parameters.append(("MessageGroupId", groupId)) }
        if let deduplicationId { parameters.append(("MessageDeduplicationId", deduplicationId)) }
        let root = try await call("Publish", parameters, idempotent: deduplicationId != nil)
        return try required(root.child("PublishResult"), "MessageId", action: "Publish")
    }

    /// CreateTopic (idempotent: returns the existing ARN for the same name and attributes).
    public func createTopic(name: String, attributes: [String: String] = [:]) async throws -> String {
        var parameters: [(String, String)] = [("Name", name)]
        for (index, key) in attributes.keys.sorted().enumerated() {
            parameters.append(("Attributes.entry.\(index + 1).key", key))
            parameters.append(("Attributes.entry.\(index + 1).value", attributes[key] ?? ""))
        }
        let root = try await call("CreateTopic", parameters, idempotent: true)
        return try required(root.child("CreateTopicResult"), "TopicArn", action: "CreateTopic")
    }

    public func deleteTopic(topicArn: String) async throws {
        _ = try await call("DeleteTopic", [("TopicArn", topicArn)], idempotent: true)
    }

    /// GetTopicAttributes (also the cheap read `refvision doctor` uses).
    public func getTopicAttributes(topicArn: String) async throws -> [String: String] {
        let root = try await call("GetTopicAttributes", [("TopicArn", topicArn)], idempotent: true)
        return Self.entries(root.path("GetTopicAttributesResult", "Attributes"))
    }

    /// Subscribe, optionally with a filter policy (JSON) on message attributes. Returns the subscription ARN.
    public func subscribe(
        topicArn: String, protocol protocolName: String, endpoint: String, filterPolicy: String? = nil,
        rawMessageDelivery: Bool? = nil
    ) async throws -> String {
        var parameters: [(String, String)] = [
            ("TopicArn", topicArn), ("Protocol", protocolName), ("Endpoint", endpoint), ("ReturnSubscriptionArn", "true"),
        ]
        var attributes: [(String, String)] = []
        if let filterPolicy {
            guard (try? JSONSerialization.jsonObject(with: Data(filterPolicy.utf8))) is [String: Any] else {
                throw AWSClientError.invalidArgument("filter policy is not a JSON object")
            }
            attributes.append(("FilterPolicy", filterPolicy))
        }
        if let rawMessageDelivery { attributes.append(("RawMessageDelivery", rawMessageDelivery ? "true" : "false")) }
        for (index, attribute) in attributes.enumerated() {
            parameters.append(("Attributes.entry.\(index + 1).key", attribute.0))
            parameters.append(("Attributes.entry.\(index + 1).value", attribute.1))
        }
        let root = try await call("Subscribe", parameters, idempotent: true)
        return try required(root.child("SubscribeResult"), "SubscriptionArn", action: "Subscribe")
    }

    public func unsubscribe(subscriptionArn: String) async throws {
        _ = try await call("Unsubscribe", [("SubscriptionArn", subscriptionArn)], idempotent: true)
    }

    /// SetSubscriptionAttributes (e.g. `FilterPolicy`, `RawMessageDelivery`).
    public func setSubscriptionAttributes(subscriptionArn: String, name: String, value: String) async throws {
        _ = try await call("SetSubscriptionAttributes",
                           [("SubscriptionArn", subscriptionArn), ("AttributeName", name), ("AttributeValue", value)], idempotent: true)
    }

    public func getSubscriptionAttributes(subscriptionArn: String) async throws -> [String: String] {
        let root = try await call("GetSubscriptionAttributes", [("SubscriptionArn", subscriptionArn)], idempotent: true)
        return Self.entries(root.path("GetSubscriptionAttributesResult", "Attributes"))
    }

    /// ListSubscriptionsByTopic, all pages.
    public func listSubscriptionsByTopic(topicArn: String) async throws -> [SNSSubscription] {
        var all: [SNSSubscription] = []
        var token: String?
        var pages = 0
        repeat {
            var parameters: [(String, String)] = [("TopicArn", topicArn)]
            if let token { parameters.append(("NextToken", token)) }
            let root = try await call("ListSubscriptionsByTopic", parameters, idempotent: true)
            guard let result = root.child("ListSubscriptionsByTopicResult") else {
                throw AWSClientError.malformedResponse(service: "SNS", operation: "ListSubscriptionsByTopic", reason: "no result element")
            }
            for member in result.child("Subscriptions")?.children("member") ?? [] {
                all.append(
                    SNSSubscription(
                        subscriptionArn: member.string("SubscriptionArn") ?? "", owner: member.string("Owner"),
                        protocolName: member.string("Protocol") ?? "", endpoint: member.string("Endpoint") ?? "",
                        topicArn: member.string("TopicArn") ?? topicArn))
            }
            token = nonEmpty(result.string("NextToken"))
            pages += 1
            if pages > 10_000 {
                throw AWSClientError.malformedResponse(service: "SNS", operation: "ListSubscriptionsByTopic", reason: "pagination does not end")
            }
        } while token != nil
        return all
    }

    static func entries(_ node: AWSXMLNode?) -> [String: String] {
        var result: [String: String] = [:]
        for entry in node?.children("entry") ?? [] {
            if let key = entry.string("key") { result[key] = entry.string("value") ?? "" }
        }
        return result
    }
}
