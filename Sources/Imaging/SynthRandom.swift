import Foundation

/// A small, fast, seedable pseudo-random generator (xoshiro256**, seeded through SplitMix64).
///
/// Guarantees: the sequence depends only on the seed (and stream), never on the thread, the
/// process or the platform's system generator, so every synthetic series is reproducible bit for
/// bit. Not cryptographic.
public struct SynthRandom: RandomNumberGenerator, Sendable {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64
    /// A spare standard normal from the last Box-Muller pair, if any.
    private var spareNormal: Double?

    /// A generator for `seed` and an independent `stream` (e.g. a frame index); equal pairs give
    /// equal sequences, different pairs give statistically independent ones.
    public init(seed: UInt64, stream: UInt64 = 0) {
        var sm = SplitMix64(state: seed ^ (stream &* 0xD1B5_4A32_D192_ED03) ^ 0x5851_F42D_4C95_7F2D)
        // Mix twice more so nearby seeds and streams land far apart.
        _ = sm.next()
        s0 = sm.next(); s1 = sm.next(); s2 = sm.next(); s3 = sm.next()
        if (s0 | s1 | s2 | s3) == 0 { s0 = 1 }
        spareNormal = nil
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 { nextRaw() }

    mutating func nextRaw() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A uniform double in [0, 1) with 53 random bits.
    public mutating func uniform() -> Double {
        Double(nextRaw() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// A uniform double in `range`.
    public mutating func uniform(_ range: ClosedRange<Double>) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * uniform()
    }

    /// A uniform integer in `0..<n` (n > 0), without modulo bias worth measuring (128-bit multiply).
    public mutating func index(_ n: Int) -> Int {
        precondition(n > 0, "index(_:) needs a positive bound")
        return Int(nextRaw().multipliedFullWidth(by: UInt64(n)).high)
    }

    /// A standard normal deviate (Box-Muller; the second value of each pair is kept for the next call).
    public mutating func normal() -> Double {
        if let spare = spareNormal {
            spareNormal = nil
            return spare
        }
        // u1 in (0, 1] so log never sees zero.
        let u1 = 1.0 - uniform()
        let u2 = uniform()
        let r = (-2.0 * log(u1)).squareRoot()
        let a = 2.0 * Double.pi * u2
        spareNormal = r * sin(a)
        return r * cos(a)
    }

    /// A Poisson deviate with mean `lambda` >= 0. Exact (Knuth's product method) for `lambda` < 30;
    /// for larger means the Gaussian approximation `round(lambda + sqrt(lambda) * N(0,1))`,
    /// clamped at zero, whose error is far below read noise at such counts.
    public mutating func poisson(_ lambda: Double) -> Double {
        if lambda <= 0 { return 0 }
        if lambda < 30 {
            let limit = exp(-lambda)
            var k = 0.0
            var p = uniform()
            while p > limit {
                k += 1
                p *= uniform()
            }
            return k
        }
        return max(0, (lambda + lambda.squareRoot() * normal()).rounded())
    }
}

/// SplitMix64: a tiny seeded generator. Expands seeds into xoshiro state, hashes integers, and is the
/// deterministic generator of the seeded algorithms (asterism sampling, k-means++): same seed, same
/// sequence on every platform and thread count.
public struct SplitMix64: Sendable, RandomNumberGenerator {
    /// The generator state (the seed before the first draw).
    public var state: UInt64

    /// A generator at `state`.
    public init(state: UInt64) { self.state = state }

    /// A generator seeded with `seed`.
    public init(seed: UInt64) { self.state = seed }

    /// Next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) from the top 53 bits.
    public mutating func unit() -> Double { Double(next() >> 11) / 9_007_199_254_740_992.0 }

    /// A well-mixed 64-bit hash of `values` under `seed` (stateless; used for lattice noise).
    static func hash(_ seed: UInt64, _ a: Int64, _ b: Int64) -> UInt64 {
        var sm = SplitMix64(state: seed ^ (UInt64(bitPattern: a) &* 0x9E37_79B9_7F4A_7C15))
        _ = sm.next()
        sm.state ^= UInt64(bitPattern: b) &* 0xC2B2_AE3D_27D4_EB4F
        return sm.next()
    }
}
