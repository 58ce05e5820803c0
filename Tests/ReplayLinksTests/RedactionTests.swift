import ReplayLinks
import Testing

/// Secrets must never reach logs: no printed form of any type in the module may contain one.
@Suite struct RedactionTests {
    static let secrets = [Fixture.secret0, Fixture.secret1]

    /// Every way a value commonly gets printed or logged.
    static func renderings(_ value: Any) -> [String] {
        var dumped = ""
        dump(value, to: &dumped)
        return [
            String(describing: value), String(reflecting: value), "\(value)", dumped,
            Mirror(reflecting: value).children.map { "\($0.label ?? ""): \($0.value)" }.joined(),
        ]
    }

    static func expectNoSecret(in value: Any, sourceLocation: SourceLocation = #_sourceLocation) {
        for rendering in renderings(value) {
            for secret in secrets {
                #expect(!rendering.contains(secret), "\(type(of: value)) printed a secret", sourceLocation: sourceLocation)
            }
        }
    }

    @Test func keysAndSigner() throws {
        let keys = try Fixture.keys()
        Self.expectNoSecret(in: keys)
        Self.expectNoSecret(in: LinkSigner(keys: keys))
        Self.expectNoSecret(in: [keys])
        Self.expectNoSecret(in: Optional(keys) as Any)
        #expect(keys.description == "LinkKeys(active: k1, keyIds: [\"k0\", \"k1\"])")
    }

    @Test func tokensAndErrors() throws {
        let signer = try Fixture.signer()
        let token = try signer.token(jobId: Fixture.jobId, now: Fixture.now)
        Self.expectNoSecret(in: try signer.verify(token, now: Fixture.now))
        let errors: [any Error] = [
            LinkError.malformed, LinkError.unknownKey("k9"), LinkError.badSignature,
            LinkError.expired(Fixture.now), LinkError.tooLong,
            LinkSigningError.invalidJobId("x/y"), LinkSigningError.invalidBaseURL("ftp://x"), LinkSigningError.expiryOutOfRange,
        ]
        for error in errors { Self.expectNoSecret(in: error) }
    }

    /// Errors from parsing JSON that holds the secrets, including ones with a secret where an id belongs.
    @Test(arguments: [
        #"{"active":"k1","k1":"\#(Fixture.secret1)","k0":"\#(Fixture.secret0)","x":1}"#,
        #"{"active":"k1","\#(Fixture.secret1)":"k1"}"#,
        #"{"active":"\#(Fixture.secret1)","k1":"\#(Fixture.secret0)"}"#,
        #"{"active":"k2","k1":"\#(Fixture.secret1)","k0":"\#(Fixture.secret0)"}"#,
        #"{"active":"k1","k1":"\#(Fixture.secret1)","k0":"\#(Fixture.secret0)""#,
        #"{"k1":"\#(Fixture.secret1)","k0":"\#(Fixture.secret0)"}"#,
    ])
    func parsingErrors(json: String) {
        do {
            _ = try LinkKeys(json: json)
            Issue.record("expected a LinkKeysError")
        } catch {
            Self.expectNoSecret(in: error)
        }
    }
}
