import ReplayLinks
import Testing

@Suite struct ConstantTimeTests {
    @Test func equalArrays() {
        #expect(constantTimeEquals([], []))
        #expect(constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(constantTimeEquals(Array(repeating: 0xAB, count: 32), Array(repeating: 0xAB, count: 32)))
    }

    @Test func differenceAnywhere() {
        let base = (0..<32).map(UInt8.init)
        for index in base.indices {
            var other = base
            other[index] ^= 0x01
            #expect(!constantTimeEquals(base, other))
        }
    }

    @Test func lengthMismatch() {
        #expect(!constantTimeEquals([1, 2, 3], [1, 2]))
        #expect(!constantTimeEquals([1, 2], [1, 2, 3]))
        #expect(!constantTimeEquals([], [0]))
        // Missing bytes compare as zero internally; a zero tail must still be unequal.
        #expect(!constantTimeEquals([1, 2, 0], [1, 2]))
    }
}
