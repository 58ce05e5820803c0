import Testing
@testable import Judging

@Suite struct ZZWide {
    @Test(arguments: 160..<900) func squatWide(seed: Int) {
        let (clip, expected, inferred) = SyntheticPropertyTests.squatCase(seed)
        check(clip, expected, lift: .squat, inferred: inferred)
    }
    @Test(arguments: 60..<360) func benchWide(seed: Int) {
        let (clip, expected, inferred) = SyntheticPropertyTests.benchCase(seed)
        check(clip, expected, lift: .bench, inferred: inferred)
    }
    @Test(arguments: 56..<360) func deadliftWide(seed: Int) {
        let (clip, expected, inferred) = SyntheticPropertyTests.deadliftCase(seed)
        check(clip, expected, lift: .deadlift, inferred: inferred)
    }
}
