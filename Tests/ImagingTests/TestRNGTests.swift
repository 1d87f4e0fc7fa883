import Testing
import TestSupport
@testable import Imaging

/// TestRNG now wraps Imaging's SplitMix64; the tests' fixtures depend on its sequences staying
/// those of the reference SplitMix64 (values from the reference C implementation).
@Suite struct TestRNGTests {
    @Test func sequencesAreReferenceSplitMix64() {
        var a = TestRNG(seed: 1_234_567)
        #expect([a.next(), a.next(), a.next()] == [6_457_827_717_110_365_317, 3_203_168_211_198_807_973, 9_817_491_932_198_370_423])
        var z = TestRNG(seed: 0)
        #expect(z.next() == 0xE220_A839_7B1D_CDAF)
        var t = TestRNG(seed: 77), s = SplitMix64(seed: 77)
        for _ in 0..<1000 { #expect(t.next() == s.next()) }
        // uniform() and normal() draws on top of it are unchanged.
        var u = TestRNG(seed: 42)
        #expect(u.uniform() == (Double(13_679_457_532_755_275_413 as UInt64 >> 11) + 0.5) / 9_007_199_254_740_992.0)
        var n = TestRNG(seed: 42)
        #expect(abs(n.normal() - 0.41471975043153037) < 1e-15)
    }
}
