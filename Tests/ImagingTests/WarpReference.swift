import Foundation
@testable import Imaging

/// The two-pass warp by its definition, one output pixel at a time (no 8-column groups, no shared
/// spans, the grid position from `rounded`): `WarpKernel.twoPass` must equal it bit for bit.
enum WarpReference {
    /// Position x on the 1/2048 px grid: (pixel, grid row), rounded half to even.
    static func grid(_ x: Double) -> (index: Int, k: Int) {
        let u = (x * 2048).rounded(.toNearestOrEven)
        let i = Int((u / 2048).rounded(.down))
        return (i, Int(u) - i * 2048)
    }

    /// The interior 6-tap sum with the grid weights of row k.
    static func sum6(_ w: SIMD8<Float>, _ p: [Float]) -> Float {
        let v01: Float = w[0] * p[0] + w[1] * p[1]
        let v23: Float = w[2] * p[2] + w[3] * p[3]
        let v45: Float = w[4] * p[4] + w[5] * p[5]
        return v01 + v23 + v45
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
        let lut8 = WarpKernel.lanczosGrid8, table = WarpKernel.lanczosTable
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
                        let (i, k) = grid(x)
                        if i >= 2, i + 3 < sw {
                            let v = k == 0 ? row[i] : sum6(lut8[k], (0..<6).map { row[i - 2 + $0] })
                            if v.isFinite { dst[ox] = v; continue }
                        }
                        let ix = WarpKernel.floorIndex(x)
                        let t = x - Double(ix)
                        if t == 0 { dst[ox] = row[ix]; continue }
                        let x0 = ix - 2
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
                        let (i, kq) = grid(sy)
                        let pixel = oy * width + ox
                        if i >= 2, i + 3 < sh, !clamp {
                            // Interior: the 6 taps on the grid.
                            var valid = true
                            for c in 0..<channels {
                                let column = mid.baseAddress! + c * midPlane + ox
                                let taps = (0..<6).map { column[(i - 2 + $0) * width] }
                                let v = kq == 0 ? taps[2] : sum6(lut8[kq], taps)
                                if !v.isFinite { valid = false; break }
                                dst[c * dstPlane + pixel] = v
                            }
                            if valid { WarpKernel.settle(true, pixel: pixel, channels: channels, dstPlane: dstPlane, dst: dst, cov: cov); continue }
                        }
                        let iy = WarpKernel.floorIndex(sy)
                        let y0 = iy - 2
                        let t = sy - Double(iy)
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
