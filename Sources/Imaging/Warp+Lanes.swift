/// Lane helpers of the two-pass warp's 4-pixel groups: each lane does exactly the scalar operations
/// of one output pixel (the same values in the same order), only side by side.
extension WarpKernel {
    /// `floorSplit` in two lanes.
    @inline(__always)
    static func floorSplit(_ x: SIMD2<Double>) -> (index: SIMD2<Int64>, value: SIMD2<Double>) {
        let magic = SIMD2<Double>(repeating: 6_755_399_441_055_744.0)
        let big = x + magic
        let rounded = big - magic
        let down = rounded .> x
        let bits = unsafeBitCast(big, to: SIMD2<Int64>.self) &- unsafeBitCast(magic, to: SIMD2<Int64>.self)
        let index = bits &+ SIMD2<Int64>(repeating: 0).replacing(with: -1, where: down)
        let value = rounded - SIMD2<Double>(repeating: 0).replacing(with: 1, where: down)
        return (index, value)
    }

    /// Whether every lane is finite (exponent bits not all ones).
    @inline(__always)
    static func allFinite(_ v: SIMD4<Float>) -> Bool {
        let bits = unsafeBitCast(v, to: SIMD4<UInt32>.self) & SIMD4(repeating: 0x7fff_ffff)
        return all(bits .< SIMD4(repeating: 0x7f80_0000))
    }

    /// Four lanes of Double as Float (each `Float(x)`).
    @inline(__always)
    static func floats(_ lo: SIMD2<Double>, _ hi: SIMD2<Double>) -> SIMD4<Float> {
        SIMD4(Float(lo.x), Float(lo.y), Float(hi.x), Float(hi.y))
    }

    /// The 4x4 transpose: lane i of result j is lane j of argument i.
    @inline(__always)
    static func transpose(_ a: SIMD4<Float>, _ b: SIMD4<Float>, _ c: SIMD4<Float>, _ d: SIMD4<Float>)
        -> (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>) {
        let ab01 = SIMD4(a[0], b[0], a[1], b[1]), cd01 = SIMD4(c[0], d[0], c[1], d[1])
        let ab23 = SIMD4(a[2], b[2], a[3], b[3]), cd23 = SIMD4(c[2], d[2], c[3], d[3])
        return (SIMD4(lowHalf: ab01.lowHalf, highHalf: cd01.lowHalf), SIMD4(lowHalf: ab01.highHalf, highHalf: cd01.highHalf),
                SIMD4(lowHalf: ab23.lowHalf, highHalf: cd23.lowHalf), SIMD4(lowHalf: ab23.highHalf, highHalf: cd23.highHalf))
    }

    /// The 8-lane weights (`weights8`) of four samples whose table rows `k` and offsets `f` are given
    /// (k in 0..<lutSteps).
    @inline(__always)
    static func weights8x4(_ k: (Int, Int, Int, Int), _ f: SIMD4<Float>, _ lut: UnsafeBufferPointer<SIMD8<Float>>,
                           _ steps: UnsafeBufferPointer<SIMD8<Float>>)
        -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        (lut[k.0] + f[0] * steps[k.0], lut[k.1] + f[1] * steps[k.1],
         lut[k.2] + f[2] * steps[k.2], lut[k.3] + f[3] * steps[k.3])
    }
}
