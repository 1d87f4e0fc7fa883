import Foundation

/// How the global background B_f of a frame is measured (`normalization.mode`).
public enum BackgroundMode: String, Sendable, Codable, CaseIterable {
    /// Stars masked (sigma-clipped threshold + dilation), then the median of the unmasked pixels.
    case background
    /// Plain median of all finite pixels.
    case median
}

/// Global background of one image plane.
public struct BackgroundEstimate: Sendable, Equatable {
    /// Background level: median of the unmasked finite pixels (`.background`) or of all finite pixels (`.median`).
    public var level: Float
    /// Noise sigma: 1.4826 · MAD of the same pixels as `level`, on the unsmoothed data.
    public var noise: Float
    /// Fraction of the plane's pixels excluded by the star mask (0 in `.median` mode).
    public var maskedFraction: Double

    /// An estimate from explicit values.
    public init(level: Float, noise: Float, maskedFraction: Double) {
        self.level = level
        self.noise = noise
        self.maskedFraction = maskedFraction
    }
}

extension Statistics {
    /// Sources above the background in plane `plane` of `image`, as a row-major `width·height` mask
    /// (true = source or its surroundings, to be excluded from background statistics).
    ///
    /// The background location and sigma come from sigma clipping (kappa 3, 5 rounds) of the plane's
    /// finite pixels; for planes above `sampleLimit` pixels the clipping runs on a fixed-stride subset
    /// (deterministic). A pixel is a seed when its value > location + `kappa`·sigma; every seed then
    /// marks a disk of radius `dilate` pixels (Euclidean, `dilate` 0 = seeds only).
    /// Non-finite pixels are marked too, so they never count as background.
    public static func starMask(_ image: Image, plane: Int = 0, kappa: Float = 3, dilate: Int = 3,
                                sampleLimit: Int = 1 << 20) -> [Bool] {
        precondition(plane >= 0 && plane < image.channels, "plane out of range")
        let w = image.width, h = image.height, n = w * h
        var mask = [Bool](repeating: false, count: n)
        image.pixels.withUnsafeBufferPointer { all in
            let px = UnsafeBufferPointer(rebasing: all[(plane * n)..<((plane + 1) * n)])
            let stride = max(1, n / max(1, sampleLimit))
            var sample = [Float]()
            sample.reserveCapacity(n / stride + 1)
            var i = 0
            while i < n { if px[i].isFinite { sample.append(px[i]) }; i += stride }
            guard let stats = sample.withUnsafeMutableBufferPointer({ sigmaClip($0, kappa: 3, iterations: 5) }) else {
                return  // nothing finite: caller sees an all-false mask and no usable pixels
            }
            let threshold = Float(stats.median + Double(kappa) * stats.sigma)
            // disk spans: for each dy, the half-width of the disk row
            let r = max(0, dilate)
            let spans = (0...r).map { dy in Int((Double(r * r - dy * dy)).squareRoot().rounded(.down)) }
            mask.withUnsafeMutableBufferPointer { m in
                for y in 0..<h {
                    let row = UnsafeBufferPointer(rebasing: px[(y * w)..<((y + 1) * w)])
                    for x in 0..<w {
                        let v = row[x]
                        if v.isFinite && !(v > threshold) { continue }
                        if r == 0 || !v.isFinite { m[y * w + x] = true; continue }
                        for dy in -r...r {
                            let yy = y + dy
                            if yy < 0 || yy >= h { continue }
                            let half = spans[abs(dy)]
                            let x0 = max(0, x - half), x1 = min(w - 1, x + half)
                            let base = yy * w
                            for xx in x0...x1 { m[base + xx] = true }
                        }
                    }
                }
            }
        }
        return mask
    }

