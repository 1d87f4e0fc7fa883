import Foundation

/// Resampling kernel used by `warp`.
public enum WarpInterpolation: String, Sendable, Codable, CaseIterable {
    /// 2x2 taps, weights (1-t, t) per axis.
    case bilinear
    /// 6x6 taps, separable Lanczos-3 kernel `sinc(x) sinc(x/3)`, |x| < 3, weights normalized to sum 1
    /// (tabulated at 1/1024 px and interpolated linearly: weight error < 1e-6, exact at integer offsets).
    /// The two-pass path (`WarpKernel.twoPass`) samples whose taps are all inside the frame at positions
    /// rounded to 1/2048 px, with single-precision weights tabulated there (`WarpKernel.lanczosGrid8`).
    case lanczos3
}

/// Options for `warp`.
public struct WarpOptions: Sendable, Codable, Equatable {
    /// Resampling kernel.
    public var interpolation: WarpInterpolation
    /// When true, each Lanczos output value is clamped to the [min, max] of the 2x2 source pixels
    /// around the sample point, which removes ringing (over/undershoot next to sharp stars and
    /// hot pixels) at the cost of a little sharpness. No effect on bilinear (it cannot overshoot).
    public var clampRinging: Bool

    /// Lanczos-3 without ringing clamp by default.
    public init(interpolation: WarpInterpolation = .lanczos3, clampRinging: Bool = false) {
        self.interpolation = interpolation
        self.clampRinging = clampRinging
    }
}

/// A warped image and which of its pixels hold real data.
public struct WarpResult: Sendable {
    /// The resampled image (same channel count as the source). Uncovered pixels are NaN.
    public var image: Image
    /// One byte per output pixel (row-major, shared by all channels): 1 = sampled from inside the
    /// source frame, 0 = not covered (value is NaN).
    public var coverage: [UInt8]

    /// Fraction of output pixels with coverage 1.
    public var coveredFraction: Double {
        guard !coverage.isEmpty else { return 0 }
        let n = coverage.withUnsafeBytes { raw in
            // 8 bytes a step: each byte's bits folded into its lowest bit, then one popcount.
            let words = raw.count / 8
            var n = 0
            for k in 0..<words {
                var w = raw.loadUnaligned(fromByteOffset: k &* 8, as: UInt64.self)
                w |= w >> 4
                w |= w >> 2
                w |= w >> 1
                n &+= (w & 0x0101_0101_0101_0101).nonzeroBitCount
            }
            for i in (words &* 8)..<raw.count { n &+= raw[i] != 0 ? 1 : 0 }
            return n
        }
        return Double(n) / Double(coverage.count)
    }
}

/// Resamples `image` into an output grid of `width` x `height` pixels.
///
/// `outputToSource` maps output pixel-centre coordinates to source pixel-centre coordinates: for a
/// registered frame that is the frame's reference -> frame transform (see `SimilarityTransform`).
///
/// Coverage rule (exact, documented so downstream code can rely on it): an output pixel is covered
/// iff its sample point lies in the source's pixel-centre rectangle `[0, W-1] x [0, H-1]` (tolerance
/// 1e-9 px). Uncovered pixels get NaN in every channel and coverage 0, so nothing downstream can read
/// them as zeros. Kernel taps that fall outside the source frame are dropped and the remaining
/// weights renormalized, so no value is ever invented beyond the border. A covered pixel whose
/// non-zero-weight taps include a NaN source pixel becomes NaN with coverage 0 too (NaNs propagate
/// as "no data" through chained warps).
///
/// Guarantees: deterministic; an integer translation (including the identity) copies pixels exactly
/// with either kernel, because the kernel weights at integer offsets are exactly 1 and 0.
///
/// Lanczos-3 runs as two 1-D passes (`WarpKernel.twoPass`) unless the rotation is near +-90 degrees;
/// bilinear and those rotations sample the 2-D kernel directly (`warpDirect`).
public func warp(_ image: Image, outputToSource: SimilarityTransform, width: Int, height: Int,
                 options: WarpOptions = WarpOptions()) -> WarpResult {
    precondition(width > 0 && height > 0, "warp output size must be positive")
    if options.interpolation == .lanczos3,
       let twoPass = WarpKernel.twoPass(image, a: outputToSource.linear.a, b: outputToSource.linear.b,
                                        tx: outputToSource.tx, ty: outputToSource.ty, width: width, height: height,
                                        clamp: options.clampRinging) {
        return twoPass
    }
    return warpDirect(image, outputToSource: outputToSource, width: width, height: height, options: options)
}

