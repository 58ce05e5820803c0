// Signal cleaning and movement shapes, on hand-made series.

import Foundation
import Testing
@testable import Judging
import Scaling

@Suite("Signal cleaning")
struct SignalCleaningTests {
    static let cleaner = SignalCleaner(outlierHalfWindow: 4, outlierThreshold: 3.5, outlierMinDeviation: 8,
                                       maxGapFrames: 7, smoothingHalfWindow: 4, minWeight: 0.5)

    /// A squat-like dip: flat, a cosine descent to `depth`, back up.
    static func dip(count: Int = 120, depth: Double = 100) -> [Double] {
        (0..<count).map { i in
            let u = Double(i - 30) / 60
            return (u >= 0 && u <= 1) ? depth * (1 - cos(2 * .pi * u)) / 2 : 0
        }
    }

    @Test func keepsTheBottomWhereAMovingAverageShavesIt() throws {
        let raw = Self.dip()
        let clean = Self.cleaner.clean(raw.map { $0 }, weights: [Double](repeating: 1, count: raw.count))
        let peak = try #require(clean.values.compactMap { $0 }.max())
        // Local quadratic fit: the 100 px bottom stays within 0.5 px.
        #expect(abs(peak - 100) < 0.5, "peak \(peak)")
        // The 9-frame moving average of the same signal loses more than 1 px: the filter choice matters.
        let ma = (4..<(raw.count - 4)).map { i in raw[(i - 4)...(i + 4)].reduce(0, +) / 9 }
        #expect(100 - (ma.max() ?? 0) > 1)
        #expect(clean.quality.allSatisfy { $0 == .measured })
        #expect(clean.outliers == 0)
    }

    @Test func rejectsSingleFrameJumps() {
        var raw = Self.dip()
        raw[50] += 60
        raw[80] -= 45
        let clean = Self.cleaner.clean(raw.map { $0 }, weights: [Double](repeating: 1, count: raw.count))
        #expect(clean.outliers == 2)
        #expect(clean.quality[50] == .filled)
        let truth = Self.dip()
        for i in [50, 80] { #expect(abs((clean.values[i] ?? .nan) - truth[i]) < 2) }
    }

    @Test func fillsShortGapsAndLeavesLongOnes() {
        var raw: [Double?] = Self.dip().map { $0 }
        for i in 40..<45 { raw[i] = nil }        // 5 frames: filled
        for i in 70..<85 { raw[i] = nil }        // 15 frames: missing
        let weights = raw.map { $0 == nil ? 0.0 : 0.9 }
        let clean = Self.cleaner.clean(raw, weights: weights)
        #expect((40..<45).allSatisfy { clean.quality[$0] == .filled && clean.values[$0] != nil })
        #expect((70..<85).allSatisfy { clean.quality[$0] == .missing && clean.values[$0] == nil })
        #expect(clean.quality[69] == .measured)
    }

    @Test func lowVisibilityIsMissingAndWeighsNothing() {
        let truth = Self.dip()
        var raw: [Double?] = truth.map { $0 }
        var weights = [Double](repeating: 0.95, count: raw.count)
        for i in stride(from: 3, to: raw.count, by: 10) {
            raw[i] = (raw[i] ?? 0) + 300  // garbage where the model says it can't see
            weights[i] = 0.1
        }
        let clean = Self.cleaner.clean(raw, weights: weights)
        for i in stride(from: 3, to: raw.count, by: 10) {
            #expect(clean.quality[i] == .filled)
            #expect(abs((clean.values[i] ?? .nan) - truth[i]) < 3)
        }
    }

    @Test func estimatesNoise() throws {
        var r = SeededRandom(seed: 11)
        let raw: [Double?] = Self.dip(count: 400).map { $0 + 3 * r.normal() }
        let clean = Self.cleaner.clean(raw, weights: [Double](repeating: 1, count: raw.count))
        let noise = try #require(clean.noise)
        #expect(noise > 2.4 && noise < 3.6, "noise \(noise)")
    }

    @Test func degenerateInputs() {
        #expect(Self.cleaner.clean([], weights: []).values.isEmpty)
        let one = Self.cleaner.clean([5], weights: [1])
        #expect(abs((one.values[0] ?? .nan) - 5) < 1e-9)
        let none = Self.cleaner.clean([nil, nil, nil], weights: [1, 1, 1])
        #expect(none.values.allSatisfy { $0 == nil })
        let nonFinite = Self.cleaner.clean([.nan, .infinity, 3, 3, 3], weights: [1, 1, 1, .nan, 1])
        #expect(nonFinite.quality[0] == .missing && nonFinite.quality[1] == .missing)
        #expect(abs((nonFinite.values[2] ?? .nan) - 3) < 1e-9)
        // Fewer weights than values: the rest are missing.
        #expect(Self.cleaner.clean([1, 2, 3], weights: [1]).quality == [.measured, .missing, .missing])
    }
}

@Suite("Movement shapes")
struct MovementTests {
    @Test func riseThenFall() {
        // Down, up 40, down 30, up.
        let h: [Double?] = [100, 50, 0, 20, 40, 25, 10, 30, 60, 100]
        let r = Movement.riseThenFall(h, in: 0...9)
        #expect(r.amount == 30 && r.slot == 4)
        // Monotonic descent then ascent: nothing.
        #expect(Movement.riseThenFall([5, 3, 1, 2, 4, 6], in: 0...5).amount == 0)
        // Gaps are skipped, empty ranges are nothing.
        #expect(Movement.riseThenFall([nil, 1, nil, 3, nil, 2], in: 0...5).amount == 1)
        #expect(Movement.riseThenFall([1, 2], in: 5...9).amount == 0)
    }

