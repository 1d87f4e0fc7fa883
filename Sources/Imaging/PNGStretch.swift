import Foundation

/// The display stretch for previews of linear data (never applied to data the pipeline uses).
///
/// Per plane: black point `b = median - blackSigmas * 1.4826 * MAD`, white point `w` = the
/// `whiteQuantile` quantile; `x = clamp((v - b) / (w - b), 0, 1)`, displayed as
/// `asinh(beta * x) / asinh(beta)` with beta chosen (bisection) so that the median maps to
/// `targetBackground`. NaN pixels are black. Statistics come from at most `maxSamples` pixels
/// taken at a fixed stride, so the result is deterministic.
public struct AsinhStretch: Sendable, Equatable {
    /// Robust sigmas below the median for the black point.
    public var blackSigmas: Double
    /// Quantile for the white point.
    public var whiteQuantile: Double
    /// Display level (0...1) of the sky background (the median).
    public var targetBackground: Double
    /// Pixels sampled per plane for the statistics.
    public var maxSamples: Int

    /// Defaults suited to deep-sky previews: black 2.8 sigma below the sky, white at the 99.95 %
    /// quantile, sky at 15 % grey.
    public init(blackSigmas: Double = 2.8, whiteQuantile: Double = 0.9995, targetBackground: Double = 0.15,
                maxSamples: Int = 500_000) {
        self.blackSigmas = blackSigmas
        self.whiteQuantile = whiteQuantile
        self.targetBackground = targetBackground
        self.maxSamples = maxSamples
    }

    /// Black point, white point and beta of one plane; nil when the plane has no finite pixel.
    public func parameters(_ plane: [Float]) -> (black: Double, white: Double, beta: Double)? {
        let step = max(1, plane.count / max(1, maxSamples))
        let sample = stride(from: 0, to: plane.count, by: step).map { plane[$0] }
        guard let median = Statistics.median(sample).map(Double.init),
              let high = Statistics.quantile(sample, whiteQuantile).map(Double.init) else { return nil }
        let mad = Double(Statistics.mad(sample) ?? 0)
        let black = median - blackSigmas * Statistics.madToSigma * mad
        let white = high > black ? high : black + max(1e-12, abs(black) * 1e-6)
        let m = min(max((median - black) / (white - black), 0), 1)
        return (black, white, Self.beta(midtone: m, target: targetBackground))
    }

    /// beta > 0 with `asinh(beta * m) / asinh(beta) == target` (bisection on log beta, 60 steps);
    /// 1e-3 (almost linear) when m >= target, 1e7 when even that is not enough.
    static func beta(midtone m: Double, target t: Double) -> Double {
        guard m > 0, m < t else { return m <= 0 ? 1e7 : 1e-3 }
        var lo = log(1e-3), hi = log(1e7)
        for _ in 0..<60 {
            let mid = (lo + hi) / 2, b = exp(mid)
            if asinh(b * m) / asinh(b) < t { lo = mid } else { hi = mid }
        }
        return exp((lo + hi) / 2)
    }

    /// The stretched 8-bit preview: gray for 1 plane, RGB for 3 (each plane stretched on its own),
    /// first plane only otherwise; box-averaged (NaN-aware) by the smallest integer factor that makes
    /// the width <= `maxWidth` (nil: full size).
    public func png(_ image: Image, maxWidth: Int? = nil) -> PNGImage {
        let small = image.downscaled(maxWidth: maxWidth)
        let planes = small.channels == 3 ? 3 : 1
        var out = [UInt8](repeating: 0, count: small.planeSize * planes)
        for c in 0..<planes {
            let plane = Array(small.pixels[(c * small.planeSize)..<((c + 1) * small.planeSize)])
            guard let (black, white, beta) = parameters(plane) else { continue }
            let scale = 1 / (white - black), norm = 1 / asinh(beta)
            plane.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    for i in 0..<src.count where src[i].isFinite {
                        let x = min(max((Double(src[i]) - black) * scale, 0), 1)
                        dst[i * planes + c] = UInt8((asinh(beta * x) * norm * 255).rounded())
                    }
                }
            }
        }
        // Sizes come from a valid Image, so the initializer cannot fail.
        return try! PNGImage(width: small.width, height: small.height, color: planes == 3 ? .rgb : .gray, pixels: out)
    }

    /// A diverging preview of a signed image (e.g. a difference) from its first plane: 0 is mid-grey
    /// (128), `v` maps to `128 + 127 * asinh(v / s) / asinh(range)` with s = 1.4826 MAD about 0 of
    /// the finite values and `range` = `sigmas`, clamped; NaN is black. Downscaled as in `png`.
    public static func diverging(_ image: Image, sigmas: Double = 20, maxWidth: Int? = nil) -> PNGImage {
        let small = image.downscaled(maxWidth: maxWidth)
        let plane = Array(small.pixels[0..<small.planeSize])
        let absValues = plane.map { abs($0) }
        let s = max(Double(Statistics.median(absValues) ?? 0) * Statistics.madToSigma, 1e-30)
        let norm = 1 / asinh(sigmas)
        var out = [UInt8](repeating: 0, count: small.planeSize)
        for i in 0..<plane.count where plane[i].isFinite {
            let y = min(max(asinh(Double(plane[i]) / s) * norm, -1), 1)
            out[i] = UInt8((128 + 127 * y).rounded())
        }
        return try! PNGImage(width: small.width, height: small.height, color: .gray, pixels: out)
    }
}

extension Image {
    /// A box-averaged copy, reduced by the smallest integer factor k with `ceil(width / k) <= maxWidth`
    /// (self when nil or already narrow enough). Each output pixel is the mean of the finite pixels of
    /// its k x k block (NaN when none), accumulated in double precision; edge blocks may be partial.
    public func downscaled(maxWidth: Int?) -> Image {
        guard let maxWidth, maxWidth > 0, width > maxWidth else { return self }
        let k = (width + maxWidth - 1) / maxWidth
        let ow = (width + k - 1) / k, oh = (height + k - 1) / k
        var out = Image(width: ow, height: oh, channels: channels, fill: .nan)
        var sum = [Double](repeating: 0, count: ow), count = [Int](repeating: 0, count: ow)
        pixels.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                for c in 0..<channels {
                    for oy in 0..<oh {
                        for i in 0..<ow { sum[i] = 0; count[i] = 0 }
                        for y in (oy * k)..<min(height, (oy + 1) * k) {
                            let row = UnsafeBufferPointer(rebasing: src[(c * planeSize + y * width)..<(c * planeSize + (y + 1) * width)])
                            for x in 0..<width where row[x].isFinite {
                                sum[x / k] += Double(row[x])
                                count[x / k] += 1
                            }
                        }
                        for ox in 0..<ow where count[ox] > 0 {
                            dst[c * ow * oh + oy * ow + ox] = Float(sum[ox] / Double(count[ox]))
                        }
                    }
                }
            }
        }
        return out
    }
}
