import Foundation

/// CloudWatch metric units (the subset the fleet uses plus the common ones).
public enum CloudWatchUnit: String, Sendable, Codable {
    case seconds = "Seconds"
    case milliseconds = "Milliseconds"
    case microseconds = "Microseconds"
    case bytes = "Bytes"
    case kilobytes = "Kilobytes"
    case megabytes = "Megabytes"
    case count = "Count"
    case percent = "Percent"
    case countPerSecond = "Count/Second"
    case bytesPerSecond = "Bytes/Second"
    case none = "None"
}

/// One data point for PutMetricData.
public struct CloudWatchDatum: Sendable, Equatable {
    public var name: String
    public var value: Double
    public var unit: CloudWatchUnit
    public var dimensions: [(String, String)]
    public var timestamp: Date?
    /// 1 for high-resolution metrics, 60 (default) otherwise.
    public var storageResolution: Int?

    public init(
        name: String, value: Double, unit: CloudWatchUnit = .none, dimensions: [(String, String)] = [],
        timestamp: Date? = nil, storageResolution: Int? = nil
    ) {
        self.name = name
        self.value = value
        self.unit = unit
        self.dimensions = dimensions
        self.timestamp = timestamp
        self.storageResolution = storageResolution
    }

    public static func == (lhs: CloudWatchDatum, rhs: CloudWatchDatum) -> Bool {
        lhs.name == rhs.name && lhs.value == rhs.value && lhs.unit == rhs.unit && lhs.timestamp == rhs.timestamp
            && lhs.storageResolution == rhs.storageResolution && lhs.dimensions.elementsEqual(rhs.dimensions, by: { $0 == $1 })
    }
}

/// A metric as listed by ListMetrics.
public struct CloudWatchMetric: Sendable, Equatable {
    public var namespace: String
    public var name: String
    public var dimensions: [String: String]
}

/// CloudWatch over the query protocol.
public struct CloudWatchClient: Sendable {
    public let client: AWSClient
    static let version = "2010-08-01"
    /// Datums per PutMetricData call (the API allows 1,000; smaller calls stay under the 1 MB body limit).
    public static let batchSize = 500

    public init(client: AWSClient) { self.client = client }

    /// PutMetricData, split into calls of `batchSize`. Values must be finite; names and dimensions
    /// non-empty; at most 30 dimensions per datum.
    public func putMetricData(namespace: String, data: [CloudWatchDatum]) async throws {
        guard !namespace.isEmpty, namespace.utf8.count <= 255, !namespace.hasPrefix("AWS/") else {
            throw AWSClientError.invalidArgument("CloudWatch namespace '\(namespace)' is empty, too long or reserved")
        }
        for datum in data { try Self.validate(datum) }
        var start = 0
        while start < data.count {
            let chunk = data[start..<min(start + Self.batchSize, data.count)]
            var parameters: [(String, String)] = [("Namespace", namespace)]
            for (offset, datum) in chunk.enumerated() {
                let prefix = "MetricData.member.\(offset + 1)"
                parameters.append(("\(prefix).MetricName", datum.name))
                parameters.append(("\(prefix).Value", Self.format(datum.value)))
                parameters.append(("\(prefix).Unit", datum.unit.rawValue))
                if let timestamp = datum.timestamp { parameters.append(("\(prefix).Timestamp", AWSDate.formatISO8601(timestamp))) }
                if let resolution = datum.storageResolution { parameters.append(("\(prefix).StorageResolution", String(resolution))) }
                for (index, dimension) in datum.dimensions.enumerated() {
                    parameters.append(("\(prefix).Dimensions.member.\(index + 1).Name", dimension.0))
                    parameters.append(("\(prefix).Dimensions.member.\(index + 1).Value", dimension.1))
                }
            }
            // Not idempotent: a repeated call would count the data twice.
            _ = try await client.queryCall(
                service: .cloudwatch, action: "PutMetricData", version: Self.version, parameters: parameters, idempotent: false)
            start += Self.batchSize
        }
    }

    static func validate(_ datum: CloudWatchDatum) throws {
        guard !datum.name.isEmpty, datum.name.utf8.count <= 255 else {
            throw AWSClientError.invalidArgument("metric name '\(datum.name)' is empty or too long")
        }
        guard datum.value.isFinite else { throw AWSClientError.invalidArgument("metric \(datum.name) value \(datum.value) is not finite") }
        guard datum.dimensions.count <= 30 else { throw AWSClientError.invalidArgument("metric \(datum.name) has more than 30 dimensions") }
        for (name, value) in datum.dimensions where name.isEmpty || value.isEmpty || name.utf8.count > 255 || value.utf8.count > 1024 {
            throw AWSClientError.invalidArgument("metric \(datum.name) has an empty or oversized dimension")
        }
        if let resolution = datum.storageResolution, resolution != 1 && resolution != 60 {
            throw AWSClientError.invalidArgument("storage resolution must be 1 or 60")
        }
    }

    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    /// ListMetrics for a namespace (and optionally a metric name), all pages.
    public func listMetrics(namespace: String, metricName: String? = nil) async throws -> [CloudWatchMetric] {
        var metrics: [CloudWatchMetric] = []
        var token: String?
        var pages = 0
        repeat {
            var parameters: [(String, String)] = [("Namespace", namespace)]
            if let metricName { parameters.append(("MetricName", metricName)) }
            if let token { parameters.append(("NextToken", token)) }
            let root = try await client.queryCall(
                service: .cloudwatch, action: "ListMetrics", version: Self.version, parameters: parameters, idempotent: true)
            guard let result = root.child("ListMetricsResult") else {
                throw AWSClientError.malformedResponse(service: "CloudWatch", operation: "ListMetrics", reason: "root <\(root.name)> without ListMetricsResult")
            }
            for member in result.child("Metrics")?.children("member") ?? [] {
                var dimensions: [String: String] = [:]
                for dimension in member.child("Dimensions")?.children("member") ?? [] {
                    if let name = dimension.string("Name") { dimensions[name] = dimension.string("Value") ?? "" }
                }
                metrics.append(
                    CloudWatchMetric(
                        namespace: member.string("Namespace") ?? namespace, name: member.string("MetricName") ?? "",
                        dimensions: dimensions))
            }
            token = nonEmpty(result.string("NextToken"))
            pages += 1
            if pages > 10_000 {
                throw AWSClientError.malformedResponse(service: "CloudWatch", operation: "ListMetrics", reason: "pagination does not end")
            }
        } while token != nil
        return metrics
    }
}
