/// Whether `value` is 1...`maxLength` characters from `[A-Za-z0-9_-]`.
func isIdentifier(_ value: some StringProtocol, maxLength: Int) -> Bool {
    let bytes = value.utf8
    guard (1...maxLength).contains(bytes.count) else { return false }
    return bytes.allSatisfy { byte in
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }
}

/// Key ids match `[A-Za-z0-9_-]{1,32}`.
let maxKeyIdLength = 32
/// Job ids match `[A-Za-z0-9_-]{1,64}` (a job's 32 hex digits among them).
let maxJobIdLength = 64
