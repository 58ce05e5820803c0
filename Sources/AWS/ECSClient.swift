import Foundation

/// The one ECS control-plane call the fleet makes (JSON 1.1,
/// `X-Amz-Target: AmazonEC2ContainerServiceV20141113.DescribeServices`): the dispatcher reads the worker
/// service's running and desired counts for the scaling metrics.
public struct ECSClient: Sendable {
    public let client: AWSClient
    public init(client: AWSClient) { self.client = client }

    public struct ServiceCounts: Sendable, Equatable {
        public var serviceName: String
        public var status: String?
        public var runningCount: Int
        public var desiredCount: Int
        public var pendingCount: Int
    }

    struct Request: Encodable {
        let cluster: String
        let services: [String]
    }
    struct Response: Decodable {
        struct Service: Decodable {
            let serviceName: String?
            let status: String?
            let runningCount: Int?
            let desiredCount: Int?
            let pendingCount: Int?
        }
        struct Failure: Decodable {
            let arn: String?
            let reason: String?
        }
        let services: [Service]?
        let failures: [Failure]?
    }

    /// DescribeServices for one service; throws `AWSClientError.invalidArgument` naming ECS's reason when
    /// the service is missing (ECS reports that as a `failures` entry, not an error status).
    public func describeService(cluster: String, service: String) async throws -> ServiceCounts {
        let body = Array(try JSONEncoder().encode(Request(cluster: cluster, services: [service])))
        let bytes = try await client.jsonCall(
            service: .ecs, target: "AmazonEC2ContainerServiceV20141113.DescribeServices", operation: "DescribeServices",
            body: body, idempotent: true, jsonVersion: "1.1")
        let response: Response
        do {
            response = try JSONDecoder().decode(Response.self, from: Data(bytes))
        } catch {
            throw AWSClientError.malformedResponse(service: "ECS", operation: "DescribeServices", reason: "\(error)")
        }
        guard let found = response.services?.first(where: { $0.serviceName == service || response.services?.count == 1 }) else {
            let reason = response.failures?.first?.reason ?? "no such service"
            throw AWSClientError.invalidArgument("ECS service \(service) in cluster \(cluster): \(reason)")
        }
        return ServiceCounts(
            serviceName: found.serviceName ?? service, status: found.status, runningCount: found.runningCount ?? 0,
            desiredCount: found.desiredCount ?? 0, pendingCount: found.pendingCount ?? 0)
    }
}
