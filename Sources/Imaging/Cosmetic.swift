/// Cosmetic correction of a raw frame: isolated single-pixel spikes (hot and dead pixels, one-pixel
/// cosmic-ray hits) are replaced by the median of their 8 same-colour neighbours before anything
/// resamples the frame. Without it a hot pixel fixed on the sensor becomes, after registration with a
/// drifting field, a Lanczos-ringing blob that moves across the registered frames: rejection removes
/// most of it, but the tile metrics (gradient energy, local background) see it in every frame and
/// their weights turn noisy.
///
/// A pixel v is a spike when, with hi / lo the largest / smallest of its 8 neighbours and m their median
/// (at distance `step`: 1 for mono, 2 for a Bayer mosaic, so only same-colour pixels are compared), and b
/// the median of the 16 pixels two steps away (the local sky under a star's core):
/// - hot: v > hi, v - m > kappa * sigma and v - b > ratio * (hi - b);
/// - dead: v < lo, m - v > kappa * sigma and b - v > ratio * (b - lo).
/// The ratio test is what spares stars: a PSF sampled at FWHM f has its brightest neighbour at
/// 2^(-4/f^2) of the peak above the sky (0.5 at f = 2 px, 0.29 at 1.5 px), so with ratio 3 stars of
/// FWHM >= 1.7 px are never touched, while a hot pixel's neighbours are sky. sigma is the plane's robust
/// pixel noise (MAD of same-colour horizontal differences / sqrt 2). Decisions read the original pixels
/// only, so the result does not depend on scan order; a pair of adjacent hot pixels is left alone (each
/// has a bright neighbour) for the outlier rejection to find, and so is a pixel with a NaN within two
/// steps.
public enum Cosmetic {
    /// What was corrected.
    public struct Result: Sendable, Equatable {
        /// Hot pixels replaced.
        public var hot: Int
        /// Dead pixels replaced.
        public var dead: Int
        /// The noise used, per plane.
        public var sigma: [Float]
    }

