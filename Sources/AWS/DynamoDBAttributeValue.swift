import Foundation

/// A DynamoDB attribute value, typed as on the wire (`{"S": "x"}`, `{"N": "1"}`, ...).
public indirect enum DynamoDBAttributeValue: Sendable, Hashable, Codable {
    case s(String)
    /// Numbers travel as strings to keep their precision.
    case n(String)
    case bool(Bool)
    case null
    case m([String: DynamoDBAttributeValue])
    case l([DynamoDBAttributeValue])
    case b(Data)
    case ss([String])
    case ns([String])
    case bs([Data])

    // MARK: Convenience

    public static func number(_ value: Int) -> Self { .n(String(value)) }
    public static func number(_ value: Int64) -> Self { .n(String(value)) }
    /// A finite double (DynamoDB has no NaN or infinity; those throw).
    public static func number(_ value: Double) throws -> Self {
        guard value.isFinite else { throw AWSClientError.invalidArgument("DynamoDB numbers must be finite, got \(value)") }
        return .n(String(value))
    }

    public var stringValue: String? { if case .s(let value) = self { return value } else { return nil } }
    public var intValue: Int? { if case .n(let value) = self { return Int(value) } else { return nil } }
    public var int64Value: Int64? { if case .n(let value) = self { return Int64(value) } else { return nil } }
    public var doubleValue: Double? { if case .n(let value) = self { return Double(value) } else { return nil } }
    public var boolValue: Bool? { if case .bool(let value) = self { return value } else { return nil } }
    public var mapValue: [String: DynamoDBAttributeValue]? { if case .m(let value) = self { return value } else { return nil } }
    public var listValue: [DynamoDBAttributeValue]? { if case .l(let value) = self { return value } else { return nil } }
    public var isNull: Bool { if case .null = self { return true } else { return false } }

    // MARK: Codable

    struct TypeKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: TypeKey.self)
        let keys = container.allKeys
        guard keys.count == 1, let key = keys.first else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "an attribute value has exactly one type key, got \(keys.map(\.stringValue))"))
        }
        switch key.stringValue {
        case "S": self = .s(try container.decode(String.self, forKey: key))
        case "N":
            let text = try container.decode(String.self, forKey: key)
            guard Double(text) != nil else {
                throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "N '\(text)' is not a number")
            }
            self = .n(text)
        case "BOOL": self = .bool(try container.decode(Bool.self, forKey: key))
        case "NULL":
            guard try container.decode(Bool.self, forKey: key) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "NULL must be true")
            }
            self = .null
        case "M": self = .m(try container.decode([String: DynamoDBAttributeValue].self, forKey: key))
        case "L": self = .l(try container.decode([DynamoDBAttributeValue].self, forKey: key))
        case "B": self = .b(try Self.base64(try container.decode(String.self, forKey: key), key: key, container: container))
        case "SS": self = .ss(try container.decode([String].self, forKey: key))
        case "NS": self = .ns(try container.decode([String].self, forKey: key))
        case "BS":
            self = .bs(try container.decode([String].self, forKey: key).map { try Self.base64($0, key: key, container: container) })
        default:
            throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "unknown attribute type '\(key.stringValue)'")
        }
    }

    static func base64(_ text: String, key: TypeKey, container: KeyedDecodingContainer<TypeKey>) throws -> Data {
        guard let data = Data(base64Encoded: text) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "not base64")
        }
        return data
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: TypeKey.self)
        switch self {
        case .s(let value): try container.encode(value, forKey: TypeKey(stringValue: "S"))
        case .n(let value): try container.encode(value, forKey: TypeKey(stringValue: "N"))
        case .bool(let value): try container.encode(value, forKey: TypeKey(stringValue: "BOOL"))
        case .null: try container.encode(true, forKey: TypeKey(stringValue: "NULL"))
        case .m(let value): try container.encode(value, forKey: TypeKey(stringValue: "M"))
        case .l(let value): try container.encode(value, forKey: TypeKey(stringValue: "L"))
        case .b(let value): try container.encode(value.base64EncodedString(), forKey: TypeKey(stringValue: "B"))
        case .ss(let value): try container.encode(value, forKey: TypeKey(stringValue: "SS"))
        case .ns(let value): try container.encode(value, forKey: TypeKey(stringValue: "NS"))
        case .bs(let value): try container.encode(value.map { $0.base64EncodedString() }, forKey: TypeKey(stringValue: "BS"))
        }
    }
}

extension DynamoDBAttributeValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .s(value) }
    public init(integerLiteral value: Int) { self = .n(String(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: DynamoDBAttributeValue...) { self = .l(elements) }
    public init(dictionaryLiteral elements: (String, DynamoDBAttributeValue)...) {
        self = .m(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(nilLiteral: ()) { self = .null }
}

/// An item: attribute name → value.
public typealias DynamoDBItem = [String: DynamoDBAttributeValue]