    /// Global background of plane `plane` (METHOD phase 2/3: B_f and sigma_f).
    ///
    /// `.background`: pixels under `starMask(kappa: kappa, dilate: dilate)` are excluded; level is the
    /// median and noise 1.4826·MAD of the remaining finite pixels. If the mask would leave fewer than
    /// 1 % of the pixels, the mask is ignored (level from all finite pixels) rather than failing.
    /// `.median`: level and noise from all finite pixels, `maskedFraction` 0.
    /// Returns nil only when the plane has no finite pixel.
    public static func background(_ image: Image, plane: Int = 0, mode: BackgroundMode = .background,
                                  kappa: Float = 3, dilate: Int = 3, sampleStride: Int = 1) -> BackgroundEstimate? {
        backgroundAndMask(image, plane: plane, mode: mode, kappa: kappa, dilate: dilate, sampleStride: sampleStride).estimate
    }

    /// `background(_:plane:mode:kappa:dilate:)` and, in `.background` mode, the `starMask` it used
    /// (nil in `.median` mode), so a caller that needs both computes the mask once.
    ///
    /// `sampleStride` > 1 estimates from a fixed subsample instead: the clipping threshold of the mask
    /// from about `planeSize / sampleStride` pixels (at most 2^16: the 3-sigma threshold of 6.5 * 10^4
    /// sky samples is within ~0.01 sigma of that of every pixel), level and noise from every `sampleStride`-th
    /// unmasked pixel (in row-major order). A robust value from ~10^5 samples is as good as from every
    /// pixel (its statistical error is ~0.3 %), at a fraction of the selections. Deterministic.
    public static func backgroundAndMask(_ image: Image, plane: Int = 0, mode: BackgroundMode = .background,
                                         kappa: Float = 3, dilate: Int = 3,
                                         sampleStride: Int = 1) -> (estimate: BackgroundEstimate?, mask: [Bool]?) {
        precondition(plane >= 0 && plane < image.channels, "plane out of range")
        let n = image.planeSize
        var values = [Float]()
        var maskedFraction = 0.0
        var usedMask: [Bool]? = nil
        image.pixels.withUnsafeBufferPointer { all in
            let px = UnsafeBufferPointer(rebasing: all[(plane * n)..<((plane + 1) * n)])
            if mode == .background {
                let stride = max(1, sampleStride)
                let mask = starMask(image, plane: plane, kappa: kappa, dilate: dilate,
                                    sampleLimit: stride > 1 ? max(1, min(n / stride, 1 << 16)) : 1 << 20)
                usedMask = mask
                values.reserveCapacity(n / stride + 1)
                mask.withUnsafeBufferPointer { m in
                    if stride == 1 {
                        for i in 0..<n where !m[i] && px[i].isFinite { values.append(px[i]) }
                    } else {
                        var i = 0
                        while i < n { if !m[i] && px[i].isFinite { values.append(px[i]) }; i += stride }
                    }
                }
                var usable = values.count
                if stride > 1 {
                    usable = 0
                    mask.withUnsafeBufferPointer { m in for i in 0..<n where !m[i] && px[i].isFinite { usable += 1 } }
                }
                if usable * 100 >= n {
                    maskedFraction = Double(n - usable) / Double(n)
                    return
                }
                values.removeAll(keepingCapacity: true)
            }
            values = finiteCopy(px)
        }
        let estimate = values.withUnsafeMutableBufferPointer { buf -> BackgroundEstimate? in
            // Sample-bracketed medians (the same order statistics, so the same bits; quickselect on a miss).
            guard let level = quantileBracketed(UnsafeBufferPointer(buf), 0.5) ?? selectQuantile(buf, 0.5) else { return nil }
            for i in 0..<buf.count { buf[i] = abs(buf[i] - level) }
            let mad = quantileBracketed(UnsafeBufferPointer(buf), 0.5) ?? selectQuantile(buf, 0.5)!
            return BackgroundEstimate(level: level, noise: Float(madToSigma * Double(mad)),
                                      maskedFraction: maskedFraction)
        }
        return (estimate, usedMask)
    }
}
