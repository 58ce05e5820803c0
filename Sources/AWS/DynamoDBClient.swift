import Foundation

/// A conditional write whose condition did not hold (`ConditionalCheckFailedException`): its own error,
/// because callers branch on it (someone else got there first), unlike on every other failure.
public struct DynamoDBConditionalCheckFailed: Error, Sendable, Equatable, CustomStringConvertible {
    public let operation: String
    public let table: String
    public let message: String
    public let requestId: String?
    public var description: String { "DynamoDB \(operation) on \(table): condition not met (\(message))" }
}

/// What UpdateItem/PutItem return.
public enum DynamoDBReturnValues: String, Sendable {
    case none = "NONE"
    case allOld = "ALL_OLD"
    case updatedOld = "UPDATED_OLD"
    case allNew = "ALL_NEW"
    case updatedNew = "UPDATED_NEW"
}

public struct DynamoDBQueryPage: Sendable, Equatable {
    public var items: [DynamoDBItem]
    public var lastEvaluatedKey: DynamoDBItem?
    public var count: Int
}

/// Key schema for CreateTable.
public struct DynamoDBKey: Sendable, Equatable {
    public enum KeyType: String, Sendable { case string = "S", number = "N", binary = "B" }
    public var name: String
    public var type: KeyType
    public init(_ name: String, _ type: KeyType) {
        self.name = name
        self.type = type
    }
}

/// DynamoDB over JSON 1.0 (`X-Amz-Target: DynamoDB_20120810.<Operation>`).
public struct DynamoDBClient: Sendable {
    public let client: AWSClient
    public init(client: AWSClient) { self.client = client }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    func call<Request: Encodable, Response: Decodable>(
        _ operation: String, table: String, _ request: Request, as: Response.Type, idempotent: Bool
    ) async throws -> Response {
        let body: [UInt8]
        do {
            body = Array(try Self.encoder.encode(request))
        } catch {
            throw AWSClientError.invalidArgument("DynamoDB \(operation): cannot encode request: \(error)")
        }
        let response: [UInt8]
        do {
            response = try await client.jsonCall(
                service: .dynamodb, target: "DynamoDB_20120810.\(operation)", operation: operation, body: body,
                idempotent: idempotent)
        } catch let error as AWSError where error.code == .conditionalCheckFailed {
            throw DynamoDBConditionalCheckFailed(
                operation: operation, table: table, message: error.message, requestId: error.requestId)
        }
        do {
            return try JSONDecoder().decode(Response.self, from: Data(response))
        } catch {
            throw AWSClientError.malformedResponse(service: "DynamoDB", operation: operation, reason: "\(error)")
        }
    }

    struct AttributesResponse: Decodable { let Attributes: DynamoDBItem? }

    struct PutItemRequest: Encodable {
        let TableName: String
        let Item: DynamoDBItem
        let ConditionExpression: String?
        let ExpressionAttributeNames: [String: String]?
        let ExpressionAttributeValues: DynamoDBItem?
        let ReturnValues: String?
    }

    /// PutItem, optionally conditional (e.g. `attribute_not_exists(pk)`); throws
    /// `DynamoDBConditionalCheckFailed` when the condition fails. Returns the old item for `.allOld`.
    @discardableResult
    public func putItem(
        table: String, item: DynamoDBItem, condition: String? = nil, names: [String: String] = [:],
        values: DynamoDBItem = [:], returnValues: DynamoDBReturnValues = .none
    ) async throws -> DynamoDBItem? {
        guard !item.isEmpty else { throw AWSClientError.invalidArgument("PutItem needs a non-empty item") }
        return try await call(
            "PutItem", table: table,
            PutItemRequest(
                TableName: table, Item: item, ConditionExpression: condition, ExpressionAttributeNames: names.isEmpty ? nil : names,
                ExpressionAttributeValues: values.isEmpty ? nil : values,
                ReturnValues: returnValues == .none ? nil : returnValues.rawValue),
            as: AttributesResponse.self, idempotent: condition == nil
        ).Attributes
    }

    struct UpdateItemRequest: Encodable {
        let TableName: String
        let Key: DynamoDBItem
        let UpdateExpression: String
        let ConditionExpression: String?
        let ExpressionAttributeNames: [String: String]?
        let ExpressionAttributeValues: DynamoDBItem?
        let ReturnValues: String?
    }

