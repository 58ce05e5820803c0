// Draws for the synthetic lifts, on Scaling's seeded SplitMix64 (SystemRandomNumberGenerator is not
// seedable): the same seed gives the same cases on every platform.

import Scaling

extension SeededRandom {
    mutating func chance(_ p: Double) -> Bool { unit() < p }

    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }

    mutating func pick<T>(_ items: [T]) -> T {
        items[int(0...(items.count - 1))]
    }
}
