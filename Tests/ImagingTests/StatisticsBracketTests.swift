import Testing
import TestSupport
@testable import Imaging

/// `Statistics.medianInBracket` against the median of the sorted values.
@Suite("median in a bracket")
struct StatisticsBracketTests {
    /// The reference: mean of the two middle values of the sorted array for even n, as `PixelRejection.median`.
    static func reference(_ a: [Double]) -> Double {
        let s = a.sorted(), n = s.count
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
    }

    static func bracket(_ a: [Double], _ lo: Double, _ hi: Double) -> Double? {
        var scratch = [Double](repeating: .nan, count: a.count)
        return a.withUnsafeBufferPointer { p in
            scratch.withUnsafeMutableBufferPointer { Statistics.medianInBracket(p.baseAddress!, a.count, lo: lo, hi: hi, scratch: $0.baseAddress!) }
        }
    }

    @Test("equals the sorted median whenever the middle values are inside, nil otherwise (random n, brackets, ties)")
    func againstSort() {
        var rng = TestRNG(seed: 12)
        var hits = 0, misses = 0
        for trial in 0..<4000 {
            let n = 1 + Int(rng.uniform() * 150)
            // Every 4th trial draws from 5 integer levels: many ties, incl. at the bracket's ends.
            let a: [Double] = (0..<n).map { _ in trial % 4 == 0 ? Double(Int(rng.uniform() * 5)) : rng.normal() }
            let lo = trial % 4 == 0 ? Double(Int(rng.uniform() * 5)) - 1 : rng.normal() * 0.5 - 0.3
            let hi = lo + (trial % 4 == 0 ? Double(Int(rng.uniform() * 3)) : rng.uniform() * 1.2)
            let s = a.sorted()
            let inside = s[(n - 1) / 2] >= lo && s[n / 2] <= hi
            let got = Self.bracket(a, lo, hi)
            if inside {
                hits += 1
                #expect(got?.bitPattern == Self.reference(a).bitPattern, "n \(n) [\(lo), \(hi)]")
            } else {
                misses += 1
                #expect(got == nil, "n \(n) [\(lo), \(hi)]")
            }
        }
        #expect(hits > 800 && misses > 800, "hits \(hits) misses \(misses)")
    }

    @Test("small cases: one value, two values, a bracket holding exactly the middle pair")
    func small() {
        #expect(Self.bracket([4], 4, 4) == 4)
        #expect(Self.bracket([4], 4.5, 5) == nil)
        #expect(Self.bracket([1, 3], 0, 4) == 2)
        #expect(Self.bracket([1, 3], 2, 4) == nil)
        #expect(Self.bracket([9, 1, 5, 3, 7, 2], 3, 5) == 4)
        #expect(Self.bracket([9, 1, 5, 3, 7, 2], 3.5, 5) == nil)
    }
}