    /// UpdateItem with an update expression (`SET #s = :s ADD attempts :one`) and an optional condition.
    /// Not retried after ambiguous failures unless `idempotent` (an `ADD` applied twice counts twice).
    @discardableResult
    public func updateItem(
        table: String, key: DynamoDBItem, update: String, condition: String? = nil, names: [String: String] = [:],
        values: DynamoDBItem = [:], returnValues: DynamoDBReturnValues = .none, idempotent: Bool = false
    ) async throws -> DynamoDBItem? {
        guard !key.isEmpty else { throw AWSClientError.invalidArgument("UpdateItem needs a key") }
        guard !update.isEmpty else { throw AWSClientError.invalidArgument("UpdateItem needs an update expression") }
        return try await call(
            "UpdateItem", table: table,
            UpdateItemRequest(
                TableName: table, Key: key, UpdateExpression: update, ConditionExpression: condition,
                ExpressionAttributeNames: names.isEmpty ? nil : names, ExpressionAttributeValues: values.isEmpty ? nil : values,
                ReturnValues: returnValues == .none ? nil : returnValues.rawValue),
            as: AttributesResponse.self, idempotent: idempotent
        ).Attributes
    }

    struct GetItemRequest: Encodable {
        let TableName: String
        let Key: DynamoDBItem
        let ConsistentRead: Bool?
        let ProjectionExpression: String?
        let ExpressionAttributeNames: [String: String]?
    }
    struct GetItemResponse: Decodable { let Item: DynamoDBItem? }

    /// GetItem; `nil` when there is no such item.
    public func getItem(
        table: String, key: DynamoDBItem, consistentRead: Bool = false, projection: String? = nil,
        names: [String: String] = [:]
    ) async throws -> DynamoDBItem? {
        guard !key.isEmpty else { throw AWSClientError.invalidArgument("GetItem needs a key") }
        return try await call(
            "GetItem", table: table,
            GetItemRequest(
                TableName: table, Key: key, ConsistentRead: consistentRead ? true : nil, ProjectionExpression: projection,
                ExpressionAttributeNames: names.isEmpty ? nil : names),
            as: GetItemResponse.self, idempotent: true
        ).Item
    }

    struct QueryRequest: Encodable {
        let TableName: String
        let IndexName: String?
        let KeyConditionExpression: String
        let FilterExpression: String?
        let ExpressionAttributeNames: [String: String]?
        let ExpressionAttributeValues: DynamoDBItem?
        let Limit: Int?
        let ExclusiveStartKey: DynamoDBItem?
        let ScanIndexForward: Bool?
        let ConsistentRead: Bool?
    }
    struct QueryResponse: Decodable {
        let Items: [DynamoDBItem]?
        let LastEvaluatedKey: DynamoDBItem?
        let Count: Int?
    }

    /// One page of Query. Pass `lastEvaluatedKey` back as `exclusiveStartKey` for the next page.
    public func query(
        table: String, keyCondition: String, filter: String? = nil, names: [String: String] = [:],
        values: DynamoDBItem = [:], index: String? = nil, limit: Int? = nil, exclusiveStartKey: DynamoDBItem? = nil,
        scanForward: Bool = true, consistentRead: Bool = false
    ) async throws -> DynamoDBQueryPage {
        if let limit, limit < 1 { throw AWSClientError.invalidArgument("Query limit must be positive") }
        let response = try await call(
            "Query", table: table,
            QueryRequest(
                TableName: table, IndexName: index, KeyConditionExpression: keyCondition, FilterExpression: filter,
                ExpressionAttributeNames: names.isEmpty ? nil : names, ExpressionAttributeValues: values.isEmpty ? nil : values,
                Limit: limit, ExclusiveStartKey: exclusiveStartKey, ScanIndexForward: scanForward ? nil : false,
                ConsistentRead: consistentRead ? true : nil),
            as: QueryResponse.self, idempotent: true)
        let items = response.Items ?? []
        return DynamoDBQueryPage(items: items, lastEvaluatedKey: response.LastEvaluatedKey, count: response.Count ?? items.count)
    }

    struct ScanRequest: Encodable {
        let TableName: String
        let IndexName: String?
        let FilterExpression: String?
        let ExpressionAttributeNames: [String: String]?
        let ExpressionAttributeValues: DynamoDBItem?
        let Limit: Int?
        let ExclusiveStartKey: DynamoDBItem?
        let ConsistentRead: Bool?
    }

