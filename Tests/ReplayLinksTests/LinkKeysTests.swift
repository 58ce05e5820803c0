import ReplayLinks
import Testing

@Suite struct LinkKeysTests {
    static let s32 = String(repeating: "s", count: 32)

    @Test func parsesJSON() throws {
        let keys = try LinkKeys(json: #"{"active":"k1","k1":"\#(Fixture.secret1)","k0":"\#(Fixture.secret0)"}"#)
        #expect(keys.activeKeyId == "k1")
        #expect(keys.keyIds == ["k0", "k1"])
    }

    @Test func acceptsBoundaryValues() throws {
        let longId = String(repeating: "a", count: 32)
        let keys = try LinkKeys(json: #"{"active":"\#(longId)","\#(longId)":"\#(Self.s32)","A_z-9":"\#(Self.s32)"}"#)
        #expect(keys.keyIds == ["A_z-9", longId])
        // 16 two-byte characters: 32 bytes of UTF-8, only 16 characters.
        _ = try LinkKeys(json: #"{"active":"k","k":"\#(String(repeating: "é", count: 16))"}"#)
    }

    @Test(arguments: [
        ("", LinkKeysError.notJSON),
        ("not json", .notJSON),
        (#"{"active":"k1","#, .notJSON),
        (#"{'active':'k1'}"#, .notJSON),
        ("[]", .notAnObject),
        (#"["active","k1"]"#, .notAnObject),
        ("{}", .missingActive),
        (#"{"k1":"\#(s32)"}"#, .missingActive),
        (#"{"active":"k1"}"#, .activeKeyNotFound("k1")),
        (#"{"active":"k1","k0":"\#(s32)"}"#, .activeKeyNotFound("k1")),
        (#"{"active":"k1","k1":"\#(String(repeating: "s", count: 31))"}"#, .secretTooShort(keyId: "k1", bytes: 31)),
        (#"{"active":"k1","k1":""}"#, .secretTooShort(keyId: "k1", bytes: 0)),
        (#"{"active":"k1","k1":"\#(s32)","k0":"short"}"#, .secretTooShort(keyId: "k0", bytes: 5)),
        (#"{"active":"k1","k1":"\#(s32)","k.0":"\#(s32)"}"#, .invalidKeyId),
        (#"{"active":"k1","k1":"\#(s32)","":"\#(s32)"}"#, .invalidKeyId),
        (#"{"active":"k1","k1":"\#(s32)","\#(String(repeating: "a", count: 33))":"\#(s32)"}"#, .invalidKeyId),
        (#"{"active":"k1","k1":"\#(s32)","ké":"\#(s32)"}"#, .invalidKeyId),
        (#"{"active":"k/1","k1":"\#(s32)"}"#, .invalidKeyId),
        (#"{"active":"","k1":"\#(s32)"}"#, .invalidKeyId),
        (#"{"active":1,"k1":"\#(s32)"}"#, .nonStringValue(member: "active")),
        (#"{"active":null,"k1":"\#(s32)"}"#, .nonStringValue(member: "active")),
        (#"{"active":"k1","k1":12345678901234567890123456789012345}"#, .nonStringValue(member: "k1")),
        (#"{"active":"k1","k1":"\#(s32)","k0":{"secret":"\#(s32)"}}"#, .nonStringValue(member: "k0")),
        (#"{"active":"k1","k1":["\#(s32)"]}"#, .nonStringValue(member: "k1")),
        (#"{"active":"k1","k1":true}"#, .nonStringValue(member: "k1")),
    ])
    func rejectsBadJSON(json: String, expected: LinkKeysError) {
        #expect(throws: expected) { try LinkKeys(json: json) }
    }

    @Test func initFromBytesValidates() throws {
        let s32 = Array(Self.s32.utf8)
        #expect(throws: LinkKeysError.activeKeyNotFound("k1")) { try LinkKeys(active: "k1", keys: [:]) }
        #expect(throws: LinkKeysError.invalidKeyId) { try LinkKeys(active: "k 1", keys: ["k 1": s32]) }
        #expect(throws: LinkKeysError.invalidKeyId) { try LinkKeys(active: "k1", keys: ["k1": s32, "..": s32]) }
        #expect(throws: LinkKeysError.secretTooShort(keyId: "k1", bytes: 31)) {
            try LinkKeys(active: "k1", keys: ["k1": Array(s32.dropLast())])
        }
        // Secrets are raw bytes, not necessarily UTF-8.
        #expect(try LinkKeys(active: "k1", keys: ["k1": Array(repeating: 0xFF, count: 32)]).activeKeyId == "k1")
    }

    @Test func fromEnvironment() throws {
        let json = #"{"active":"k1","k1":"\#(Self.s32)"}"#
        #expect(try LinkKeys.fromEnvironment(["REFVISION_LINK_KEYS": json]).activeKeyId == "k1")
        #expect(try LinkKeys.fromEnvironment(["OTHER": json], name: "OTHER").activeKeyId == "k1")
        #expect(throws: LinkKeysError.missingEnvironmentVariable("REFVISION_LINK_KEYS")) {
            try LinkKeys.fromEnvironment([:])
        }
        #expect(throws: LinkKeysError.missingEnvironmentVariable("REFVISION_LINK_KEYS")) {
            try LinkKeys.fromEnvironment(["REFVISION_LINK_KEYS": ""])
        }
        #expect(throws: LinkKeysError.missingEnvironmentVariable("OTHER")) {
            try LinkKeys.fromEnvironment(["REFVISION_LINK_KEYS": json], name: "OTHER")
        }
        #expect(throws: LinkKeysError.notJSON) { try LinkKeys.fromEnvironment(["REFVISION_LINK_KEYS": "k1"]) }
    }

    @Test func missingVariableErrorSaysSo() {
        let message = LinkKeysError.missingEnvironmentVariable("REFVISION_LINK_KEYS").description
        #expect(message.contains("REFVISION_LINK_KEYS"))
        #expect(message.contains("not set"))
    }
}
