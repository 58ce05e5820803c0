import ReplayLinks
import Testing

@Suite struct Base64URLTests {
    /// RFC 4648 §10 test vectors, unpadded.
    @Test(arguments: [
        ("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"),
        ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"), ("foobar", "Zm9vYmFy"),
    ])
    func rfcVectors(plain: String, encoded: String) {
        #expect(Base64URL.encode(Array(plain.utf8)) == encoded)
        #expect(Base64URL.decode(encoded) == Array(plain.utf8))
    }

    @Test func usesURLSafeAlphabet() {
        #expect(Base64URL.encode([0xFB, 0xFF, 0xBF]) == "-_-_")
        #expect(Base64URL.decode("-_-_") == [0xFB, 0xFF, 0xBF])
    }

    @Test func roundTripsEveryLengthAndByte() {
        for length in 0...66 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ length) }
            #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes)
        }
        let all = (0...255).map(UInt8.init)
        #expect(Base64URL.decode(Base64URL.encode(all)) == all)
    }

    @Test(arguments: [
        "Zg==", "Zm8=", "Zg=", "=",            // padding
        "+/+/", "ab+c", "ab/c",                // standard alphabet
        " Zm9v", "Zm9v ", "Zm\n9v", "Zm\t9v",  // whitespace
        "Z", "Zm9vY",                          // length 1 mod 4
        "Zh", "Zm9", "Zm9vYh",                 // non-zero unused bits (non-canonical)
        "Zm9v.", "Zm9v%", "Zé", "Zm9v\u{0}",   // other characters
    ])
    func rejectsNonCanonical(_ input: String) {
        #expect(Base64URL.decode(input) == nil)
    }
}