    @Test func valleys() {
        let h: [Double?] = [100, 50, 0, 20, 40, 25, 2, 30, 60, 100]
        #expect(Movement.valleys(h, in: 0...9, reversal: 10) == [2, 6])
        #expect(Movement.valleys(h, in: 0...9, reversal: 50) == [2])
        // A descent that never comes back up ends in a valley.
        #expect(Movement.valleys([10, 5, 1], in: 0...2, reversal: 3) == [2])
    }

    @Test func plateauAndPeaks() {
        let h: [Double?] = [9, 5, 1, 1.5, 1.2, 0.8, 1.1, 4, 9]
        #expect(Movement.plateau(h, around: 5, tolerance: 1) == 2...6)
        #expect(Movement.argmax(h, in: 0...8) == 0)
        #expect(Movement.argmin(h, in: 0...8) == 5)
        // The vertex of y = 10 - (x - 4.5)²: 10, between samples.
        let q: [Double?] = (0..<10).map { 10 - pow(Double($0) - 4.5, 2) }
        #expect(abs((Movement.quadraticPeak(q, around: 4, in: 1...8) ?? 0) - 10) < 1e-9)
        // Too few points.
        #expect(Movement.quadraticPeak([1, nil, nil], around: 0, in: 0...2) == nil)
    }

    @Test func bands() {
        let higher = Band(pass: 0.11, fail: -0.01, higherIsBetter: true)
        #expect(higher.grade(0.2) == .passed && higher.grade(0.11) == .passed)
        #expect(higher.grade(0.05) == .unknown)
        #expect(higher.grade(-0.01) == .failed && higher.grade(-0.5) == .failed)
        let lower = Band(pass: 0.04, fail: 0.1, higherIsBetter: false)
        #expect(lower.grade(0) == .passed && lower.grade(0.07) == .unknown && lower.grade(0.3) == .failed)
    }

    @Test func quantiles() {
        #expect(quantile([], 0.5) == nil)
        #expect(quantile([.nan, .infinity], 0.5) == nil)
        #expect(median([3, 1, 2]) == 2)
        #expect(quantile([0, 10], 0.25) == 2.5)
        var big = (0..<1000).map { Double(($0 * 7919) % 1000) }
        heapSort(&big)
        #expect(big == (0..<1000).map(Double.init))
        #expect(abs((jointAngle(Point(x: 0, y: -1), Point(x: 0, y: 0), Point(x: 1, y: 0)) ?? 0) - 90) < 1e-9)
        #expect(jointAngle(Point(x: 0, y: 0), Point(x: 0, y: 0), Point(x: 1, y: 0)) == nil)
    }
}
