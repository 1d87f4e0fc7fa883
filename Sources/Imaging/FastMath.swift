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

extension FastMath {
    /// 2^(j/64), j = 0...63, correctly rounded (computed to 60 digits, then rounded once).
    static let exp2Table64: [Double] = [
        1.0, 1.0108892860517005, 1.0218971486541166, 1.0330248790212284,
        1.0442737824274138, 1.0556451783605572, 1.0671404006768237, 1.0787607977571199,
        1.0905077326652577, 1.102382583307841, 1.1143867425958924, 1.1265216186082418,
        1.1387886347566916, 1.1511892299529827, 1.1637248587775775, 1.1763969916502812,
        1.189207115002721, 1.202156731452703, 1.215247359980469, 1.22848053610687,
        1.241857812073484, 1.255380757024691, 1.2690509571917332, 1.2828700160787783,
        1.2968395546510096, 1.3109612115247644, 1.3252366431597413, 1.339667524053303,
        1.3542555469368927, 1.3690024229745905, 1.383909881963832, 1.3989796725383112,
        1.4142135623730951, 1.42961333839197, 1.4451808069770467, 1.460917794180647,
        1.4768261459394993, 1.4929077282912648, 1.5091644275934228, 1.5255981507445384,
        1.5422108254079407, 1.559004400237837, 1.5759808451078865, 1.593142151342267,
        1.6104903319492543, 1.6280274218573478, 1.645755478153965, 1.6636765803267364,
        1.681792830507429, 1.7001063537185235, 1.718619298122478, 1.7373338352737062,
        1.7562521603732995, 1.7753764925265212, 1.7947090750031072, 1.8142521755003989,
        1.8340080864093424, 1.8539791250833855, 1.8741676341103, 1.8945759815869656,
        1.9152065613971474, 1.9360617934922943, 1.9571441241754002, 1.978456026387951,
    ]

    /// `exp2Table64` in memory that lives as long as the process: the `table` of `expFit`. Read it once
    /// outside a hot loop (each access of a global checks its lazy initialization).
    nonisolated(unsafe) static let exp2Table64Pointer: UnsafePointer<Double> = {
        let p = UnsafeMutablePointer<Double>.allocate(capacity: 64)
        p.initialize(from: exp2Table64, count: 64)
        return UnsafePointer(p)
    }()

    /// e^x for the PSF fits' hot loops: x = (64 m + j) ln2/64 + r with |r| <= ln2/128, e^x =
    /// 2^m * 2^(j/64) * P(r), P the degree-6 Taylor polynomial (truncation < 4e-17 relative). About
    /// half the instructions of `exp` (7 instead of 14 polynomial steps); within 4 ulp of the
    /// correctly rounded value (measured by a test). Same domain rules as `exp`: +infinity from 709,
    /// 0 below -708, NaN propagates. Deterministic (plain IEEE arithmetic and a constant table).
    /// `table` must be `exp2Table64Pointer`.
    @inline(__always)
    static func expFit(_ x: Double, table: UnsafePointer<Double>) -> Double {
        guard x > -708 else { return x.isNaN ? x : 0 }
        guard x < 709 else { return .infinity }
        let shifter = 6_755_399_441_055_744.0  // 1.5 * 2^52: adding it rounds to an integer
        let t = x * 92.33248261689366 + shifter  // 64 / ln 2
        let kf = t - shifter
        // k = kf as an integer, read from t's low mantissa bits (t = 1.5 * 2^52 + k, |k| < 2^17).
        let k = Int(Int32(truncatingIfNeeded: t.bitPattern))
        // ln 2 / 64 in two parts (the high part has 32 significant bits, so kf * hi is exact).
        let r = (x - kf * (6.93147180369123816490e-01 / 64)) - kf * (1.90821492927058770002e-10 / 64)
        var p = 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        let m = k >> 6, j = k & 63
        return table[j] * p * Double(bitPattern: UInt64(m + 1023) << 52)
    }
}
