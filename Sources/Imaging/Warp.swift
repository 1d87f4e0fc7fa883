import Foundation

/// Resampling kernel used by `warp`.
public enum WarpInterpolation: String, Sendable, Codable, CaseIterable {
    /// 2x2 taps, weights (1-t, t) per axis.
    case bilinear
    /// 6x6 taps, separable Lanczos-3 kernel `sinc(x) sinc(x/3)`, |x| < 3, weights normalized to sum 1.
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
        var n = 0
        for c in coverage where c != 0 { n += 1 }
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
public func warp(_ image: Image, outputToSource: SimilarityTransform, width: Int, height: Int,
                 options: WarpOptions = WarpOptions()) -> WarpResult {
    precondition(width > 0 && height > 0, "warp output size must be positive")
    var out = [Float](repeating: .nan, count: width * height * image.channels)
    var coverage = [UInt8](repeating: 0, count: width * height)
    let (a, b) = outputToSource.linear
    let tx = outputToSource.tx, ty = outputToSource.ty
    let sw = image.width, sh = image.height
    let channels = image.channels, srcPlane = image.planeSize, dstPlane = width * height
    let radius = options.interpolation == .lanczos3 ? 3 : 1
    let taps = 2 * radius
    let clamp = options.clampRinging && options.interpolation == .lanczos3
    let eps = 1e-9

    image.pixels.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            coverage.withUnsafeMutableBufferPointer { cov in
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
                                guard sx >= -eps, sx <= Double(sw - 1) + eps,
                                      sy >= -eps, sy <= Double(sh - 1) + eps else { continue }
                                let ix = Int(sx.rounded(.down)), iy = Int(sy.rounded(.down))
                                let x0 = ix - radius + 1, y0 = iy - radius + 1
                                let wxs = WarpKernel.weights(frac: sx - Double(ix), first: x0, count: sw,
                                                             lanczos: radius == 3, into: wx)
                                let wys = WarpKernel.weights(frac: sy - Double(iy), first: y0, count: sh,
                                                             lanczos: radius == 3, into: wy)
                                let norm = 1 / (wxs * wys)
                                var valid = true
                                for c in 0..<channels {
                                    let base = c * srcPlane
                                    var acc = 0.0
                                    for j in 0..<taps {
                                        let w = wy[j]
                                        if w == 0 { continue }
                                        let row = base + (y0 + j) * sw + x0
                                        var rowAcc = 0.0
                                        for i in 0..<taps where wx[i] != 0 {
                                            rowAcc += wx[i] * Double(src[row + i])
                                        }
                                        acc += w * rowAcc
                                    }
                                    var v = acc * norm
                                    if !v.isFinite { valid = false; break }
                                    if clamp {
                                        let cx0 = max(0, min(ix, sw - 1)), cx1 = min(ix + 1, sw - 1)
                                        let cy0 = max(0, min(iy, sh - 1)), cy1 = min(iy + 1, sh - 1)
                                        let p00 = Double(src[base + cy0 * sw + cx0]), p10 = Double(src[base + cy0 * sw + cx1])
                                        let p01 = Double(src[base + cy1 * sw + cx0]), p11 = Double(src[base + cy1 * sw + cx1])
                                        v = min(max(v, min(min(p00, p10), min(p01, p11))), max(max(p00, p10), max(p01, p11)))
                                    }
                                    dst[c * dstPlane + oy * width + ox] = Float(v)
                                }
                                if valid {
                                    cov[oy * width + ox] = 1
                                } else {
                                    for c in 0..<channels { dst[c * dstPlane + oy * width + ox] = .nan }
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
    /// `(sin(pi k / 3), cos(pi k / 3))` for the tap offset k = j - 2 of tap j (j in 0..<6), exact constants.
    @inline(__always)
    static func thirdAngle(_ j: Int) -> (sin: Double, cos: Double) {
        let h = 0.866_025_403_784_438_6 // sqrt(3) / 2
        switch j {
        case 0: return (-h, -0.5)
        case 1: return (-h, 0.5)
        case 2: return (0, 1)
        case 3: return (h, 0.5)
        case 4: return (h, -0.5)
        default: return (0, -1)
        }
    }

    /// Fills `w` with the taps' weights for a sample at fractional offset `frac` in [0, 1) past the
    /// tap at `first + radius - 1`, zeroing taps outside [0, count). Returns the sum of the weights.
    @inline(__always)
    static func weights(frac t: Double, first: Int, count: Int, lanczos: Bool,
                        into w: UnsafeMutableBufferPointer<Double>) -> Double {
        var sum = 0.0
        if !lanczos {
            w[0] = first >= 0 && first < count ? 1 - t : 0
            w[1] = first + 1 >= 0 && first + 1 < count ? t : 0
            return w[0] + w[1]
        }
        // L(d) = 3 sin(pi d) sin(pi d / 3) / (pi d)^2 with d = t - k. Using
        // sin(pi (t - k)) = (-1)^k sin(pi t) and the angle-difference formula for sin((pi t - pi k) / 3),
        // three transcendental calls give all six weights; at t == 0 they are exactly 1 and 0.
        let s1 = sin(Double.pi * t)
        let s3 = sin(Double.pi * t / 3), c3 = cos(Double.pi * t / 3)
        for j in 0..<6 {
            let k = j - 2
            let idx = first + j
            guard idx >= 0 && idx < count else { w[j] = 0; continue }
            let d = t - Double(k)
            let v: Double
            if d == 0 {
                v = 1
            } else {
                let sPi = (k & 1) == 0 ? s1 : -s1
                let (sk, ck) = thirdAngle(j)
                let sThird = s3 * ck - c3 * sk
                v = 3 * sPi * sThird / (Double.pi * Double.pi * d * d)
            }
            w[j] = v
            sum += v
        }
        return sum
    }
}
