/// Lane helpers of the two-pass warp's 8-pixel groups: each lane does exactly the scalar operations
/// of one output pixel (the same values in the same order), only side by side.
extension WarpKernel {
    /// `gridSplit` in four lanes, for x >= 0 (the 8-column groups' positions, all inside the frame): the
    /// same values, with a logical shift (AVX2 has no 64-bit arithmetic one).
    @inline(__always)
    static func gridSplit(_ x: SIMD4<Double>) -> (index: SIMD4<Int64>, k: SIMD4<Int64>) {
        let magic = SIMD4<Double>(repeating: 6_755_399_441_055_744.0)
        let big = x * SIMD4<Double>(repeating: Double(gridSteps)) + magic
        let u = unsafeBitCast(big, to: SIMD4<UInt64>.self) &- unsafeBitCast(magic, to: SIMD4<UInt64>.self)
        return (unsafeBitCast(u &>> UInt64(gridShift), to: SIMD4<Int64>.self),
                unsafeBitCast(u & UInt64(gridSteps &- 1), to: SIMD4<Int64>.self))
    }

    /// Whether every lane of `a` and `b` equals lane 0 of `a`.
    @inline(__always)
    static func allEqualFirst(_ a: SIMD4<Int64>, _ b: SIMD4<Int64>) -> Bool {
        let f = SIMD4<Int64>(a[0], a[0], a[0], a[0])
        return allZero(a &- f, b &- f)
    }

    /// Whether every lane is finite (exponent bits not all ones: the lane's magnitude bits plus one
    /// exponent unit stay below the sign bit). Integer lane operations and one zero test (the SIMD
    /// mask reductions do a lane at a time).
    @inline(__always)
    static func allFinite(_ v: SIMD8<Float>) -> Bool {
        let e = (unsafeBitCast(v, to: SIMD8<UInt32>.self) & SIMD8(repeating: 0x7fff_ffff)) &+ SIMD8(repeating: 0x0080_0000)
        return allZero(unsafeBitCast(e & SIMD8(repeating: 0x8000_0000), to: SIMD8<Int32>.self))
    }

    /// Whether every lane of `a` and `b` is 0 (one OR reduction).
    @inline(__always)
    static func allZero(_ a: SIMD4<Int64>, _ b: SIMD4<Int64>) -> Bool {
        let o = a | b
        let h = o.lowHalf | o.highHalf
        return h[0] | h[1] == 0
    }

    /// All ones in the lanes where the grid row is 0 (the sample sits on a pixel: its value is that
    /// pixel, copied), else 0: (k - 1) >> 31 with k in 0..<gridSteps.
    @inline(__always)
    static func onPixel(_ k0: SIMD4<Int64>, _ k1: SIMD4<Int64>) -> SIMD8<UInt32> {
        let k = SIMD8<Int32>(lowHalf: SIMD4<Int32>(truncatingIfNeeded: k0), highHalf: SIMD4<Int32>(truncatingIfNeeded: k1))
        return unsafeBitCast((k &- 1) &>> 31, to: SIMD8<UInt32>.self)
    }

    /// Whether every lane is 0 (one OR reduction).
    @inline(__always)
    static func allZero(_ v: SIMD8<Int32>) -> Bool {
        let o = unsafeBitCast(v, to: SIMD4<UInt64>.self)
        let h = o.lowHalf | o.highHalf
        return h[0] | h[1] == 0
    }

    /// `a` in the lanes where `mask` is all ones, `b` where it is 0 (bitwise).
    @inline(__always)
    static func select(_ mask: SIMD8<UInt32>, _ a: SIMD8<Float>, else b: SIMD8<Float>) -> SIMD8<Float> {
        let ab = unsafeBitCast(a, to: SIMD8<UInt32>.self), bb = unsafeBitCast(b, to: SIMD8<UInt32>.self)
        return unsafeBitCast((ab & mask) | (bb & ~mask), to: SIMD8<Float>.self)
    }

    /// The 6-tap sum of every interior sample, scalar or in lanes: ((w0 p0 + w1 p1) + (w2 p2 + w3 p3)) + (w4 p4 + w5 p5).
    @inline(__always)
    static func tapSum6<V: FloatingPoint>(_ w0: V, _ w1: V, _ w2: V, _ w3: V, _ w4: V, _ w5: V,
                                          _ p0: V, _ p1: V, _ p2: V, _ p3: V, _ p4: V, _ p5: V) -> V {
        let v01: V = w0 * p0 + w1 * p1
        let v23: V = w2 * p2 + w3 * p3
        let v45: V = w4 * p4 + w5 * p5
        return v01 + v23 + v45
    }

