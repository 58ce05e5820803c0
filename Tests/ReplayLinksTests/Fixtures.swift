import Foundation
import ReplayLinks

/// Secrets used across the tests; each is at least 32 bytes and easy to search for in printed output.
enum Fixture {
    static let secret0 = "old-secret-0000-AAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    static let secret1 = "new-secret-1111-BBBBBBBBBBBBBBBBBBBBBBBBBBBB"
    static let jobId = "0123456789abcdef0123456789abcdef"
    /// 2026-01-01T00:00:00Z.
    static let now = Date(timeIntervalSince1970: 1_767_225_600)

    static func keys(active: String = "k1", _ secrets: [String: String] = ["k0": secret0, "k1": secret1]) throws -> LinkKeys {
        try LinkKeys(active: active, keys: secrets.mapValues { Array($0.utf8) })
    }

    static func signer(active: String = "k1", _ secrets: [String: String] = ["k0": secret0, "k1": secret1]) throws -> LinkSigner {
        LinkSigner(keys: try keys(active: active, secrets))
    }
}

/// Replaces field `index` (0-based) of a dot-separated token.
func replacingField(_ index: Int, of token: String, with value: String) -> String {
    var fields = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    fields[index] = value
    return fields.joined(separator: ".")
}
