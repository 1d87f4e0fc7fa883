import Foundation
@testable import Imaging

/// The two-pass warp as it was before the per-column tables and shared weights (tcbuild 6a8ac31), one
/// output pixel at a time: the reference `WarpKernel.twoPass` must equal bit for bit.
enum WarpReference {
    /// The 8-lane weights at fractional offset `t`, interpolated as `r0 + f (r1 - r0)`.
    static func referenceWeights8(frac t: Double, _ lut: UnsafeBufferPointer<SIMD8<Float>>) -> SIMD8<Float> {
        let pos = t * Double(WarpKernel.lutSteps)
        let k = min(Int(pos), WarpKernel.lutSteps - 1)
        let f = Float(pos - Double(k))
        let r0 = lut[k], r1 = lut[k + 1]
        return r0 + f * (r1 - r0)
    }

    static func twoPassReference(_ image: Image, a: Double, b: Double, tx: Double, ty: Double, width: Int, height: Int,
                        clamp: Bool) -> WarpResult? {
        guard abs(a) >= 0.5 else { return nil }
        let sw = image.width, sh = image.height, channels = image.channels
        let srcPlane = image.planeSize, dstPlane = width * height, midPlane = width * sh
        let s = a + b * b / a
        var mid = [Float](repeating: 0, count: midPlane * channels)
        var out = [Float](repeating: .nan, count: dstPlane * channels)
        var coverage = [UInt8](repeating: 0, count: dstPlane)
        let lut8 = WarpKernel.lanczosTable8, table = WarpKernel.lanczosTable
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
                        let ix = WarpKernel.floorIndex(x)
                        let t = x - Double(ix)
                        if t == 0 { dst[ox] = row[ix]; continue }
                        let x0 = ix - 2
                        if x0 >= 0, x0 + 8 <= sw {
                            let w = referenceWeights8(frac: t, lut8)
                            let h8 = w * UnsafeRawPointer(row + x0).loadUnaligned(as: SIMD8<Float>.self)
                            let h4 = h8.lowHalf + h8.highHalf, h2 = h4.lowHalf + h4.highHalf
                            let v = h2.x + h2.y
                            if v.isFinite { dst[ox] = v; continue }
                        }
                        dst[ox] = WarpKernel.tapSum(row, first: x0, count: sw, frac: t, table: lut)
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
                        guard WarpKernel.covers(sx, sy, width: sw, height: sh) else { continue }
                        let iy = WarpKernel.floorIndex(sy)
                        let y0 = iy - 2
                        let t = sy - Double(iy)
                        let pixel = oy * width + ox
                        if t != 0, y0 >= 0, y0 + 6 <= sh, !clamp {
                            // Interior: the 6 taps with the pre-normalized single-precision weights.
                            let w = referenceWeights8(frac: t, lut8)
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
                            if valid { WarpKernel.settle(true, pixel: pixel, channels: channels, dstPlane: dstPlane, dst: dst, cov: cov); continue }
                        }
                        let k = WarpKernel.weights(frac: t, first: y0, count: sh, radius: 3, table: lut, into: wy)
                        let norm = 1 / k.sum
                        var valid = true
                        for c in 0..<channels {
                            let column = mid.baseAddress! + c * midPlane + ox
                            var acc = 0.0
                            for j in k.lo..<k.hi { acc += wy[j] * Double(column[(y0 + j) * width]) }
                            var v = acc * norm
                            if !v.isFinite { valid = false; break }
                            if clamp {
                                v = WarpKernel.clampToNeighbours(v, src: src, base: c * srcPlane, ix: WarpKernel.floorIndex(sx), iy: iy, sw: sw, sh: sh)
                            }
                            dst[c * dstPlane + pixel] = Float(v)
                        }
                        WarpKernel.settle(valid, pixel: pixel, channels: channels, dstPlane: dstPlane, dst: dst, cov: cov)
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
}
