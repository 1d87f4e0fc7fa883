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
    /// (deterministic). The clip is `sigmaClipBracketed` (bracketed medians and lane sums: `sigmaClip`'s
    /// median and clipping decisions, its sigma up to the last bits, with fewer instructions). A pixel is a seed when its value > location + `kappa`·sigma; every seed then
    /// marks a disk of radius `dilate` pixels (Euclidean, `dilate` 0 = seeds only).
    /// Non-finite pixels are marked too, so they never count as background.
    public static func starMask(_ image: Image, plane: Int = 0, kappa: Float = 3, dilate: Int = 3,
                                sampleLimit: Int = 1 << 20) -> [Bool] {
        precondition(plane >= 0 && plane < image.channels, "plane out of range")
        let n = image.planeSize
        return image.pixels.withUnsafeBufferPointer { all in
            starMaskCounted(UnsafeBufferPointer(rebasing: all[(plane * n)..<((plane + 1) * n)]), width: image.width,
                            height: image.height, kappa: kappa, dilate: dilate, sampleLimit: sampleLimit).mask
        }
    }

    /// `starMask` of a `width x height` plane, and how many of its entries are true (nil when nothing
    /// was thresholded because the clipping sample holds no finite value: the mask is then all false).
    ///
    /// The threshold scan runs eight pixels at a time (seed = non-finite, or above the threshold, the
    /// scalar test's complement lane by lane); only a vector holding a seed is looked at pixel by
    /// pixel. A run of adjacent finite seeds in a row marks, on each disk row, the one interval that
    /// is the union of the seeds' disk rows (all seeds of a row share the half-widths): the same
    /// marked set as one disk per seed.
    static func starMaskCounted(_ px: UnsafeBufferPointer<Float>, width w: Int, height h: Int, kappa: Float,
                                dilate: Int, sampleLimit: Int) -> (mask: [Bool], marked: Int?) {
        let n = w * h
        precondition(px.count == n)
        var mask = [Bool](repeating: false, count: n)
        guard n > 0, let base = px.baseAddress else { return (mask, nil) }
        let stride = max(1, n / max(1, sampleLimit))
        var sample = [Float](unsafeUninitializedCapacity: n / stride + 1) { dst, filled in
            var m = 0, i = 0
            while i < n { let v = px[i]; dst[m] = v; m &+= v.isFinite ? 1 : 0; i += stride }
            filled = m
        }
        var scratch = [Float](repeating: 0, count: max(1, sample.count))
        let clipped = sample.withUnsafeMutableBufferPointer { s in
            scratch.withUnsafeMutableBufferPointer { sigmaClipBracketed(s, kappa: 3, iterations: 5, scratch: $0.baseAddress!) }
        }
        guard let stats = clipped else {
            return (mask, nil)  // nothing finite: caller sees an all-false mask and no usable pixels
        }
        let threshold = Float(stats.median + Double(kappa) * stats.sigma)
        // disk spans: for each dy, the half-width of the disk row
        let r = max(0, dilate)
        let spans = (0...r).map { dy in Int((Double(r * r - dy * dy)).squareRoot().rounded(.down)) }
        mask.withUnsafeMutableBufferPointer { mb in
            let m = mb.baseAddress!
            /// Marks the disk rows of the finite seeds `x0 ... x1` of row `y`.
            @inline(__always) func markRun(_ y: Int, _ x0: Int, _ x1: Int) {
                for dy in -r...r {
                    let yy = y + dy
                    if yy < 0 || yy >= h { continue }
                    let half = spans[abs(dy)]
                    let a = max(0, x0 - half), b = min(w - 1, x1 + half)
                    (m + yy * w + a).update(repeating: true, count: b - a + 1)
                }
            }
            let thresholdV = SIMD8<Float>(repeating: threshold)
            let magnitude = SIMD8<UInt32>(repeating: 0x7fff_ffff), infBits = SIMD8<UInt32>(repeating: 0x7f80_0000)
            for y in 0..<h {
                let row = base + y * w
                var runStart = -1, runEnd = -2  // the pending run of finite seeds
                @inline(__always) func seed(_ x: Int, _ v: Float) {
                    if !v.isFinite { m[y * w + x] = true; return }
                    if r == 0 { m[y * w + x] = true; return }
                    if x == runEnd + 1 { runEnd = x; return }
                    if runStart >= 0 { markRun(y, runStart, runEnd) }
                    runStart = x; runEnd = x
                }
                var x = 0
                while x + 8 <= w {
                    let v = UnsafeRawPointer(row + x).loadUnaligned(as: SIMD8<Float>.self)
                    let nonFinite = (unsafeBitCast(v, to: SIMD8<UInt32>.self) & magnitude) .>= infBits
                    let s = nonFinite .| (v .> thresholdV)
                    if any(s) {
                        if all(nonFinite) {
                            (m + y * w + x).update(repeating: true, count: 8)
                        } else {
                            for lane in 0..<8 where s[lane] { seed(x + lane, v[lane]) }
                        }
                    }
                    x += 8
                }
                while x < w {
                    let v = row[x]
                    if !(v.isFinite && !(v > threshold)) { seed(x, v) }
                    x += 1
                }
                if runStart >= 0 { markRun(y, runStart, runEnd) }
            }
        }
        return (mask, trueCount(mask))
    }

    /// Number of true entries of `mask` (a `Bool` is stored as the byte 0 or 1).
    static func trueCount(_ mask: [Bool]) -> Int {
        mask.withUnsafeBytes { raw in
            let n = raw.count
            // Bytes are added lane-wise in a UInt64 (each byte is 0 or 1, so 255 words cannot carry
            // between bytes), then folded: no population-count instruction needed.
            var count = 0, i = 0
            while i + 8 <= n {
                var acc: UInt64 = 0
                let end = min(n - 7, i + 8 * 255)
                while i < end {
                    acc &+= raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                    i += 8
                }
                let pairs = (acc & 0x00ff_00ff_00ff_00ff) &+ ((acc >> 8) & 0x00ff_00ff_00ff_00ff)
                count &+= Int((pairs &* 0x0001_0001_0001_0001) >> 48)
            }
            while i < n { count &+= Int(raw[i]); i += 1 }
            return count
        }
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

    /// Largest sigma-clip sample of `backgroundAndMask`'s star mask when `sampleStride` > 1.
    public static let clipSampleLimit = 1 << 14

    /// `background(_:plane:mode:kappa:dilate:)` and, in `.background` mode, the `starMask` it used
    /// (nil in `.median` mode), so a caller that needs both computes the mask once.
    ///
    /// `sampleStride` > 1 estimates from a fixed subsample instead: the clipping threshold of the mask
    /// from about `planeSize / sampleStride` pixels (at most `clipSampleLimit`, 2^14: the 3-sigma threshold
    /// of 1.6 * 10^4 sky samples is within ~0.03 sigma of that of every pixel, which moves ~10^-4 of the
    /// pixels across it), level and noise from every `sampleStride`-th
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
                let (mask, marked) = starMaskCounted(px, width: image.width, height: image.height, kappa: kappa, dilate: dilate,
                                                     sampleLimit: stride > 1 ? max(1, min(n / stride, clipSampleLimit)) : 1 << 20)
                usedMask = mask
                var usable = 0
                mask.withUnsafeBufferPointer { m in
                    values = unmaskedSample(px, mask: m, stride: stride)
                    if stride == 1 {
                        usable = values.count
                    } else if let marked {
                        // Every non-finite pixel is marked: the unmasked pixels are the usable ones.
                        usable = n - marked
                    } else {
                        for i in 0..<n where !m[i] && px[i].isFinite { usable += 1 }
                    }
                }
                if usable * 100 >= n {
                    maskedFraction = Double(n - usable) / Double(n)
                    return
                }
                values.removeAll(keepingCapacity: true)
            }
            values = finiteCopy(px)
        }
        let estimate = levelAndNoise(&values).map {
            BackgroundEstimate(level: $0.level, noise: $0.noise, maskedFraction: maskedFraction)
        }
        return (estimate, usedMask)
    }
}

