import Foundation
import Testing
@testable import Imaging
import TestSupport

/// Type-7 quantile from a full sort: the reference the selection code must match.
private func sortedQuantile(_ v: [Float], _ q: Double) -> Float {
    let s = v.sorted()
    let h = Double(s.count - 1) * q
    let lo = Int(h.rounded(.down))
    let f = h - Double(lo)
    if lo + 1 >= s.count || f == 0 { return s[lo] }
    return Float(Double(s[lo]) + f * (Double(s[lo + 1]) - Double(s[lo])))
}

@Suite struct StatisticsTests {
    @Test(arguments: [1, 2, 7, 100, 1001, 4096])
    func medianAndQuantilesMatchSortedReference(n: Int) throws {
        var rng = TestRNG(seed: UInt64(n))
        let values = (0..<n).map { _ in Float(rng.normal() * 10) }
        let s = values.sorted()
        let expectedMedian = n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
        #expect(Statistics.median(values) == expectedMedian)
        for q in [0.0, 0.1, 0.25, 0.5, 0.9, 0.99, 1.0] {
            #expect(Statistics.quantile(values, q) == sortedQuantile(values, q), "q=\(q)")
        }
        let dq = try #require(Statistics.quantile(values.map(Double.init), 0.25))
        #expect(Float(dq) == sortedQuantile(values, 0.25))  // Double path, rounded back to Float
    }

    @Test func selectionHandlesDuplicatesAndIgnoresNonFinite() {
        var rng = TestRNG(seed: 99)
        // integer-camera-like data: few distinct values, many duplicates
        var values = (0..<10_001).map { _ in Float(rng.next() % 5) }
        let reference = sortedQuantile(values, 0.5)
        values += [.nan, .infinity, -.infinity]
        #expect(Statistics.median(values) == reference)
        #expect(Statistics.median([Float.nan, .infinity]) == nil)
        #expect(Statistics.median([Float]()) == nil)
        #expect(Statistics.median([3, .nan, 1, 2] as [Float]) == 2)
        let input: [Float] = [5, 1, 4, 2, 3]
        _ = Statistics.median(input)
        #expect(input == [5, 1, 4, 2, 3])  // input not reordered
    }

    @Test func madAndSigmaOfGaussianNoise() throws {
        var rng = TestRNG(seed: 2024)
        let sigma = 7.5, mu = 1000.0
        let values = (0..<100_000).map { _ in Float(mu + sigma * rng.normal()) }
        let mad = try #require(Statistics.mad(values))
        #expect(abs(Double(mad) - 0.67449 * sigma) / (0.67449 * sigma) < 0.03)
        let s = try #require(Statistics.sigmaFromMAD(values))
        #expect(abs(Double(s) - sigma) / sigma < 0.03)
        #expect(Statistics.mad([1, 1, 1, 5] as [Float]) == 0)
        #expect(Statistics.mad([1, 2, 3, 4, 100] as [Float]) == 1)
    }

    @Test func sigmaClipRejectsInjectedOutliers() throws {
        var rng = TestRNG(seed: 5)
        var values = (0..<10_000).map { _ in Float(100 + 2 * rng.normal()) }
        let clean = try #require(Statistics.sigmaClippedStats(values))
        for i in stride(from: 0, to: 10_000, by: 50) { values[i] = 5000 }  // 2 % hot pixels / stars
        values.append(.nan)
        let raw = values.filter(\.isFinite).reduce(0.0) { $0 + Double($1) } / 10_000
        #expect(raw > 190)  // the outliers really move the plain mean
        let clipped = try #require(Statistics.sigmaClippedStats(values, kappa: 3, iterations: 5))
        #expect(abs(clipped.mean - 100) < 0.1)
        #expect(abs(clipped.median - 100) < 0.1)
        #expect(abs(clipped.sigma - 2) < 0.1)
        #expect(clipped.count <= 10_000 - 200 && clipped.count > 9_700)
        #expect(abs(clipped.sigma - clean.sigma) < 0.1)
    }

    @Test func robustStandardizeFollowsMethodFormula() {
        let x: [Double] = [1, 2, 3, 4, 100]
        // median 3, MAD 1 -> divisor 1.4826
        let z = Statistics.robustStandardize(x)
        #expect(z.count == 5)
        #expect(z[2] == 0)
        #expect(abs(z[0] - (-2 / 1.4826)) < 1e-12)
        #expect(abs(z[4] - (97 / 1.4826)) < 1e-12)
        #expect(Statistics.robustStandardize([2, 2, 2, 9]) == [0, 0, 0, 0])  // MAD 0 -> zeros
        #expect(Statistics.robustStandardize([1, .nan, 3])[1] == 0)
    }
}

@Suite struct StatisticsSelectionTests {
    /// Adversarial orders for quickselect: every k must land in place with the partition property.
    @Test(arguments: ["sorted", "reversed", "equal", "organ", "twoValues", "random"])
    func selectPlacesEveryRankOnAdversarialInput(kind: String) {
        let n = 257
        var rng = TestRNG(seed: 77)
        let base: [Float] = (0..<n).map { i in
            switch kind {
            case "sorted": return Float(i)
            case "reversed": return Float(n - i)
            case "equal": return 4
            case "organ": return Float(i < n / 2 ? i : n - i)
            case "twoValues": return Float(i % 2)
            default: return Float(rng.normal())
            }
        }
        let reference = base.sorted()
        for k in [0, 1, n / 3, n / 2, n - 2, n - 1] {
            var work = base
            let v = work.withUnsafeMutableBufferPointer { Statistics.select($0, k) }
            #expect(v == reference[k], "\(kind) k=\(k)")
            #expect(work[..<k].allSatisfy { $0 <= v } && work[(k + 1)...].allSatisfy { $0 >= v }, "\(kind) k=\(k)")
            #expect(work.sorted() == reference)  // a permutation: nothing lost or duplicated
        }
    }
}
