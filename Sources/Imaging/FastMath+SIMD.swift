/// Vector e^x for the Gaussian PSF fit's passes over a stamp (`PSFGaussianPasses`): several pixels per
/// call in SIMD registers (8 Float or 2 Double lanes), no table
/// and no libm. Plain IEEE arithmetic in a fixed order (no fused multiply-add), so every lane gives the
/// same bits as the same value in any other lane, call or thread.
extension FastMath {
    /// e^x per lane in Float for x <= 0 (the Gaussian's `-Q/2`), eight lanes (one AVX register on the
    /// release target): Cody-Waite reduction by ln 2 and the degree-5 polynomial of Cephes' `expf` on
    /// |r| <= ln2/2 (within 2 ulp of the correctly rounded value for x >= -87; measured by a test), 2^k
    /// by exponent-bit assembly. Lanes with x < -40 give exactly 0: e^-40 = 4e-18 is far below Float's
    /// resolution of a star's peak (6e-8), and the products the fit forms from such values (squares,
    /// times pixel offsets) would otherwise reach the subnormal range, which is slow on x86. NaN lanes
    /// stay NaN. Each lane's bits depend only on its own value.
    @inline(__always)
    static func expNegative(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let shifter = SIMD8<Float>(repeating: 12_582_912)  // 1.5 * 2^23: adding it rounds to an integer
        let t = x * 1.442_695_04 + shifter
        let kf = t - shifter
        let r = (x - kf * 0.693_359_375) - kf * -2.121_944_4e-4
        var p = SIMD8<Float>(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_6e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_1e-1
        let e = p * (r * r) + r + 1
        // t's low mantissa bits hold k (t = 1.5 * 2^23 + k); 2^k = bits (k + 127) << 23.
        let bits = unsafeBitCast(t, to: SIMD8<UInt32>.self) &- unsafeBitCast(shifter, to: SIMD8<UInt32>.self)
        let scale = unsafeBitCast((bits &+ 127) &<< 23, to: SIMD8<Float>.self)
        return (e * scale).replacing(with: 0, where: x .< -40)
    }

    /// e^x per lane in Double for x <= 0: the arithmetic of `exp` (Cody-Waite reduction, degree-13
    /// Taylor polynomial, within 2 ulp), two lanes at a time. Lanes with x < -708 give exactly 0 (as
    /// `exp`); NaN lanes stay NaN.
    @inline(__always)
    static func expNegative(_ x: SIMD2<Double>) -> SIMD2<Double> {
        let shifter = SIMD2<Double>(repeating: 6_755_399_441_055_744.0)  // 1.5 * 2^52
        let t = x * 1.4426950408889634 + shifter
        let kf = t - shifter
        let r = (x - kf * 6.93147180369123816490e-01) - kf * 1.90821492927058770002e-10
        var p = SIMD2<Double>(repeating: 1.6059043836821614e-10)  // 1/13!
        p = p * r + 2.08767569878681e-09
        p = p * r + 2.505210838544172e-08
        p = p * r + 2.755731922398589e-07
        p = p * r + 2.7557319223985893e-06
        p = p * r + 2.48015873015873e-05
        p = p * r + 0.0001984126984126984
        p = p * r + 0.001388888888888889
        p = p * r + 0.008333333333333333
        p = p * r + 0.041666666666666664
        p = p * r + 0.16666666666666666
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        // t = 1.5 * 2^52 + k: the bit patterns differ by k; 2^k = bits (k + 1023) << 52.
        let bits = unsafeBitCast(t, to: SIMD2<UInt64>.self) &- unsafeBitCast(shifter, to: SIMD2<UInt64>.self)
        let scale = unsafeBitCast((bits &+ 1023) &<< 52, to: SIMD2<Double>.self)
        return (p * scale).replacing(with: 0, where: x .< -708)
    }
}