    /// One page of Scan (the whole table, optionally filtered). Pass `lastEvaluatedKey` back as
    /// `exclusiveStartKey` for the next page.
    public func scan(
        table: String, filter: String? = nil, names: [String: String] = [:], values: DynamoDBItem = [:],
        index: String? = nil, limit: Int? = nil, exclusiveStartKey: DynamoDBItem? = nil, consistentRead: Bool = false
    ) async throws -> DynamoDBQueryPage {
        if let limit, limit < 1 { throw AWSClientError.invalidArgument("Scan limit must be positive") }
        let response = try await call(
            "Scan", table: table,
            ScanRequest(
                TableName: table, IndexName: index, FilterExpression: filter,
                ExpressionAttributeNames: names.isEmpty ? nil : names, ExpressionAttributeValues: values.isEmpty ? nil : values,
                Limit: limit, ExclusiveStartKey: exclusiveStartKey, ConsistentRead: consistentRead ? true : nil),
            as: QueryResponse.self, idempotent: true)
        let items = response.Items ?? []
        return DynamoDBQueryPage(items: items, lastEvaluatedKey: response.LastEvaluatedKey, count: response.Count ?? items.count)
    }

    struct CreateTableRequest: Encodable {
        struct AttributeDefinition: Encodable, Equatable {
            let AttributeName: String
            let AttributeType: String
        }
        struct KeySchemaElement: Encodable {
            let AttributeName: String
            let KeyType: String
        }
        struct Projection: Encodable { let ProjectionType: String }
        struct GlobalSecondaryIndex: Encodable {
            let IndexName: String
            let KeySchema: [KeySchemaElement]
            let Projection: Projection
        }
        let TableName: String
        let AttributeDefinitions: [AttributeDefinition]
        let KeySchema: [KeySchemaElement]
        let GlobalSecondaryIndexes: [GlobalSecondaryIndex]?
        let BillingMode: String
    }
    struct TableDescriptionResponse: Decodable {
        struct Description: Decodable {
            let TableName: String?
            let TableStatus: String?
            let ItemCount: Int?
        }
        let TableDescription: Description?
        let Table: Description?
    }

    /// A global secondary index (all attributes projected) for `createTable`.
    public struct GlobalIndex: Sendable {
        public var name: String
        public var partitionKey: DynamoDBKey
        public var sortKey: DynamoDBKey?
        public init(name: String, partitionKey: DynamoDBKey, sortKey: DynamoDBKey? = nil) {
            self.name = name
            self.partitionKey = partitionKey
            self.sortKey = sortKey
        }
    }

    /// CreateTable (on-demand billing) with a partition key, optional sort key and global secondary indexes.
    public func createTable(name: String, partitionKey: DynamoDBKey, sortKey: DynamoDBKey? = nil,
                            indexes: [GlobalIndex] = []) async throws {
        var definitions: [CreateTableRequest.AttributeDefinition] = []
        func define(_ key: DynamoDBKey) {
            let definition = CreateTableRequest.AttributeDefinition(AttributeName: key.name, AttributeType: key.type.rawValue)
            if !definitions.contains(definition) { definitions.append(definition) }
        }
        func schema(_ hash: DynamoDBKey, _ range: DynamoDBKey?) -> [CreateTableRequest.KeySchemaElement] {
            define(hash)
            var elements = [CreateTableRequest.KeySchemaElement(AttributeName: hash.name, KeyType: "HASH")]
            if let range {
                define(range)
                elements.append(.init(AttributeName: range.name, KeyType: "RANGE"))
            }
            return elements
        }
        let keySchema = schema(partitionKey, sortKey)
        let gsis = indexes.map {
            CreateTableRequest.GlobalSecondaryIndex(
                IndexName: $0.name, KeySchema: schema($0.partitionKey, $0.sortKey), Projection: .init(ProjectionType: "ALL"))
        }
        _ = try await call(
            "CreateTable", table: name,
            CreateTableRequest(TableName: name, AttributeDefinitions: definitions, KeySchema: keySchema,
                               GlobalSecondaryIndexes: gsis.isEmpty ? nil : gsis, BillingMode: "PAY_PER_REQUEST"),
            as: TableDescriptionResponse.self, idempotent: false)
    }

    struct TableRequest: Encodable { let TableName: String }

    /// DescribeTable; returns the table status (`ACTIVE`, `CREATING`, ...). The doctor's cheap read.
    public func describeTableStatus(name: String) async throws -> String {
        let response = try await call("DescribeTable", table: name, TableRequest(TableName: name), as: TableDescriptionResponse.self, idempotent: true)
        guard let status = response.Table?.TableStatus else {
            throw AWSClientError.malformedResponse(service: "DynamoDB", operation: "DescribeTable", reason: "no Table.TableStatus")
        }
        return status
    }

    public func deleteTable(name: String) async throws {
        _ = try await call("DeleteTable", table: name, TableRequest(TableName: name), as: TableDescriptionResponse.self, idempotent: true)
    }
}
