/// Inlined elementary functions for hot loops (no libm call per pixel).
enum FastMath {
    /// e^x for x < 709 (+infinity above), within ~2 ulp of the correctly rounded value (Cody-Waite reduction
    /// by ln 2, degree-13 Taylor polynomial on |r| <= ln2 / 2, exponent by bit assembly). Returns 0
    /// below -708 (where e^x is subnormal or 0) and propagates NaN. Deterministic: plain IEEE
    /// arithmetic, the same bits on every run and thread.
    @inline(__always)
    static func exp(_ x: Double) -> Double {
        guard x > -708 else { return x.isNaN ? x : 0 }
        guard x < 709 else { return .infinity }
        let shifter = 6_755_399_441_055_744.0  // 1.5 * 2^52: adding it rounds to an integer
        let kf = (x * 1.4426950408889634 + shifter) - shifter
        let r = (x - kf * 6.93147180369123816490e-01) - kf * 1.90821492927058770002e-10
        var p = 1.6059043836821614e-10  // 1/13!
        p = p * r + 2.08767569878681e-09  // 1/12!
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
        let k = Int(kf)
        return p * Double(bitPattern: UInt64(k + 1023) << 52)
    }
}