/// `warp` with the 2-D kernel evaluated at every output pixel (the same rules).
func warpDirect(_ image: Image, outputToSource: SimilarityTransform, width: Int, height: Int,
                options: WarpOptions = WarpOptions()) -> WarpResult {
    var out = [Float](repeating: .nan, count: width * height * image.channels)
    var coverage = [UInt8](repeating: 0, count: width * height)
    let (a, b) = outputToSource.linear
    let tx = outputToSource.tx, ty = outputToSource.ty
    let sw = image.width, sh = image.height
    let channels = image.channels, srcPlane = image.planeSize, dstPlane = width * height
    let radius = options.interpolation == .lanczos3 ? 3 : 1
    let taps = 2 * radius
    let clamp = options.clampRinging && options.interpolation == .lanczos3

    let table = WarpKernel.lanczosTable
    image.pixels.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            coverage.withUnsafeMutableBufferPointer { cov in
                table.withUnsafeBufferPointer { lut in
                    var wx = [Double](repeating: 0, count: taps)
                    var wy = [Double](repeating: 0, count: taps)
                    wx.withUnsafeMutableBufferPointer { wx in
                        wy.withUnsafeMutableBufferPointer { wy in
                            for oy in 0..<height {
                                let fy = Double(oy)
                                for ox in 0..<width {
                                    let fx = Double(ox)
                                    let sx = a * fx - b * fy + tx
                                    let sy = b * fx + a * fy + ty
                                    guard WarpKernel.covers(sx, sy, width: sw, height: sh) else { continue }
                                    let ix = WarpKernel.floorIndex(sx), iy = WarpKernel.floorIndex(sy)
                                    let x0 = ix - radius + 1, y0 = iy - radius + 1
                                    let pixel = oy * width + ox
                                    let kx = WarpKernel.weights(frac: sx - Double(ix), first: x0, count: sw,
                                                                radius: radius, table: lut, into: wx)
                                    let ky = WarpKernel.weights(frac: sy - Double(iy), first: y0, count: sh,
                                                                radius: radius, table: lut, into: wy)
                                    let norm = 1 / (kx.sum * ky.sum)
                                    var valid = true
                                    for c in 0..<channels {
                                        let base = c * srcPlane
                                        var acc = 0.0
                                        for j in ky.lo..<ky.hi {
                                            let row = base + (y0 + j) * sw + x0
                                            var rowAcc = 0.0
                                            for i in kx.lo..<kx.hi { rowAcc += wx[i] * Double(src[row + i]) }
                                            acc += wy[j] * rowAcc
                                        }
                                        var v = acc * norm
                                        if !v.isFinite { valid = false; break }
                                        if clamp {
                                            v = WarpKernel.clampToNeighbours(v, src: src, base: base, ix: ix, iy: iy, sw: sw, sh: sh)
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
    return WarpResult(image: Image(width: width, height: height, channels: channels, pixels: out), coverage: coverage)
}

/// Kernel weights for one axis.
enum WarpKernel {
    /// Table resolution: Lanczos weights are tabulated at `1 / lutSteps` px and interpolated linearly
    /// (max weight error ~5e-7; exact at integer positions).
    static let lutSteps = 1024

    /// `(lutSteps + 1) x 6` Lanczos-3 weights: row k holds L(t - (j - 2)) for t = k / lutSteps, j = 0..<6,
    /// from `L(d) = 3 sin(pi d) sin(pi d / 3) / (pi d)^2` (L(0) = 1, and exactly 0 at other integers).
    static let lanczosTable: [Double] = {
        var table = [Double](repeating: 0, count: (lutSteps + 1) * 6)
        for k in 0...lutSteps {
            let t = Double(k) / Double(lutSteps)
            for j in 0..<6 {
                let d = t - Double(j - 2)
                let v: Double
                if d == 0 {
                    v = 1
                } else if d == d.rounded() {
                    v = 0
                } else {
                    v = 3 * sin(Double.pi * d) * sin(Double.pi * d / 3) / (Double.pi * Double.pi * d * d)
                }
                table[k * 6 + j] = v
            }
        }
        return table
    }()

    /// The grid of the interior samples of `twoPass`: positions are rounded to 1 / `gridSteps` px
    /// (`gridSplit`; position error <= 1 / 4096 px, far below registration errors of ~0.02 px).
    static let gridShift = 11
    /// 2048 grid positions per pixel.
    static let gridSteps = 1 << gridShift

    /// The Lanczos-3 weights at the grid positions, single precision, 8 lanes per row (lanes 6 and 7 are
    /// 0): row k holds L(t - (j - 2)) / sum_j L(t - (j - 2)) for t = k / gridSteps (from the same formula
    /// as `lanczosTable`, in Double, then rounded once), so the interior paths of `twoPass` need no
    /// interpolation and no normalization. Row 0 is (0, 0, 1, 0, 0, 0).
    static let lanczosGrid8: [SIMD8<Float>] = (0..<gridSteps).map { k in
        let t = Double(k) / Double(gridSteps)
        var w = [Double](repeating: 0, count: 6)
        for j in 0..<6 {
            let d = t - Double(j - 2)
            w[j] = d == 0 ? 1 : d == d.rounded() ? 0
                : 3 * sin(Double.pi * d) * sin(Double.pi * d / 3) / (Double.pi * Double.pi * d * d)
        }
        var sum = 0.0
        for j in 0..<6 { sum += w[j] }
        var row = SIMD8<Float>(repeating: 0)
        for j in 0..<6 { row[j] = Float(w[j] / sum) }
        return row
    }

    /// x rounded to the grid of 1 / `gridSteps` px (half to even), split into the pixel `index`
    /// (floor of the rounded position) and the grid row `k` in 0..<gridSteps: x ~ index + k / gridSteps.
    /// For |x| < 2^40 (the magic-number rounding of `floorSplit`, on x * gridSteps, an exact product).
    @inline(__always)
    static func gridSplit(_ x: Double) -> (index: Int, k: Int) {
        let magic = 6_755_399_441_055_744.0
        let u = Int(truncatingIfNeeded: (x * Double(gridSteps) + magic).bitPattern &- magic.bitPattern)
        return (u &>> gridShift, u & (gridSteps &- 1))
    }

    /// Whether source point (sx, sy) lies in the pixel-centre rectangle [0, width-1] x [0, height-1]
    /// (tolerance 1e-9 px): `warp`'s coverage rule.
    @inline(__always)
    static func covers(_ sx: Double, _ sy: Double, width: Int, height: Int) -> Bool {
        let eps = 1e-9
        return sx >= -eps && sx <= Double(width - 1) + eps && sy >= -eps && sy <= Double(height - 1) + eps
    }

    /// floor(x) as an Int and as a Double (the same integer), for |x| < 2^51, without the range checks
    /// of `Int(x)`: x + 1.5 * 2^52 rounds x to an integer in its last bits (exactly: that binade's unit
    /// is 1), one step down when that rounded up. Callers make sure x is finite and small.
    @inline(__always)
    static func floorSplit(_ x: Double) -> (index: Int, value: Double) {
        let magic = 6_755_399_441_055_744.0
        let big = x + magic
        let rounded = big - magic
        let down = rounded > x
        let i = Int(truncatingIfNeeded: big.bitPattern &- magic.bitPattern) &- (down ? 1 : 0)
        return (i, down ? rounded - 1 : rounded)
    }

    /// floor(x) as an Int without a libm call (for x well inside Int's range).
    @inline(__always)
    static func floorIndex(_ x: Double) -> Int {
        let i = Int(x)
        return Double(i) > x ? i - 1 : i
    }

    /// Ends an output pixel: covered when every channel's value was finite, else NaN in every channel
    /// and not covered (the "NaN is no data" rule of `warp`).
    @inline(__always)
    static func settle(_ valid: Bool, pixel: Int, channels: Int, dstPlane: Int, dst: UnsafeMutableBufferPointer<Float>,
                       cov: UnsafeMutableBufferPointer<UInt8>) {
        if valid {
            cov[pixel] = 1
        } else {
            for c in 0..<channels { dst[c * dstPlane + pixel] = .nan }
        }
    }

    /// Fills `w` with the weights of the `2 * radius` taps starting at source index `first`, for a sample
    /// at fractional offset `t` in [0, 1) past tap `radius - 1`. Returns the weight sum and the
    /// contiguous tap range `lo..<hi` that is inside [0, count) and has non-zero weight (only the
    /// centre tap when t == 0), so callers never multiply a pixel by a zero weight.
    @inline(__always)
    static func weights(frac t: Double, first: Int, count: Int, radius: Int, table: UnsafeBufferPointer<Double>,
                        into w: UnsafeMutableBufferPointer<Double>) -> (sum: Double, lo: Int, hi: Int) {
        let centre = radius - 1
        if t == 0 {
            w[centre] = 1
            return (1, centre, centre + 1)
        }
        let lo = max(0, -first), hi = min(2 * radius, count - first)
        var sum = 0.0
        if radius == 1 {
            w[0] = 1 - t
            w[1] = t
        } else {
            let pos = t * Double(lutSteps)
            let k = min(Int(pos), lutSteps - 1)
            let f = pos - Double(k)
            let r0 = k * 6, r1 = r0 + 6
            for j in 0..<6 { w[j] = table[r0 + j] + f * (table[r1 + j] - table[r0 + j]) }
        }
        for j in lo..<hi { sum += w[j] }
        return (sum, lo, hi)
    }

    /// `v` clamped to the [min, max] of the 2x2 source pixels around (ix + t, iy + u) (ringing clamp).
    @inline(__always)
    static func clampToNeighbours(_ v: Double, src: UnsafeBufferPointer<Float>, base: Int, ix: Int, iy: Int,
                                  sw: Int, sh: Int) -> Double {
        let cx0 = max(0, min(ix, sw - 1)), cx1 = min(ix + 1, sw - 1)
        let cy0 = max(0, min(iy, sh - 1)), cy1 = min(iy + 1, sh - 1)
        let p00 = Double(src[base + cy0 * sw + cx0]), p10 = Double(src[base + cy0 * sw + cx1])
        let p01 = Double(src[base + cy1 * sw + cx0]), p11 = Double(src[base + cy1 * sw + cx1])
        return min(max(v, min(min(p00, p10), min(p01, p11))), max(max(p00, p10), max(p01, p11)))
    }
}
