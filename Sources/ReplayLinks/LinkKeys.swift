import Crypto
import Foundation

/// Why a set of link keys could not be loaded. No case ever carries a secret.
public enum LinkKeysError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The environment variable is unset or empty. There is no built-in default key.
    case missingEnvironmentVariable(String)
    /// The text is not valid JSON.
    case notJSON
    /// The JSON is not an object.
    case notAnObject
    /// The object has no `active` member.
    case missingActive
    /// `active` names a key id that is not among the keys.
    case activeKeyNotFound(String)
    /// The secret for this key id is shorter than ``LinkKeys/minimumSecretLength`` bytes of UTF-8.
    case secretTooShort(keyId: String, bytes: Int)
    /// A key id (or the `active` value) does not match `[A-Za-z0-9_-]{1,32}`.
    /// The offending text is not repeated, in case a secret was put where an id belongs.
    case invalidKeyId
    /// This member's value (`active` or a key id's secret) is not a JSON string.
    case nonStringValue(member: String)

    public var description: String {
        switch self {
        case .missingEnvironmentVariable(let name):
            "link keys: environment variable \(name) is not set"
        case .notJSON:
            "link keys: not valid JSON"
        case .notAnObject:
            "link keys: JSON is not an object"
        case .missingActive:
            "link keys: no \"active\" member"
        case .activeKeyNotFound(let keyId):
            "link keys: active key id \"\(keyId)\" has no secret"
        case .secretTooShort(let keyId, let bytes):
            "link keys: secret for key id \"\(keyId)\" is \(bytes) bytes, at least \(LinkKeys.minimumSecretLength) required"
        case .invalidKeyId:
            "link keys: a key id does not match [A-Za-z0-9_-]{1,\(maxKeyIdLength)}"
        case .nonStringValue(let member):
            "link keys: value of \"\(member)\" is not a string"
        }
    }
}

/// The HMAC keys for replay links: one active key id that signs new links, and every key id that may verify them.
///
/// Keys rotate by adding a new secret, making it `active`, and removing the old one once the links it signed have
/// expired. Secrets are never printed: `description`, `debugDescription` and the reflection mirror list only key ids.
public struct LinkKeys: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The shortest secret accepted, in bytes of UTF-8 (the HMAC-SHA256 output size).
    public static let minimumSecretLength = 32

    /// The key id that signs new links.
    public let activeKeyId: String
    private let secrets: [String: [UInt8]]

    /// Every key id that verifies links, sorted.
    public var keyIds: [String] { secrets.keys.sorted() }

    /// Builds keys from secrets given as bytes.
    ///
    /// - Throws: ``LinkKeysError/invalidKeyId`` for a malformed id, ``LinkKeysError/secretTooShort(keyId:bytes:)``,
    ///   or ``LinkKeysError/activeKeyNotFound(_:)`` when `active` is not among `keys`.
    public init(active: String, keys: [String: [UInt8]]) throws(LinkKeysError) {
        guard isIdentifier(active, maxLength: maxKeyIdLength) else { throw .invalidKeyId }
        var secrets: [String: [UInt8]] = [:]
        for (keyId, secret) in keys.sorted(by: { $0.key < $1.key }) {
            guard isIdentifier(keyId, maxLength: maxKeyIdLength) else { throw .invalidKeyId }
            guard secret.count >= Self.minimumSecretLength else {
                throw .secretTooShort(keyId: keyId, bytes: secret.count)
            }
            secrets[keyId] = secret
        }
        guard secrets[active] != nil else { throw .activeKeyNotFound(active) }
        self.activeKeyId = active
        self.secrets = secrets
    }

    /// Parses `{"active":"k1","k1":"<secret>","k0":"<older secret>"}`: `active` names the signing key id, every other
    /// member maps a key id to its secret (whose UTF-8 bytes are the HMAC key).
    ///
    /// - Throws: a ``LinkKeysError`` saying what is wrong, never echoing a secret.
    public init(json: String) throws(LinkKeysError) {
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(json.utf8))
        } catch {
            throw .notJSON
        }
        guard let object = parsed as? [String: Any] else { throw .notAnObject }
        guard let activeValue = object["active"] else { throw .missingActive }
        guard let active = activeValue as? String else { throw .nonStringValue(member: "active") }
        var keys: [String: [UInt8]] = [:]
        for (keyId, value) in object.sorted(by: { $0.key < $1.key }) where keyId != "active" {
            guard isIdentifier(keyId, maxLength: maxKeyIdLength) else { throw .invalidKeyId }
            guard let secret = value as? String else { throw .nonStringValue(member: keyId) }
            keys[keyId] = Array(secret.utf8)
        }
        try self.init(active: active, keys: keys)
    }

    /// Loads keys from the JSON in environment variable `name` (default `REFVISION_LINK_KEYS`).
    ///
    /// - Throws: ``LinkKeysError/missingEnvironmentVariable(_:)`` if it is unset or empty — there is no fallback key —
    ///   or whatever ``init(json:)`` throws.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment,
        name: String = "REFVISION_LINK_KEYS"
    ) throws(LinkKeysError) -> LinkKeys {
        guard let json = environment[name], !json.isEmpty else { throw .missingEnvironmentVariable(name) }
        return try LinkKeys(json: json)
    }

    /// The key for `keyId`, if it is one of ours.
    func key(for keyId: String) -> SymmetricKey? { secrets[keyId].map { SymmetricKey(data: $0) } }

    /// The active signing key (present by construction).
    var activeKey: SymmetricKey { SymmetricKey(data: secrets[activeKeyId]!) }

    public var description: String { "LinkKeys(active: \(activeKeyId), keyIds: \(keyIds))" }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(self, children: ["activeKeyId": activeKeyId, "keyIds": keyIds], displayStyle: .struct)
    }
}
