import Foundation

/// A CloudWatch Embedded Metric Format record: one JSON log line that CloudWatch Logs turns into metrics.
public struct EMFRecord: Sendable {
    public struct Metric: Sendable, Equatable {
        public var name: String
        /// One value, or up to 100 values (a distribution).
        public var values: [Double]
        public var unit: CloudWatchUnit
        /// 1 for high resolution.
        public var storageResolution: Int?

        public init(name: String, value: Double, unit: CloudWatchUnit = .none, storageResolution: Int? = nil) {
            self.init(name: name, values: [value], unit: unit, storageResolution: storageResolution)
        }

        public init(name: String, values: [Double], unit: CloudWatchUnit = .none, storageResolution: Int? = nil) {
            self.name = name
            self.values = values
            self.unit = unit
            self.storageResolution = storageResolution
        }
    }

    /// Extra (non-metric, non-dimension) fields, searchable in Logs Insights.
    public enum Property: Sendable, Equatable {
        case string(String)
        case number(Double)
        case bool(Bool)
    }

    public var namespace: String
    /// Dimension name → value (also written as top-level fields).
    public var dimensions: [String: String]
    /// Which dimension combinations to publish; default: one set with every dimension.
    public var dimensionSets: [[String]]?
    public var metrics: [Metric]
    public var properties: [String: Property]
    public var timestamp: Date

    public init(
        namespace: String, dimensions: [String: String] = [:], dimensionSets: [[String]]? = nil, metrics: [Metric],
        properties: [String: Property] = [:], timestamp: Date = Date()
    ) {
        self.namespace = namespace
        self.dimensions = dimensions
        self.dimensionSets = dimensionSets
        self.metrics = metrics
        self.properties = properties
        self.timestamp = timestamp
    }

    /// The record as one line of JSON (keys sorted, no trailing newline). Validates the EMF limits:
    /// 1–100 metrics, ≤ 30 dimensions per set, ≤ 100 values per metric, finite numbers, no name clashes.
    public func jsonLine() throws -> String {
        guard !namespace.isEmpty, namespace.utf8.count <= 255 else { throw AWSClientError.invalidArgument("EMF namespace is empty or too long") }
        guard (1...100).contains(metrics.count) else { throw AWSClientError.invalidArgument("EMF record needs 1 to 100 metrics") }
        var seen: Set<String> = ["_aws"]
        var document: [String: Any] = [:]
        for (name, value) in dimensions {
            guard !name.isEmpty, !value.isEmpty, seen.insert(name).inserted else {
                throw AWSClientError.invalidArgument("EMF dimension '\(name)' is empty or duplicated")
            }
            document[name] = value
        }
        let sets = dimensionSets ?? (dimensions.isEmpty ? [[]] : [dimensions.keys.sorted()])
        for set in sets {
            guard set.count <= 30 else { throw AWSClientError.invalidArgument("EMF dimension set has more than 30 dimensions") }
            for name in set where dimensions[name] == nil {
                throw AWSClientError.invalidArgument("EMF dimension set names '\(name)', which has no value")
            }
        }
        var metricDefinitions: [[String: Any]] = []
        for metric in metrics {
            guard !metric.name.isEmpty, seen.insert(metric.name).inserted else {
                throw AWSClientError.invalidArgument("EMF metric '\(metric.name)' is empty or clashes with another field")
            }
            guard (1...100).contains(metric.values.count), metric.values.allSatisfy(\.isFinite) else {
                throw AWSClientError.invalidArgument("EMF metric '\(metric.name)' needs 1 to 100 finite values")
            }
            document[metric.name] = metric.values.count == 1 ? metric.values[0] as Any : metric.values as Any
            var definition: [String: Any] = ["Name": metric.name, "Unit": metric.unit.rawValue]
            if let resolution = metric.storageResolution {
                guard resolution == 1 || resolution == 60 else { throw AWSClientError.invalidArgument("storage resolution must be 1 or 60") }
                definition["StorageResolution"] = resolution
            }
            metricDefinitions.append(definition)
        }
        for (name, property) in properties {
            guard !name.isEmpty, seen.insert(name).inserted else {
                throw AWSClientError.invalidArgument("EMF property '\(name)' is empty or clashes with another field")
            }
            switch property {
            case .string(let value): document[name] = value
            case .bool(let value): document[name] = value
            case .number(let value):
                guard value.isFinite else { throw AWSClientError.invalidArgument("EMF property '\(name)' is not finite") }
                document[name] = value
            }
        }
        document["_aws"] = [
            "Timestamp": Int64((timestamp.timeIntervalSince1970 * 1000).rounded(.down)),
            "CloudWatchMetrics": [["Namespace": namespace, "Dimensions": sets, "Metrics": metricDefinitions]],
        ]
        let data = try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}

/// Writes EMF records as lines to a sink (standard output by default, which the awslogs driver ships to
/// CloudWatch Logs). Thread-safe; one line per record.
public final class EMFWriter: Sendable {
    private let sink: @Sendable (String) -> Void

    public init(sink: @escaping @Sendable (String) -> Void = EMFWriter.standardOutput) {
        self.sink = sink
    }

    public func write(_ record: EMFRecord) throws {
        sink(try record.jsonLine())
    }

    private static let lock = NSLock()

    public static let standardOutput: @Sendable (String) -> Void = { line in
        lock.lock()
        defer { lock.unlock() }
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
