/// Lanczos-3 resampling of a similarity transform in two 1-D passes (METHOD phase 1's warp, the
/// fast path of `warp`).
///
/// For `outputToSource` x' = a x - b y + tx, y' = b x + a y + ty, output column x is a straight line
/// in the source. Pass 1 samples every source row r where each output column's line crosses it
/// (x' = s x + c_r with s = a + b^2 / a, c_r = tx + (ty - r) b / a: a 1-D resampling of the row with a
/// constant step); pass 2 samples each output column's line at y' (rows r of pass 1 are unit steps
/// along that line). The point mapping is exact; the 6x6 footprint is the 2-D kernel's, sheared by the
/// rotation (its rows slide by b / a px per row: 0.002 px at a 0.1 degree field rotation). The cost
/// per output pixel is two 6-tap sums instead of a 36-tap one.
///
/// Borders follow `warp`'s rules: coverage from (x', y') inside the source's pixel-centre rectangle;
/// taps outside the source dropped and the rest renormalized (per pass); a NaN under a tap of non-zero
/// weight makes the output NaN with coverage 0; integer offsets copy pixels exactly. Where a column's
/// line leaves the frame within 3 rows of a covered sample (a band of width 3 |b / a| px at the left
/// and right borders), pass 1 samples the border column.
extension WarpKernel {
    /// The two-pass warp, or nil when it does not apply (|a| < 0.5: rotations near +-90 degrees, where
    /// the row step s would blow up; `warp` then uses the direct 2-D kernel).
    static func twoPass(_ image: Image, a: Double, b: Double, tx: Double, ty: Double, width: Int, height: Int,
                        clamp: Bool) -> WarpResult? {
        guard abs(a) >= 0.5 else { return nil }
        let sw = image.width, sh = image.height, channels = image.channels
        let srcPlane = image.planeSize, dstPlane = width * height, midPlane = width * sh
        let s = a + b * b / a
        var mid = [Float](repeating: 0, count: midPlane * channels)
        var out = [Float](repeating: .nan, count: dstPlane * channels)
        var coverage = [UInt8](repeating: 0, count: dstPlane)
        let lut8 = lanczosTable8, table = lanczosTable
        image.pixels.withUnsafeBufferPointer { src in
        mid.withUnsafeMutableBufferPointer { mid in
        lut8.withUnsafeBufferPointer { lut8 in
        table.withUnsafeBufferPointer { lut in
            // Pass 1: rows.
            for c in 0..<channels {
                for r in 0..<sh {
                    let row = src.baseAddress! + c * srcPlane + r * sw
                    let dst = mid.baseAddress! + c * midPlane + r * width
                    let cr = tx + (ty - Double(r)) * b / a
                    for ox in 0..<width {
                        let x = min(max(s * Double(ox) + cr, 0), Double(sw - 1))
                        let ix = floorIndex(x)
                        let t = x - Double(ix)
                        if t == 0 { dst[ox] = row[ix]; continue }
                        let x0 = ix - 2
                        if x0 >= 0, x0 + 8 <= sw {
                            let w = weights8(frac: t, lut8)
                            let h8 = w * UnsafeRawPointer(row + x0).loadUnaligned(as: SIMD8<Float>.self)
                            let h4 = h8.lowHalf + h8.highHalf, h2 = h4.lowHalf + h4.highHalf
                            let v = h2.x + h2.y
                            if v.isFinite { dst[ox] = v; continue }
                        }
                        dst[ox] = tapSum(row, first: x0, count: sw, frac: t, table: lut)
                    }
                }
            }
        }
        }
        }
        }
        // Pass 2: columns, at the output's sample points.
        lut8.withUnsafeBufferPointer { lut8 in
        mid.withUnsafeBufferPointer { mid in
        image.pixels.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
        coverage.withUnsafeMutableBufferPointer { cov in
        table.withUnsafeBufferPointer { lut in
            var wy = [Double](repeating: 0, count: 6)
            wy.withUnsafeMutableBufferPointer { wy in
                for oy in 0..<height {
                    let fy = Double(oy)
                    for ox in 0..<width {
                        let fx = Double(ox)
                        let sx = a * fx - b * fy + tx
                        let sy = b * fx + a * fy + ty
                        guard covers(sx, sy, width: sw, height: sh) else { continue }
                        let iy = floorIndex(sy)
                        let y0 = iy - 2
                        let t = sy - Double(iy)
                        let pixel = oy * width + ox
                        if t != 0, y0 >= 0, y0 + 6 <= sh, !clamp {
                            // Interior: the 6 taps with the pre-normalized single-precision weights.
                            let w = weights8(frac: t, lut8)
                            let w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5]
                            var valid = true
                            for c in 0..<channels {
                                let base: Int = c * midPlane + y0 * width + ox
                                let p = mid.baseAddress! + base
                                let v01: Float = w0 * p[0] + w1 * p[width]
                                let v23: Float = w2 * p[2 &* width] + w3 * p[3 &* width]
                                let v45: Float = w4 * p[4 &* width] + w5 * p[5 &* width]
                                let v = v01 + v23 + v45
                                if !v.isFinite { valid = false; break }
                                dst[c * dstPlane + pixel] = v
                            }
                            if valid { settle(true, pixel: pixel, channels: channels, dstPlane: dstPlane, dst: dst, cov: cov); continue }
                        }
                        let k = weights(frac: t, first: y0, count: sh, radius: 3, table: lut, into: wy)
                        let norm = 1 / k.sum
                        var valid = true
                        for c in 0..<channels {
                            let column = mid.baseAddress! + c * midPlane + ox
                            var acc = 0.0
                            for j in k.lo..<k.hi { acc += wy[j] * Double(column[(y0 + j) * width]) }
                            var v = acc * norm
                            if !v.isFinite { valid = false; break }
                            if clamp {
                                v = clampToNeighbours(v, src: src, base: c * srcPlane, ix: floorIndex(sx), iy: iy, sw: sw, sh: sh)
                            }
                            dst[c * dstPlane + pixel] = Float(v)
                        }
                        settle(valid, pixel: pixel, channels: channels, dstPlane: dstPlane, dst: dst, cov: cov)
                    }
                }
            }
        }
        }
        }
        }
        }
        }
        return WarpResult(image: Image(width: width, height: height, channels: channels, pixels: out), coverage: coverage)
    }

    /// A 6-tap row sum at fractional offset `t` past tap 2 of `row[first...]`, dropping taps outside
    /// [0, count) and those of weight 0 and renormalizing (the exact path of pass 1); NaN when a tap
    /// of non-zero weight is NaN or no tap is left.
    @inline(__always)
    static func tapSum(_ row: UnsafePointer<Float>, first: Int, count: Int, frac t: Double,
                       table: UnsafeBufferPointer<Double>) -> Float {
        var w = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        let k = withUnsafeMutableBytes(of: &w) { raw in
            weights(frac: t, first: first, count: count, radius: 3, table: table,
                    into: raw.bindMemory(to: Double.self))
        }
        guard k.sum != 0 else { return .nan }
        return withUnsafeBytes(of: &w) { raw in
            let wp = raw.bindMemory(to: Double.self)
            var acc = 0.0
            for j in k.lo..<k.hi { acc += wp[j] * Double(row[first + j]) }
            return Float(acc / k.sum)
        }
    }
}
