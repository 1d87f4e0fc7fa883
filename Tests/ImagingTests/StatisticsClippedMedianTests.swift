import Foundation
import Testing
import TestSupport
@testable import Imaging

/// `Statistics.sigmaClippedMedian` (lane sums, bracketed medians) against `sigmaClip(...).median`.
@Suite("sigma-clipped median")
struct StatisticsClippedMedianTests {
    static func both(_ values: [Float], kappa: Double = 3, iterations: Int = 5) -> (Double?, Double?) {
        var a = values, b = values
        var scratch = [Float](repeating: .nan, count: max(1, values.count))
        let fast = a.withUnsafeMutableBufferPointer { box in
            scratch.withUnsafeMutableBufferPointer {
                Statistics.sigmaClippedMedian(box, kappa: kappa, iterations: iterations, scratch: $0.baseAddress!)
            }
        }
        let reference = b.withUnsafeMutableBufferPointer { Statistics.sigmaClip($0, kappa: kappa, iterations: iterations)?.median }
        return (fast, reference)
    }

    /// A `w x h` box of sky (level, gradient, noise) with `stars` Gaussian stars and optional integer rounding.
    static func box(w: Int, h: Int, stars: Int, integer: Bool, rng: inout TestRNG) -> [Float] {
        let level = 500 + 2000 * rng.uniform(), noise = 3 + 30 * rng.uniform()
        let gx = 2 * rng.normal(), gy = 2 * rng.normal()
        var v = [Float](repeating: 0, count: w * h)
        let centres = (0..<stars).map { _ in (rng.uniform() * Double(w), rng.uniform() * Double(h), 50 + 20000 * rng.uniform()) }
        for y in 0..<h {
            for x in 0..<w {
                var p = level + gx * Double(x) / 8 + gy * Double(y) / 8 + noise * rng.normal()
                for (cx, cy, amp) in centres {
                    let r2 = (Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy)
                    p += amp * exp(-r2 / 8)
                }
                v[y * w + x] = Float(integer ? p.rounded() : p)
            }
        }
        return v
    }

    @Test("same median as sigmaClip on 600 boxes: full and border sizes, stars, gradients, integer ties")
    func againstSigmaClip() {
        var rng = TestRNG(seed: 99)
        let sizes = [(64, 64), (64, 10), (10, 64), (32, 32), (17, 5), (64, 63)]
        for trial in 0..<600 {
            let (w, h) = sizes[trial % sizes.count]
            let values = Self.box(w: w, h: h, stars: Int(rng.uniform() * 6), integer: trial % 3 == 0, rng: &rng)
            let (fast, reference) = Self.both(values, kappa: trial % 5 == 0 ? 2.5 : 3, iterations: 1 + trial % 5)
            #expect(fast?.bitPattern == reference?.bitPattern, "trial \(trial) \(w)x\(h): \(String(describing: fast)) vs \(String(describing: reference))")
        }
    }

    @Test("edge cases: empty, one value, constant, two levels")
    func edges() {
        #expect(Self.both([]).0 == nil)
        #expect(Self.both([7]).0 == 7)
        #expect(Self.both([Float](repeating: 3, count: 2000)).0 == 3)
        let twoLevels: [Float] = (0..<3000).map { $0 % 3 == 0 ? 10 : 20 }
        let (fast, reference) = Self.both(twoLevels)
        #expect(fast == reference && fast == 20)
    }

    @Test("sigmaClipBracketed: sigmaClip's median and count, its mean and sigma within 1e-12 relative")
    func clippedStatsAgainstSigmaClip() {
        var rng = TestRNG(seed: 5)
        let sizes = [(256, 256), (64, 64), (300, 17), (33, 9)]
        for trial in 0..<80 {
            let (w, h) = sizes[trial % sizes.count]
            let values = Self.box(w: w, h: h, stars: Int(rng.uniform() * 12), integer: trial % 2 == 0, rng: &rng)
            var a = values, b = values
            var scratch = [Float](repeating: 0, count: values.count)
            let fast = a.withUnsafeMutableBufferPointer { box in
                scratch.withUnsafeMutableBufferPointer { Statistics.sigmaClipBracketed(box, kappa: 3, iterations: 5, scratch: $0.baseAddress!) }
            }
            let reference = b.withUnsafeMutableBufferPointer { Statistics.sigmaClip($0, kappa: 3, iterations: 5) }
            guard let f = fast, let r = reference else { Issue.record("trial \(trial): nil"); continue }
            #expect(f.median.bitPattern == r.median.bitPattern && f.count == r.count, "trial \(trial)")
            #expect(abs(f.sigma - r.sigma) <= 1e-12 * r.sigma && abs(f.mean - r.mean) <= 1e-12 * abs(r.mean), "trial \(trial)")
        }
    }
}