    /// `tapSum6` in 8 lanes (the same operations, lane by lane).
    @inline(__always)
    static func tapSum6(_ w: (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>),
                        _ p0: SIMD8<Float>, _ p1: SIMD8<Float>, _ p2: SIMD8<Float>, _ p3: SIMD8<Float>,
                        _ p4: SIMD8<Float>, _ p5: SIMD8<Float>) -> SIMD8<Float> {
        let v01: SIMD8<Float> = w.0 * p0 + w.1 * p1
        let v23: SIMD8<Float> = w.2 * p2 + w.3 * p3
        let v45: SIMD8<Float> = w.4 * p4 + w.5 * p5
        return v01 + v23 + v45
    }

    /// The weights of 8 samples by tap: lane i of result j is tap j of grid row `k[i]` of `lanczosGrid8`
    /// (lanes 0-3 from `k0`, 4-7 from `k1`; every k in 0..<gridSteps). Two 4x4 transposes side by side
    /// in the two 128-bit halves (samples i and i + 4), written as two-source in-half shuffles.
    @inline(__always)
    static func gridWeights(_ k0: SIMD4<Int64>, _ k1: SIMD4<Int64>, _ lut: UnsafePointer<SIMD8<Float>>)
        -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        let r0 = lut[Int(truncatingIfNeeded: k0[0])], r1 = lut[Int(truncatingIfNeeded: k0[1])]
        let r2 = lut[Int(truncatingIfNeeded: k0[2])], r3 = lut[Int(truncatingIfNeeded: k0[3])]
        let r4 = lut[Int(truncatingIfNeeded: k1[0])], r5 = lut[Int(truncatingIfNeeded: k1[1])]
        let r6 = lut[Int(truncatingIfNeeded: k1[2])], r7 = lut[Int(truncatingIfNeeded: k1[3])]
        // Taps 0-3 of samples (i, i + 4), and taps 4-7.
        let a = SIMD8(lowHalf: r0.lowHalf, highHalf: r4.lowHalf), b = SIMD8(lowHalf: r1.lowHalf, highHalf: r5.lowHalf)
        let c = SIMD8(lowHalf: r2.lowHalf, highHalf: r6.lowHalf), d = SIMD8(lowHalf: r3.lowHalf, highHalf: r7.lowHalf)
        let e = SIMD8(lowHalf: r0.highHalf, highHalf: r4.highHalf), f = SIMD8(lowHalf: r1.highHalf, highHalf: r5.highHalf)
        let g = SIMD8(lowHalf: r2.highHalf, highHalf: r6.highHalf), h = SIMD8(lowHalf: r3.highHalf, highHalf: r7.highHalf)
        let ab0 = unpackLow(a, b), cd0 = unpackLow(c, d), ab2 = unpackHigh(a, b), cd2 = unpackHigh(c, d)
        let ef0 = unpackLow(e, f), gh0 = unpackLow(g, h)
        return (moveLowHalves(ab0, cd0), moveHighHalves(ab0, cd0), moveLowHalves(ab2, cd2), moveHighHalves(ab2, cd2),
                moveLowHalves(ef0, gh0), moveHighHalves(ef0, gh0))
    }

    /// (x0, y0, x1, y1 | x4, y4, x5, y5): `unpcklps` per 128-bit half.
    @inline(__always)
    static func unpackLow(_ x: SIMD8<Float>, _ y: SIMD8<Float>) -> SIMD8<Float> {
        SIMD8(x[0], y[0], x[1], y[1], x[4], y[4], x[5], y[5])
    }

    /// (x2, y2, x3, y3 | x6, y6, x7, y7): `unpckhps` per 128-bit half.
    @inline(__always)
    static func unpackHigh(_ x: SIMD8<Float>, _ y: SIMD8<Float>) -> SIMD8<Float> {
        SIMD8(x[2], y[2], x[3], y[3], x[6], y[6], x[7], y[7])
    }

    /// (x0, x1, y0, y1 | x4, x5, y4, y5): `movlhps` per 128-bit half.
    @inline(__always)
    static func moveLowHalves(_ x: SIMD8<Float>, _ y: SIMD8<Float>) -> SIMD8<Float> {
        SIMD8(x[0], x[1], y[0], y[1], x[4], x[5], y[4], y[5])
    }

    /// (x2, x3, y2, y3 | x6, x7, y6, y7): `movhlps` per 128-bit half.
    @inline(__always)
    static func moveHighHalves(_ x: SIMD8<Float>, _ y: SIMD8<Float>) -> SIMD8<Float> {
        SIMD8(x[2], x[3], y[2], y[3], x[6], x[7], y[6], y[7])
    }

    /// The lanes of `v` in reverse order.
    @inline(__always)
    static func reversed(_ v: SIMD8<Float>) -> SIMD8<Float> {
        SIMD8(v[7], v[6], v[5], v[4], v[3], v[2], v[1], v[0])
    }
}