extension Statistics {
    /// Noise of a plane outside a known source mask: 1.4826 · MAD (about the median) of every
    /// `sampleStride`-th finite pixel in row-major order that `mask` leaves free (false). For a
    /// plane whose sources were already masked (e.g. by `backgroundAndMask` on the same data before a
    /// scaling or a background subtraction) this is `background(...).noise` without a second sigma clip
    /// and mask. nil when no pixel qualifies.
    public static func maskedNoise(_ px: UnsafeBufferPointer<Float>, mask: [Bool], sampleStride: Int = 1) -> Float? {
        precondition(mask.count == px.count, "mask size")
        var values = mask.withUnsafeBufferPointer { unmaskedSample(px, mask: $0, stride: max(1, sampleStride)) }
        return levelAndNoise(&values)?.noise
    }

    /// Every `stride`-th value of `px` (in order) that is finite and free in `mask` (false).
    static func unmaskedSample(_ px: UnsafeBufferPointer<Float>, mask m: UnsafeBufferPointer<Bool>, stride: Int) -> [Float] {
        let n = px.count
        return [Float](unsafeUninitializedCapacity: n / stride + 1) { dst, filled in
            var k = 0, i = 0
            if stride == 1 {
                for i in 0..<n {
                    let v = px[i]
                    dst[k] = v
                    k &+= (m[i] ? 0 : 1) & (v.isFinite ? 1 : 0)
                }
            } else {
                while i < n {
                    let v = px[i]
                    dst[k] = v
                    k &+= (m[i] ? 0 : 1) & (v.isFinite ? 1 : 0)
                    i += stride
                }
            }
            filled = k
        }
    }

    /// The median of `values` and 1.4826 · MAD about it (sample-bracketed medians: the same order
    /// statistics, so the same bits; quickselect on a miss); `values` is overwritten. nil when empty.
    static func levelAndNoise(_ values: inout [Float]) -> (level: Float, noise: Float)? {
        values.withUnsafeMutableBufferPointer { buf -> (level: Float, noise: Float)? in
            guard let level = quantileBracketed(UnsafeBufferPointer(buf), 0.5) ?? selectQuantile(buf, 0.5) else { return nil }
            for i in 0..<buf.count { buf[i] = abs(buf[i] - level) }
            guard let mad = quantileBracketed(UnsafeBufferPointer(buf), 0.5) ?? selectQuantile(buf, 0.5) else { return nil }
            return (level, Float(madToSigma * Double(mad)))
        }
    }
}
