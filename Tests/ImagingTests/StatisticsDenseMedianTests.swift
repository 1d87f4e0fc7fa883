import Testing
import TestSupport
@testable import Imaging

/// `Statistics.denseMedian` against `Statistics.median`: the same bits on every input.
@Suite("dense median")
struct StatisticsDenseMedianTests {
    /// Tile-like values: Gaussian sky, a few bright outliers, NaN holes, now and then infinities,
    /// integer levels (many ties) or a constant block.
    static func values(_ rng: inout TestRNG, trial: Int) -> [Double] {
        let n = trial % 7 == 0 ? 1 + Int(rng.uniform() * 1500) : 1000 + Int(rng.uniform() * 20000)
        let kind = trial % 5
        return (0..<n).map { _ -> Double in
            let u = rng.uniform()
            if u < 0.01 { return .nan }
            if kind == 1 && u < 0.012 { return rng.uniform() < 0.5 ? .infinity : -.infinity }
            if u > 0.995 { return 1000 + rng.uniform() * 60000 }  // stars, cosmic rays
            switch kind {
            case 2: return Double(Int(rng.uniform() * 6))  // few levels: ties at the bracket's ends
            case 3: return 7.25  // constant
            case 4: return rng.normal() * 1e-3  // values near zero of both signs
            default: return 1000 + 30 * rng.normal()
            }
        }
    }

    @Test("Float and Double: bit for bit Statistics.median (random sizes, NaN, infinities, ties, outliers, constants)")
    func sameBits() {
        var rng = TestRNG(seed: 31)
        for trial in 0..<600 {
            let d = Self.values(&rng, trial: trial)
            let f = d.map { Float($0) }
            #expect(Statistics.denseMedian(d)?.bitPattern == Statistics.median(d)?.bitPattern, "Double trial \(trial) n \(d.count)")
            #expect(Statistics.denseMedian(f)?.bitPattern == Statistics.median(f)?.bitPattern, "Float trial \(trial) n \(f.count)")
        }
    }

    @Test("the bracketed pass answers on tile-sized noise (no fallback), and its value is the sorted median")
    func bracketAnswers() {
        var rng = TestRNG(seed: 5)
        for n in [14_161, 14_162, 6_889, 6_890] {
            let f = (0..<n).map { i -> Float in i % 97 == 0 ? .nan : Float(1000 + 30 * rng.normal()) }
            let got = f.withUnsafeBufferPointer { Statistics.denseBracketedMedian($0) }
            let s = f.filter { $0.isFinite }.sorted(), m = s.count
            let want = m % 2 == 1 ? s[m / 2] : (s[m / 2 - 1] + s[m / 2]) / 2
            #expect(got == want, "n \(n)")
        }
    }

    @Test("nothing finite: nil")
    func empty() {
        #expect(Statistics.denseMedian([Float](repeating: .nan, count: 5000)) == nil)
        #expect(Statistics.denseMedian([Double]()) == nil)
    }
}