    /// Corrects every plane of `image` in place; `step` 1 (mono / RGB planes) or 2 (a CFA mosaic).
    public static func correctSpikes(_ image: inout Image, step: Int, kappa: Float = 5, ratio: Float = 3) -> Result {
        precondition(step == 1 || step == 2)
        let w = image.width, h = image.height, n = image.planeSize
        var result = Result(hot: 0, dead: 0, sigma: [])
        guard w > 4 * step, h > 4 * step else { return result }
        let original = image.pixels
        original.withUnsafeBufferPointer { all in
            image.pixels.withUnsafeMutableBufferPointer { out in
                for c in 0..<image.channels {
                    let src = UnsafeBufferPointer(rebasing: all[(c * n)..<((c + 1) * n)])
                    let sigma = noise(src, width: w, height: h, step: step)
                    result.sigma.append(sigma)
                    guard sigma > 0, sigma.isFinite else { continue }
                    let threshold = kappa * sigma
                    var nb = [Float](repeating: 0, count: 8)
                    var ring = [Float](repeating: 0, count: 16)
                    nb.withUnsafeMutableBufferPointer { nb in
                    ring.withUnsafeMutableBufferPointer { ring in
                        /// The exact test of pixel x of row y (the SIMD scan below only preselects).
                        func check(_ x: Int, _ row: Int) {
                            let v = src[row + x]
                            let up = row - step * w, down = row + step * w
                            let l = src[row + x - step], r = src[row + x + step], u = src[up + x], d = src[down + x]
                            guard (v > l && v > r && v > u && v > d) || (v < l && v < r && v < u && v < d) else { return }
                            nb[0] = src[up + x - step]; nb[1] = src[up + x]; nb[2] = src[up + x + step]
                            nb[3] = src[row + x - step]; nb[4] = src[row + x + step]
                            nb[5] = src[down + x - step]; nb[6] = src[down + x]; nb[7] = src[down + x + step]
                            var hi = nb[0], lo = nb[0], sum = nb[0]
                            for k in 1..<8 { hi = max(hi, nb[k]); lo = min(lo, nb[k]); sum += nb[k] }
                            // Only strict local extrema can be spikes: most pixels stop here.
                            guard v > hi || v < lo, v.isFinite, sum.isFinite else { return }
                            // The median m lies in [lo, hi]: v - m > threshold needs v - lo > threshold
                            // (m - v > threshold needs hi - v > threshold), so a local extremum that
                            // fails this is decided without sorting its neighbours.
                            guard v > hi ? v - lo > threshold : hi - v > threshold else { return }
                            let m = median8(nb)
                            let isHot = v > hi && v - m > threshold, isDead = v < lo && m - v > threshold
                            guard isHot || isDead else { return }
                            var k = 0, ringSum: Float = 0
                            for dy in stride(from: -2 * step, through: 2 * step, by: step) {
                                for dx in stride(from: -2 * step, through: 2 * step, by: step)
                                where abs(dx) == 2 * step || abs(dy) == 2 * step {
                                    ring[k] = src[row + dy * w + x + dx]
                                    ringSum += ring[k]
                                    k += 1
                                }
                            }
                            guard ringSum.isFinite else { return }
                            let b = median16(ring)
                            if isHot, v - b > ratio * (hi - b) {
                                out[c * n + row + x] = m
                                result.hot += 1
                            } else if isDead, b - v > ratio * (b - lo) {
                                out[c * n + row + x] = m
                                result.dead += 1
                            }
                        }
                        let xStart = 2 * step, xEnd = w - 2 * step
                        let raw = UnsafeRawPointer(src.baseAddress!)
                        let fs = MemoryLayout<Float>.stride
                        let o0 = (-step * w - step) * fs, o1 = (-step * w) * fs, o2 = (-step * w + step) * fs
                        let o3 = -step * fs, o4 = step * fs
                        let o5 = (step * w - step) * fs, o6 = (step * w) * fs, o7 = (step * w + step) * fs
                        let t = SIMD8<Float>(repeating: threshold)
                        for y in (2 * step)..<(h - 2 * step) {
                            let row = y * w
                            var x = xStart
                            // Preselection, 8 pixels at a time: a spike is above (below) all 8 neighbours,
                            // i.e. their max (min), and further than the threshold from their min (max): their
                            // median lies between the two, and a Float difference is monotone in each operand,
                            // so v - min >= v - m. Every pixel the exact test in `check` corrects passes (a
                            // NaN anywhere fails `check`, whatever min/max make of it); in noise ~1 % do.
                            while x + 8 <= xEnd {
                                let p = raw + (row + x) * fs
                                let v = p.loadUnaligned(as: SIMD8<Float>.self)
                                @inline(__always) func at(_ o: Int) -> SIMD8<Float> { (p + o).loadUnaligned(as: SIMD8<Float>.self) }
                                let n0 = at(o0), n1 = at(o1), n2 = at(o2), n3 = at(o3)
                                let n4 = at(o4), n5 = at(o5), n6 = at(o6), n7 = at(o7)
                                // Larger / smaller of two lanes by a compare and a select (a NaN lane keeps `a`).
                                @inline(__always) func mx(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { a.replacing(with: b, where: b .> a) }
                                @inline(__always) func mn(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { a.replacing(with: b, where: b .< a) }
                                let hi = mx(mx(mx(n0, n1), mx(n2, n3)), mx(mx(n4, n5), mx(n6, n7)))
                                let lo = mn(mn(mn(n0, n1), mn(n2, n3)), mn(mn(n4, n5), mn(n6, n7)))
                                let mask = (v .> hi) .& (v - lo .> t) .| (v .< lo) .& (v - hi .< -t)
                                if any(mask) {
                                    for i in 0..<8 where mask[i] { check(x + i, row) }
                                }
                                x += 8
                            }
                            while x < xEnd { check(x, row); x += 1 }
                        }
                    }
                    }
                }
            }
        }
        return result
    }

    /// Robust pixel noise of one plane: 1.4826 MAD of same-colour horizontal differences / sqrt 2, on
    /// every 4th row (plenty of samples, and NaN differences skipped).
    static func noise(_ p: UnsafeBufferPointer<Float>, width w: Int, height h: Int, step: Int) -> Float {
        // The finite differences in order, each written and kept (the end advanced) without a branch.
        let diffs = [Float](unsafeUninitializedCapacity: (h / 4 + 1) * w) { dst, filled in
            var k = 0, y = 0
            while y < h {
                let row = p.baseAddress! + y * w
                for x in 0..<max(0, w - step) {
                    let d = row[x + step] - row[x]
                    dst[k] = d
                    k &+= d.isFinite ? 1 : 0
                }
                y += 4
            }
            filled = k
        }
        guard let mad = Statistics.mad(diffs) else { return 0 }
        return 1.4826 * mad / Float(2).squareRoot()
    }

    /// Median of 8 values (mean of the 4th and 5th smallest); reorders `a`.
    static func median8(_ a: UnsafeMutableBufferPointer<Float>) -> Float {
        sortSmall(a)
        return (a[3] + a[4]) / 2
    }

    /// Median of 16 values (mean of the 8th and 9th smallest); reorders `a`.
    static func median16(_ a: UnsafeMutableBufferPointer<Float>) -> Float {
        sortSmall(a)
        return (a[7] + a[8]) / 2
    }

    /// Insertion sort of a handful of finite values (deterministic).
    static func sortSmall(_ a: UnsafeMutableBufferPointer<Float>) {
        for i in 1..<a.count {
            let v = a[i]
            var j = i - 1
            while j >= 0 && a[j] > v { a[j + 1] = a[j]; j -= 1 }
            a[j + 1] = v
        }
    }
}
