import Foundation
import ReplayLinks
import Testing

@Suite struct LinkSignerTests {
    let signer: LinkSigner
    let token: String

    init() throws {
        signer = try Fixture.signer()
        token = try signer.token(jobId: Fixture.jobId, now: Fixture.now)
    }

    // MARK: Signing

    @Test func roundTrip() throws {
        let verified = try signer.verify(token, now: Fixture.now)
        #expect(verified == ReplayToken(
            jobId: Fixture.jobId, expires: Fixture.now.addingTimeInterval(7 * 24 * 3600), keyId: "k1"))
    }

    @Test func tokenFormat() {
        let fields = token.split(separator: ".", omittingEmptySubsequences: false)
        #expect(fields.count == 5)
        #expect(fields[0] == "v1")
        #expect(fields[1] == "k1")
        #expect(fields[2] == Fixture.jobId[...])
        #expect(fields[3] == "1767830400")
        #expect(fields[4].count == 43)
        #expect(token.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) })
    }

    @Test func expiryIsWholeSecondsRoundedDown() throws {
        let signer = LinkSigner(keys: try Fixture.keys(), validity: 60)
        let token = try signer.token(jobId: "job", now: Date(timeIntervalSince1970: 1_000.999))
        #expect(try signer.verify(token, now: Date(timeIntervalSince1970: 1_000)).expires
            == Date(timeIntervalSince1970: 1_060))
    }

    @Test func signsWithActiveKey() throws {
        let token = try Fixture.signer(active: "k0").token(jobId: "job", now: Fixture.now)
        #expect(token.hasPrefix("v1.k0.job."))
    }

    @Test(arguments: ["a", "A-b_c", String(repeating: "z", count: 64), Fixture.jobId])
    func acceptsJobIds(_ jobId: String) throws {
        let token = try signer.token(jobId: jobId, now: Fixture.now)
        #expect(try signer.verify(token, now: Fixture.now).jobId == jobId)
    }

    @Test(arguments: ["", String(repeating: "z", count: 65), "a.b", "..", "a/b", "a\\b", "a b", "job\n", "jöb", "%2e", "a?b"])
    func rejectsJobIds(_ jobId: String) {
        #expect(throws: LinkSigningError.invalidJobId(jobId)) { try signer.token(jobId: jobId, now: Fixture.now) }
    }

    @Test func rejectsUnrepresentableExpiry() {
        #expect(throws: LinkSigningError.expiryOutOfRange) {
            try signer.token(jobId: "job", now: Date(timeIntervalSince1970: -8 * 24 * 3600))
        }
        #expect(throws: LinkSigningError.expiryOutOfRange) {
            try signer.token(jobId: "job", now: Date(timeIntervalSince1970: 1e12))
        }
    }

    @Test(arguments: [
        ("https://replay.example.com", "https://replay.example.com"),
        ("https://replay.example.com/", "https://replay.example.com"),
        ("https://replay.example.com//", "https://replay.example.com"),
        ("http://localhost:8080/replays/", "http://localhost:8080/replays"),
    ])
    func url(base: String, expectedPrefix: String) throws {
        let url = try signer.url(base: base, jobId: Fixture.jobId, now: Fixture.now)
        #expect(url == expectedPrefix + "/r/" + token)
        #expect(URL(string: url)?.lastPathComponent == token)
    }

    @Test(arguments: ["", "/", "replay.example.com", "ftp://example.com", "https://", "https:///path",
                      "https://example.com/?x=1", "https://example.com/#frag", "https://exa mple.com"])
    func rejectsBadBase(_ base: String) {
        #expect(throws: LinkSigningError.invalidBaseURL(base)) {
            try signer.url(base: base, jobId: Fixture.jobId, now: Fixture.now)
        }
    }

    // MARK: Known answer

    /// The signature was computed independently, once, with:
    ///
    ///     python3 -c 'import hmac,hashlib,base64
    ///     key=b"0123456789abcdef0123456789abcdef-known-answer"
    ///     msg=b"v1.k1.0123456789abcdef0123456789abcdef.1767225600"
    ///     print(base64.urlsafe_b64encode(hmac.new(key,msg,hashlib.sha256).digest()).rstrip(b"=").decode())'
    ///
    /// and cross-checked with `printf '%s' "$msg" | openssl dgst -sha256 -hmac "$key"`, whose hex digest
    /// cb59ba1eba216fd70c62cd8584cfe0f86627066eeb9ddc2c15bcb5831693257f is the same 32 bytes.
    @Test func knownAnswer() throws {
        let signer = LinkSigner(
            keys: try Fixture.keys(["k1": "0123456789abcdef0123456789abcdef-known-answer"]), validity: 3600)
        let expected = "v1.k1.0123456789abcdef0123456789abcdef.1767225600.y1m6Hrohb9cMYs2FhM_g-GYnBm7rndwsFby1gxaTJX8"
        let made = try signer.token(jobId: Fixture.jobId, now: Date(timeIntervalSince1970: 1_767_225_600 - 3600))
        #expect(made == expected)
        let hex = Base64URL.decode(expected.split(separator: ".").last!)!.map { String(format: "%02x", $0) }.joined()
        #expect(hex == "cb59ba1eba216fd70c62cd8584cfe0f86627066eeb9ddc2c15bcb5831693257f")
        #expect(try signer.verify(expected, now: Date(timeIntervalSince1970: 1_767_225_599)).keyId == "k1")
    }

    // MARK: Tampering

    @Test func tamperedKeyIdToAnotherKnownKey() {
        #expect(throws: LinkError.badSignature) { try signer.verify(replacingField(1, of: token, with: "k0"), now: Fixture.now) }
    }

    @Test func tamperedKeyIdToUnknownKey() {
        #expect(throws: LinkError.unknownKey("k9")) { try signer.verify(replacingField(1, of: token, with: "k9"), now: Fixture.now) }
    }

    @Test func tamperedJobId() {
        let other = "fedcba9876543210fedcba9876543210"
        #expect(throws: LinkError.badSignature) { try signer.verify(replacingField(2, of: token, with: other), now: Fixture.now) }
    }

    @Test func tamperedExpiry() {
        #expect(throws: LinkError.badSignature) {
            try signer.verify(replacingField(3, of: token, with: "1767830401"), now: Fixture.now)
        }
        // Extending a forged token into the future must not change the answer to "expired".
        #expect(throws: LinkError.badSignature) {
            try signer.verify(replacingField(3, of: token, with: "1000"), now: Fixture.now)
        }
    }

    @Test func tamperedSignature() {
        let signature = Base64URL.decode(token.split(separator: ".").last!)!
        for index in [0, 15, 31] {
            var forged = signature
            forged[index] ^= 0x80
            #expect(throws: LinkError.badSignature) {
                try signer.verify(replacingField(4, of: token, with: Base64URL.encode(forged)), now: Fixture.now)
            }
        }
        let zeros = Base64URL.encode([UInt8](repeating: 0, count: 32))
        #expect(throws: LinkError.badSignature) { try signer.verify(replacingField(4, of: token, with: zeros), now: Fixture.now) }
    }

    @Test(arguments: ["v2", "v0", "V1", "v", "", "v1v1"])
    func tamperedVersion(_ version: String) {
        #expect(throws: LinkError.malformed) { try signer.verify(replacingField(0, of: token, with: version), now: Fixture.now) }
    }

    @Test func signatureFromAnotherSecretWithSameKeyId() throws {
        let impostor = try Fixture.signer(["k1": "attacker-secret-CCCCCCCCCCCCCCCCCCCCCCCCCCCC"])
        let forged = try impostor.token(jobId: Fixture.jobId, now: Fixture.now)
        #expect(throws: LinkError.badSignature) { try signer.verify(forged, now: Fixture.now) }
    }

    // MARK: Expiry

    @Test func expiry() throws {
        let expires = Fixture.now.addingTimeInterval(7 * 24 * 3600)
        #expect(try signer.verify(token, now: expires.addingTimeInterval(-1)).expires == expires)
        #expect(throws: LinkError.expired(expires)) { try signer.verify(token, now: expires) }
        #expect(throws: LinkError.expired(expires)) { try signer.verify(token, now: expires.addingTimeInterval(86_400)) }
    }

    @Test func customValidity() throws {
        let signer = LinkSigner(keys: try Fixture.keys(), validity: 10)
        let token = try signer.token(jobId: "job", now: Fixture.now)
        #expect(throws: LinkError.expired(Fixture.now.addingTimeInterval(10))) {
            try signer.verify(token, now: Fixture.now.addingTimeInterval(10))
        }
    }

    // MARK: Keys

    @Test func unknownKeyId() throws {
        let other = try Fixture.signer(active: "k7", ["k7": Fixture.secret1])
        let token = try other.token(jobId: "job", now: Fixture.now)
        #expect(throws: LinkError.unknownKey("k7")) { try signer.verify(token, now: Fixture.now) }
    }

    @Test func keyRotation() throws {
        let before = try Fixture.signer(active: "k0", ["k0": Fixture.secret0])
        let old = try before.token(jobId: Fixture.jobId, now: Fixture.now)

        let during = try Fixture.signer(active: "k1", ["k0": Fixture.secret0, "k1": Fixture.secret1])
        #expect(try during.verify(old, now: Fixture.now).keyId == "k0")
        let new = try during.token(jobId: Fixture.jobId, now: Fixture.now)
        #expect(try during.verify(new, now: Fixture.now).keyId == "k1")
        #expect(throws: LinkError.unknownKey("k1")) { try before.verify(new, now: Fixture.now) }

        let after = try Fixture.signer(active: "k1", ["k1": Fixture.secret1])
        #expect(throws: LinkError.unknownKey("k0")) { try after.verify(old, now: Fixture.now) }
        #expect(try after.verify(new, now: Fixture.now).keyId == "k1")
    }

    // MARK: Hostile input

    @Test func lengthLimit() {
        #expect(throws: LinkError.tooLong) { try signer.verify(String(repeating: "a", count: 10 * 1024), now: Fixture.now) }
        #expect(throws: LinkError.tooLong) { try signer.verify(String(repeating: "a", count: 513), now: Fixture.now) }
        #expect(throws: LinkError.tooLong) { try signer.verify(token + String(repeating: ".", count: 513), now: Fixture.now) }
        // Multi-byte characters count by UTF-8 bytes: 200 × 3 bytes is over the limit.
        #expect(throws: LinkError.tooLong) { try signer.verify(String(repeating: "€", count: 200), now: Fixture.now) }
        #expect(throws: LinkError.malformed) { try signer.verify(String(repeating: "a", count: 512), now: Fixture.now) }
    }

    @Test(arguments: [
        "", ".", "....", ".....", "......", "v1", "v1.", "v1.k1", "v1....",
        "..", "../etc/passwd", "v1.k1/../k0.job.1.sig", "/", "\\", "%2e%2e",
        "v1.k1.job.1767830400",                                  // no signature
        "v1.k1.job.1767830400.",                                 // empty signature
        "v1.k1.job.1767830400.sig.extra",                        // six fields
        ".v1.k1.job.1767830400.sig",                             // leading dot
        "v1..job.1767830400.sig",                                // empty key id
        "v1.k1..1767830400.sig",                                 // empty job id
        "v1.k1.job..sig",                                        // empty expiry
        "v1.ké.job.1767830400.sig", "v1.k1.jöb.1767830400.sig",  // unicode
        "v1.k1.job.١٧٦٧٨٣٠٤٠٠.sig",                              // non-ASCII digits
        "v1.k1.job.17678304𝟎𝟎.sig",
        "🎬", "\u{0}", "v1.k1.job.1767830400.\u{0}",
    ])
    func rejectsMalformed(_ input: String) {
        #expect(throws: LinkError.malformed) { try signer.verify(input, now: Fixture.now) }
    }

    /// Each variant keeps the other fields of a real token intact, so only the named field is at fault.
    @Test(arguments: [
        (1, "k1/x"), (1, "k 1"), (1, String(repeating: "k", count: 33)), (1, ".."),
        (2, "job/../x"), (2, "job\\x"), (2, String(repeating: "j", count: 65)), (2, "jo b"),
        (3, "-1"), (3, "+1767830400"), (3, "-9223372036854775808"), (3, "9223372036854775808"),
        (3, "99999999999999999999999999"), (3, "100000000000"), (3, "01767830400"), (3, "1.5"), (3, "1e10"),
        (3, " 1767830400"), (3, "0x69"), (3, "abc"),
    ])
    func rejectsMalformedField(index: Int, value: String) {
        #expect(throws: LinkError.malformed) { try signer.verify(replacingField(index, of: token, with: value), now: Fixture.now) }
    }

    @Test func rejectsNonStrictSignature() {
        let signature = String(token.split(separator: ".").last!)
        let standard = signature.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        let variants = [
            signature + "=", signature + "==", " " + signature, signature + "\n", String(signature.dropLast()),
            signature + "A", signature + "AAAA", "A" + signature.dropFirst() + "%3D", signature + "!",
        ] + (standard == signature ? [] : [standard])
        for variant in variants {
            #expect(throws: LinkError.malformed) { try signer.verify(replacingField(4, of: token, with: variant), now: Fixture.now) }
        }
    }

    @Test func rejectsFieldsSmuggledAroundDots() {
        #expect(throws: LinkError.malformed) { try signer.verify(token + ".", now: Fixture.now) }
        #expect(throws: LinkError.malformed) { try signer.verify("." + token, now: Fixture.now) }
        #expect(throws: LinkError.malformed) { try signer.verify(token.replacingOccurrences(of: ".", with: ".."), now: Fixture.now) }
    }
}
