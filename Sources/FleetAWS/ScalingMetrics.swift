import AWS
import Fleet
import Foundation

/// The worker service's running and desired task counts, from ECS DescribeServices.
public struct ECSFleetSize: FleetSizeSource {
    public let ecs: ECSClient
    public let cluster: String
    public let service: String

    public init(ecs: ECSClient, cluster: String, service: String) {
        self.ecs = ecs
        self.cluster = cluster
        self.service = service
    }

    public func workerCounts() async throws -> (running: Int, desired: Int) {
        let counts = try await ecs.describeService(cluster: cluster, service: service)
        return (counts.runningCount, counts.desiredCount)
    }
}

/// Publishes `BacklogPerTask` and `DesiredTasks` with PutMetricData, in the namespace and with the
/// dimensions `scaling/worker-policy.json` names (`Cluster`, `Service`).
public struct CloudWatchScalingMetrics: ScalingMetricsSink {
    public let cloudWatch: CloudWatchClient
    public let namespace: String
    public let cluster: String
    public let service: String

    public init(cloudWatch: CloudWatchClient, namespace: String, cluster: String, service: String) {
        self.cloudWatch = cloudWatch
        self.namespace = namespace
        self.cluster = cluster
        self.service = service
    }

    public func publish(backlogPerTask: Int, desiredTasks: Int, visible: Int) async throws {
        let dimensions = [("Cluster", cluster), ("Service", service)]
        try await cloudWatch.putMetricData(namespace: namespace, data: [
            CloudWatchDatum(name: "BacklogPerTask", value: Double(backlogPerTask), unit: .count, dimensions: dimensions),
            CloudWatchDatum(name: "DesiredTasks", value: Double(desiredTasks), unit: .count, dimensions: dimensions),
        ])
    }
}
