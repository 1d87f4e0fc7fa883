import Foundation
import Imaging

/// A small deterministic RNG for tests: Imaging's `SplitMix64` (the generator of the seeded
/// algorithms) plus the draws the tests use. `TestRNG(seed: s).next()` is `SplitMix64(seed: s).next()`,
/// so the sequences are the ones the tests were written against.
public struct TestRNG: RandomNumberGenerator {
    private var base: SplitMix64
    /// Seeded generator.
    public init(seed: UInt64) { base = SplitMix64(seed: seed) }
    /// Next 64 random bits.
    public mutating func next() -> UInt64 { base.next() }

    /// Uniform in the open interval (0, 1): the top 53 bits of one `next()`, centred in their cell,
    /// so the value is never 0 or 1 (safe for `log`).
    public mutating func uniform() -> Double {
        (Double(next() >> 11) + 0.5) / 9_007_199_254_740_992.0  // 2^53
    }

    /// Uniform in [lo, hi] as a `Float`, from one `uniform()` (the rounding to `Float` may reach `hi`).
    public mutating func uniform(_ lo: Float, _ hi: Float) -> Float {
        lo + (hi - lo) * Float(uniform())
    }

    /// Standard normal (mean 0, variance 1) by Box-Muller from two `uniform()` draws, the first giving
    /// the radius and the second the angle; consumes exactly two `next()` values.
    public mutating func normal() -> Double {
        let u1 = uniform(), u2 = uniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
}
